"""Benchmark the web app as one gunicorn worker sees it: import, reading the bank, first and later Overview renders.

For each size a demo bank is written to a temporary SQLite file; a fresh interpreter then imports ``dashapp.app``
and asks the Dash Pages router for ``/`` through Flask's test client (the same request the browser makes).
Writes ``bench/results/app.json``. Usage: ``python bench/bench_app.py [--sizes 10000 50000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "app.json"
SIZES = (10_000, 50_000)

_WRITE = """
import sys
from bankdata import generate_bank, write_bank
write_bank(generate_bank(n_customers=int(sys.argv[1]), seed=42), url=sys.argv[2])
"""

# Runs in the child: one fresh "worker" process.
_WORKER = """
import json, resource, time
t0 = time.perf_counter()
from dashapp.app import app
import_s = time.perf_counter() - t0
from dashapp.auth import User
# Signed in as an admin without a users table: the sign-in itself is measured by bench_load.py.
app.server.login_manager._user_callback = lambda uid: User(id=uid, role="admin") if uid == "bench" else None
client = app.server.test_client()
with client.session_transaction() as session:
    session["_user_id"] = "bench"
    session["_fresh"] = True
client.get("/")
deps = client.get("/_dash-dependencies").get_json()
router = next(d for d in deps if "_pages_content.children" in d["output"])
payload = {"output": router["output"],
           "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
           "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                      {"id": "_pages_location", "property": "search", "value": ""}],
           "changedPropIds": ["_pages_location.pathname"], "state": []}
def render():
    t = time.perf_counter()
    r = client.post("/_dash-update-component", json=payload)
    assert r.status_code == 200 and b"overview-monthly" in r.data, r.data[:300]
    return time.perf_counter() - t, len(r.data)
from dashapp.services.bank import get_bank
t = time.perf_counter(); get_bank(); read_s = time.perf_counter() - t
cold_s, size = render()
warm = sorted(render()[0] for _ in range(5))
t = time.perf_counter(); client.get("/healthz"); health_s = time.perf_counter() - t
print(json.dumps({"import_seconds": round(import_s, 2), "read_bank_seconds": round(read_s, 2),
                  "first_overview_seconds": round(cold_s, 2),
                  "warm_overview_seconds_median": round(warm[2], 3), "overview_response_kib": round(size / 1024, 1),
                  "healthz_seconds": round(health_s, 3),
                  "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}))
"""


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise RuntimeError(f"benchmark step failed:\n{done.stderr[-2000:]}")
    return done.stdout


def run_one(n: int) -> dict:
    """Write a bank of ``n`` customers, then time a fresh worker rendering the Overview."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bank.db'}"
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "DATABASE_URL": url,
               "LEDGERLIGHT_CHECKPOINTS": str(Path(tmp) / "checkpoints"), "LEDGERLIGHT_DATA_DIR": tmp}
        _run(_WRITE, str(n), url, env=env)
        load = os.getloadavg()[0]
        measured = json.loads(_run(_WORKER, env=env).strip().splitlines()[-1])
    return {
        "benchmark": "app",
        "size": n,
        "unit": "customers",
        **measured,
        "figure": "read_bank_seconds: first get_bank() in a worker; first_overview_seconds: then aggregate, build "
                  "figures and serialise /; warm: cached aggregates",
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "load_avg_1m_at_start": round(load, 2),
        "note": "shared machine: wall seconds include waiting for CPU",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        results.append(run_one(n))
        print(json.dumps(results[-1]), flush=True)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
