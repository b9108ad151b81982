"""Benchmark the JSON API (``/api/v1``) on gunicorn with 2 workers, 20 concurrent clients, and the events worker.

For each size and database (``bench/deployment.py`` builds and caches the deployment), with an admin API key whose
rate limit is out of the way, it records
- ``score``: ``POST /risk/score`` of one applicant (PD, band, decision, reasons, recourse) by 20 clients at once for
  ``--seconds``: p50/p95/p99 ms, calls/s, errors; target p95 <= 50 ms;
- ``recommendations``: ``GET /customers/{id}/recommendations?n=5`` of random customers, same load; target p95 <= 30
  ms (the issue's figure is at 1M customers);
- ``events``: batches of 500 new interaction events posted one after the other (one client) and by 4 clients at once:
  events accepted per second; target >= 2,000/s;
- ``reflect``: a purchase of a customer's lowest-ranked ALS product posted, ``ledgerlight events worker`` running
  (default interval 15 s), the customer's ALS list polled every 0.25 s: seconds until the product is no longer offered
  (``held_out_seconds``: immediate, the held-products rule) and until the list is refolded (its scores change,
  ``refolded_seconds``); target <= 60 s.
Writes ``bench/results/api.json``. Usage: ``python bench/bench_api.py [--sizes 50000 1000000] [--databases sqlite]``.
PostgreSQL runs too when ``DATABASE_URL_BENCH`` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine  # noqa: E402

from bench.bench_load import free_port, start_gunicorn, stop, worker_pids  # noqa: E402
from bench.deployment import Deployment, deployment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "api.json"
SIZES = (50_000, 1_000_000)
CLIENTS = 20
WORKERS = 2
THREADS = 4
BATCH = 500
TARGETS = {
    "score_p95_ms": 50.0,
    "recommendations_p95_ms": 30.0,
    "events_per_s": 2000.0,
    "reflect_seconds": 60.0,
}
API = "/api/v1"


def _python(dep: Deployment, code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=dep.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"helper failed: {done.stderr[-2000:]}")
    return done.stdout


def api_key(dep: Deployment) -> str:
    """A new admin key with a rate limit far above what the benchmark sends."""
    out = _python(
        dep,
        "import sys\nfrom dashapp.api.keys import create_key\n"
        "print(create_key(sys.argv[1], 'admin', rate_per_s=10_000, burst=100_000))",
        f"bench-{secrets.token_hex(4)}",
    )
    return out.strip().splitlines()[-1]


def fixtures(dep: Deployment) -> dict[str, Any]:
    """Applicants (features of real borrowers), customer ids with history, product ids and the newest event time."""
    code = """
import json, sys
import numpy as np, sqlalchemy as sa
from bankdata import BANK_TABLES, query
from dashapp.services import risk as risk_service
spec = risk_service.get_model().spec
L, C, I = BANK_TABLES["loans"], BANK_TABLES["customers"], BANK_TABLES["interactions"]
loans = query(sa.select(L).order_by(L.c.loan_id.desc()).limit(200))
cust = query(sa.select(C).where(C.c.customer_id.in_([int(i) for i in loans["customer_id"].unique()])))
rows = loans.merge(cust, on="customer_id", suffixes=("", "_c"))
apps = []
for _, r in rows.iterrows():
    one = {}
    for f in spec.features:
        v = r[f]
        one[f] = v if isinstance(v, str) else (int(v) if float(v).is_integer() else float(v))
    apps.append(one)
n = query(sa.select(sa.func.max(C.c.customer_id)))
ids = query(sa.select(I.c.customer_id).distinct().limit(20000))["customer_id"].astype(int).tolist()
prods = query(sa.select(BANK_TABLES["products"].c.product_id))["product_id"].astype(int).tolist()
print(json.dumps({"applicants": apps[:100], "customers": ids, "products": prods}))
"""
    return json.loads(_python(dep, code).strip().splitlines()[-1])


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=float)
    if not len(a):
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {f"p{q}_ms": round(float(np.percentile(a, q)), 1) for q in (50, 95, 99)}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` used so far (``/proc/<pid>/stat``)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load(
    base: str, key: str, seconds: float, make: Any, clients: int = CLIENTS, pids: list[int] | None = None
) -> dict[str, Any]:
    """``clients`` threads, each with its own connection, sending ``make(i) -> (method, path, json)`` for
    ``seconds``; latencies of the answers that were 200, and the server's CPU milliseconds per call (gunicorn
    workers ``pids``: what the machine's load does not inflate, unlike the latencies)."""
    lat: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        i = n
        while time.monotonic() < stop_at:
            method, path, body = make(i)
            t0 = time.perf_counter()
            try:
                answer = session.request(method, base + path, json=body, timeout=30)
                code = str(answer.status_code)
            except requests.RequestException as exc:
                code = type(exc).__name__
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if code == "200":
                    lat.append(ms)
                else:
                    errors[code] = errors.get(code, 0) + 1
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu0 = cpu_seconds(pids or [])
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cpu = cpu_seconds(pids or []) - cpu0
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "calls": len(lat),
        "calls_per_s": round(len(lat) / wall, 1),
        "errors": errors,
        **_percentiles(lat),
        "server_cpu_ms_per_call": round(1000 * cpu / max(len(lat), 1), 2) if pids else None,
    }


def _events(tag: str, n: int, customers: list[int], products: list[int], event: str = "view") -> list[dict]:
    rng = random.Random(tag)
    return [
        {
            "event_id": f"{tag}-{i}",
            "customer_id": rng.choice(customers),
            "product_id": rng.choice(products),
            "ts": "2026-01-15T12:00:00",
            "event": event,
        }
        for i in range(n)
    ]


def events(base: str, key: str, fx: dict[str, Any], batches: int, clients: int) -> dict[str, Any]:
    """``batches`` batches of :data:`BATCH` new events, sent by ``clients`` at once: accepted events per second."""
    tag = f"bench-{secrets.token_hex(3)}-{clients}"
    bodies = [
        {"events": _events(f"{tag}-{b}", BATCH, fx["customers"], fx["products"])} for b in range(batches)
    ]
    accepted, lat, errors = [0], [], {}
    lock = threading.Lock()

    def client(n: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        for body in bodies[n::clients]:
            t0 = time.perf_counter()
            answer = session.post(f"{base}{API}/events", json=body, timeout=120)
            with lock:
                lat.append((time.perf_counter() - t0) * 1000)
                if answer.status_code == 200:
                    accepted[0] += int(answer.json()["accepted"])
                else:
                    errors[str(answer.status_code)] = errors.get(str(answer.status_code), 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "batch": BATCH,
        "batches": batches,
        "accepted": accepted[0],
        "seconds": round(wall, 2),
        "events_per_s": round(accepted[0] / wall, 0),
        "batch_p50_ms": _percentiles(lat)["p50_ms"],
        "batch_p95_ms": _percentiles(lat)["p95_ms"],
        "errors": errors,
    }


def _als(session: requests.Session, base: str, customer: int) -> list[tuple[int, float]]:
    answer = session.get(
        f"{base}{API}/customers/{customer}/recommendations", params={"n": 12, "model": "als"}, timeout=30
    )
    answer.raise_for_status()
    return [(int(r["product_id"]), float(r["score"])) for r in answer.json()["recommendations"]]


def reflect(
    dep: Deployment, base: str, key: str, fx: dict[str, Any], interval: float, timeout: float = 120
) -> dict[str, Any]:
    """Post a purchase with the events worker running; seconds until it shows in the customer's ALS list."""
    log = open(dep.root / "events-worker.log", "ab")  # noqa: SIM115 - the worker owns it until it stops
    worker = subprocess.Popen(
        [sys.executable, "-m", "ledgerlight", "events", "worker", "--interval", str(interval)],
        cwd=ROOT,
        env=dep.env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        time.sleep(min(interval, 5) + 8)  # its first round (models loaded, earlier events folded)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        rng = random.Random()  # a new customer each run (a run's purchase stays in the bank)
        for customer in rng.sample(fx["customers"], 200):
            before = _als(session, base, customer)
            if len(before) >= 4:  # the list left after the purchase shows whether it was refolded
                break
        product = before[-1][0]
        body = {
            "events": [
                {
                    "event_id": f"bench-reflect-{secrets.token_hex(4)}",
                    "customer_id": customer,
                    "product_id": product,
                    "ts": "2026-01-16T09:00:00",
                    "event": "purchase",
                }
            ]
        }
        posted = time.perf_counter()
        assert session.post(f"{base}{API}/events", json=body, timeout=30).status_code == 200
        held_out = refolded = None
        rest_before = [(p, s) for p, s in before if p != product]
        while time.perf_counter() - posted < timeout and refolded is None:
            now = _als(session, base, customer)
            elapsed = time.perf_counter() - posted
            if held_out is None and product not in [p for p, _ in now]:
                held_out = elapsed
            if [round(s, 5) for _, s in now] != [round(s, 5) for _, s in rest_before[: len(now)]]:
                refolded = elapsed
            time.sleep(0.25)
        return {
            "customer_id": customer,
            "product_id": product,
            "worker_interval_s": interval,
            "held_out_seconds": None if held_out is None else round(held_out, 2),
            "refolded_seconds": None if refolded is None else round(refolded, 2),
        }
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()


def run(size: int, database: str, seconds: float, interval: float) -> dict[str, Any]:
    dep = deployment(size, database)
    key, fx = api_key(dep), fixtures(dep)
    port = free_port()
    proc = start_gunicorn(dep, port, workers=WORKERS, threads=THREADS)
    base = f"http://127.0.0.1:{port}"
    try:
        apps, customers = fx["applicants"], fx["customers"]

        def score_call(i: int) -> tuple[str, str, Any]:
            return "POST", f"{API}/risk/score", {"applicants": [{"features": apps[i % len(apps)]}]}

        def recs_call(i: int) -> tuple[str, str, Any]:
            return (
                "GET",
                f"{API}/customers/{customers[(i * 7919) % len(customers)]}/recommendations?n=5",
                None,
            )

        pids = worker_pids(proc)
        load(base, key, 5, score_call)  # warm both workers' models and caches
        load(base, key, 5, recs_call)
        record: dict[str, Any] = {
            "benchmark": "api",
            "size": size,
            "database": database,
            "unit": "customers",
            "command": f"python bench/bench_api.py --sizes {size} --databases {database} --seconds {seconds:g} "
            f"--interval {interval:g}",
            "gunicorn": f"{WORKERS} workers x {THREADS} threads",
            "targets": TARGETS,
            "load_avg_1m_before_load": round(os.getloadavg()[0], 2),
            "score": load(base, key, seconds, score_call, pids=pids),
            "recommendations": load(base, key, seconds, recs_call, pids=pids),
            "events": [events(base, key, fx, 20, 1), events(base, key, fx, 20, 4)],
        }
        record["reflect"] = reflect(dep, base, key, fx, interval)
    finally:
        stop(proc)
    ev = max(e["events_per_s"] for e in record["events"])
    refl = record["reflect"]["refolded_seconds"]
    record["met"] = {
        "score_p95": record["score"]["p95_ms"] is not None
        and record["score"]["p95_ms"] <= TARGETS["score_p95_ms"],
        "recommendations_p95": record["recommendations"]["p95_ms"] is not None
        and record["recommendations"]["p95_ms"] <= TARGETS["recommendations_p95_ms"],
        "events_per_s": ev >= TARGETS["events_per_s"],
        "reflect_seconds": refl is not None and refl <= TARGETS["reflect_seconds"],
    }
    record["setup"] = dep.setup
    return {**record, **machine()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument(
        "--databases",
        nargs="*",
        default=None,
        help="sqlite, postgresql (default: sqlite, and postgresql when DATABASE_URL_BENCH is set)",
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="seconds of load per endpoint (default 20)"
    )
    parser.add_argument(
        "--interval", type=float, default=15.0, help="the events worker's interval (default 15)"
    )
    args = parser.parse_args(argv)
    databases = args.databases or (
        ["sqlite", "postgresql"] if os.environ.get("DATABASE_URL_BENCH") else ["sqlite"]
    )
    records = json.loads(RESULT.read_text(encoding="utf-8")) if RESULT.exists() else []
    for size in args.sizes:
        for database in databases:
            print(f"api: {size:,} customers on {database}", flush=True)
            rec = run(size, database, args.seconds, args.interval)
            print(
                json.dumps({k: rec[k] for k in ("score", "recommendations", "events", "reflect", "met")}),
                flush=True,
            )
            records = [r for r in records if (r["size"], r["database"]) != (size, database)] + [rec]
            RESULT.parent.mkdir(parents=True, exist_ok=True)
            RESULT.write_text(
                json.dumps(sorted(records, key=lambda r: (r["database"], r["size"])), indent=2) + "\n",
                encoding="utf-8",
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
