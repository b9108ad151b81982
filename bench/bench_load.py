"""Load test of the deployed app: gunicorn (2 workers, loopback only) on a small demo bank, signed-in users making
mixed page loads and callbacks for a bounded time; requests/s, p50/p95/p99 latency and 5xx count.

``python bench/bench_load.py [--seconds 60] [--concurrency 8] [--customers 2000]`` writes ``bench/results/load.json``.
The clock starts after every worker has warmed up (bank and models loaded, each request kind served once per
connection), so the figures are steady state. ``tests/test_reliability.py`` reuses these helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "load.json"
CUTOFF_OUTPUT = "..risk-confusion.figure...risk-cutoff-text.children.."


# ------------------------------------------------------------------------------------------------ deployment


@dataclass
class Deployment:
    """A temp folder with a demo bank (SQLite), a quick risk model and one user per role."""

    root: Path
    env: dict[str, str]
    passwords: dict[str, str]

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]


def prepare(root: Path, customers: int = 2_000, seed: int = 5, *, train_risk: bool = True) -> Deployment:
    """Generate and store the bank, train the risk model (quick), add users ``admin``, ``risk``, ``marketing``."""
    from bankdata import ArtifactStore, generate_bank, write_bank

    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{root / 'bank.db'}", "LEDGERLIGHT_CHECKPOINTS": str(root / "ckpt"),
           "LEDGERLIGHT_DATA_DIR": str(root / "data"), "SECRET_KEY": secrets.token_hex(32),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("LEDGERLIGHT_ENV", None)
    bank = generate_bank(customers, seed=seed)
    write_bank(bank, env["DATABASE_URL"])
    if train_risk:
        import risk

        risk.train_from_bank(bank, ArtifactStore(Path(env["LEDGERLIGHT_CHECKPOINTS"])), quick=True)
    from dashapp.auth import ROLES, create_user

    passwords = {role: secrets.token_urlsafe(12) for role in ROLES}
    for role, password in passwords.items():
        create_user(role, password, role, env["DATABASE_URL"])
    return Deployment(root=root, env=env, passwords=passwords)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(dep: Deployment, port: int, workers: int = 2, threads: int = 4, timeout_s: float = 120) -> subprocess.Popen:
    """Start gunicorn with the repo's ``gunicorn.conf.py`` on 127.0.0.1:``port``; return once ``/healthz`` answers."""
    env = {**dep.env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "GUNICORN_THREADS": str(threads)}
    log = open(dep.root / f"gunicorn-{port}.log", "ab")  # noqa: SIM115 - the server owns it until it stops
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "dashapp.app:server", "-c", str(ROOT / "gunicorn.conf.py"),
                             "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log.name}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout_s:.0f} s; see {log.name}")


def worker_pids(proc: subprocess.Popen) -> list[int]:
    """The gunicorn workers (children of the master)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def stop(proc: subprocess.Popen) -> None:
    """Stop the master (and so its workers) gracefully, then for good."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ------------------------------------------------------------------------------------------------ requests


def sign_in(base: str, username: str, password: str) -> requests.Session:
    """A session signed in through the real form."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = session.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": token},
                            allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status_code}")
    return session


def _router(path: str) -> dict[str, Any]:
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def cutoff_body(threshold: float) -> dict[str, Any]:
    """The Risk page's cut-off callback as the browser sends it after the slider moved (an audited action)."""
    return {"output": CUTOFF_OUTPUT,
            "outputs": [{"id": "risk-confusion", "property": "figure"}, {"id": "risk-cutoff-text", "property": "children"}],
            "inputs": [{"id": "risk-threshold", "property": "value", "value": threshold},
                       {"id": "risk-cost-default", "property": "value", "value": 5},
                       {"id": "risk-cost-good", "property": "value", "value": 1}],
            "changedPropIds": ["risk-threshold.value"], "state": []}


def _defaults_body(by: str) -> dict[str, Any]:
    return {"output": "overview-defaults.figure", "outputs": {"id": "overview-defaults", "property": "figure"},
            "inputs": [{"id": "overview-default-by", "property": "value", "value": by}],
            "changedPropIds": ["overview-default-by.value"], "state": []}


#: name -> (method, path, JSON body maker); a page load is the HTML, the layout and the router's page content
REQUEST_KINDS: dict[str, tuple[str, str, Callable[[int], Any] | None]] = {
    "page_html": ("GET", "/", None),
    "dash_layout": ("GET", "/_dash-layout", None),
    "overview_page": ("POST", "/_dash-update-component", lambda i: _router("/")),
    "risk_page": ("POST", "/_dash-update-component", lambda i: _router("/risk")),
    "overview_callback": ("POST", "/_dash-update-component", lambda i: _defaults_body(("purpose", "score_band")[i % 2])),
    "cutoff_callback": ("POST", "/_dash-update-component", lambda i: cutoff_body(round(0.05 + (i % 50) / 100, 3))),
    "healthz": ("GET", "/healthz", None),
}


@dataclass
class Sample:
    """One request: its kind, HTTP status (0: no answer), latency and when it started."""

    kind: str
    status: int
    ms: float
    started: float
    error: str = ""


@dataclass
class LoadRun:
    """Everything the load threads saw."""

    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0

    def ok(self, kind: str | None = None) -> int:
        return sum(1 for s in self.samples if s.status == 200 and (kind is None or s.kind == kind))

    def failed(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 0 or s.status >= 500]


def one_request(session: requests.Session, base: str, kind: str, i: int) -> Sample:
    """Send one request of ``kind``; a connection error is status 0."""
    method, path, body = REQUEST_KINDS[kind]
    started = time.perf_counter()
    try:
        response = session.request(method, base + path, json=body(i) if body else None, timeout=60)
        status, error = response.status_code, ""
    except requests.RequestException as exc:
        status, error = 0, type(exc).__name__
    return Sample(kind, status, (time.perf_counter() - started) * 1000, started, error)


def run_load(base: str, sessions: list[requests.Session], seconds: float,
             kinds: tuple[str, ...] = tuple(REQUEST_KINDS)) -> LoadRun:
    """One thread per session, each cycling through ``kinds`` until ``seconds`` have passed."""
    run, lock = LoadRun(), threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(n: int, session: requests.Session) -> None:
        i = n
        while time.perf_counter() < deadline:
            sample = one_request(session, base, kinds[i % len(kinds)], i)
            with lock:
                run.samples.append(sample)
            i += 1

    threads = [threading.Thread(target=worker, args=(n, s), daemon=True) for n, s in enumerate(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - started
    return run


def warm_up(base: str, sessions: list[requests.Session], workers: int) -> float:
    """Serve every request kind on every connection until both workers answer the heavy pages fast; seconds spent."""
    started = time.perf_counter()
    for _ in range(3):
        for n, session in enumerate(sessions * max(1, workers)):
            for kind in REQUEST_KINDS:
                sample = one_request(session, base, kind, n)
                if sample.status != 200:
                    raise RuntimeError(f"warm-up: {kind} answered HTTP {sample.status} {sample.error}")
    return time.perf_counter() - started


def summarise(run: LoadRun) -> dict[str, Any]:
    """requests/s, latency percentiles (ms) overall and per kind, error counts."""
    ms = np.array([s.ms for s in run.samples if s.status])
    per_kind = {}
    for kind in REQUEST_KINDS:
        k = np.array([s.ms for s in run.samples if s.kind == kind and s.status])
        if len(k):
            per_kind[kind] = {"n": len(k), "p50_ms": round(float(np.percentile(k, 50)), 1),
                              "p95_ms": round(float(np.percentile(k, 95)), 1)}
    return {
        "requests": len(run.samples),
        "requests_per_s": round(len(run.samples) / run.seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "status_5xx": sum(1 for s in run.samples if s.status >= 500),
        "no_answer": sum(1 for s in run.samples if s.status == 0),
        "status_4xx": sum(1 for s in run.samples if 400 <= s.status < 500),
        "per_kind": per_kind,
    }


def audit_count(database_url: str, action: str) -> int:
    """Rows of ``action`` in the deployment's audit log."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}).scalar_one())
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------ main


def _machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time (default 60)")
    parser.add_argument("--concurrency", type=int, default=8, help="simultaneous signed-in clients (default 8)")
    parser.add_argument("--customers", type=int, default=2_000, help="demo bank size (default 2000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3_600 or not 1 <= args.concurrency <= 64:
        parser.error("--seconds must be 1-3600 and --concurrency 1-64")
    with tempfile.TemporaryDirectory(prefix="ledgerlight-load-") as tmp:
        started = time.perf_counter()
        dep = prepare(Path(tmp), args.customers)
        print(f"prepared {args.customers:,} customers + risk model in {time.perf_counter() - started:.1f} s", flush=True)
        port = free_port()
        proc = start_gunicorn(dep, port, args.workers, args.threads)
        base = f"http://127.0.0.1:{port}"
        try:
            roles = ("risk", "marketing")
            sessions = [sign_in(base, roles[n % 2], dep.passwords[roles[n % 2]]) for n in range(args.concurrency)]
            warm_s = warm_up(base, sessions, args.workers)
            audit_before = audit_count(dep.database_url, "change_cutoff")
            run = run_load(base, sessions, args.seconds)
            audited = audit_count(dep.database_url, "change_cutoff") - audit_before
        finally:
            stop(proc)
    result = {
        "benchmark": "load",
        "figure": "requests/s and latency of a mixed load (page HTML, layout, Overview and Risk page content, two "
                  "callbacks, healthz) from signed-in users, steady state after warm-up",
        "unit": "requests/s; ms",
        "size": args.customers,
        "size_unit": "customers",
        "workers": args.workers,
        "threads": args.threads,
        "concurrency": args.concurrency,
        "seconds": round(run.seconds, 1),
        "warm_up_seconds": round(warm_s, 1),
        **summarise(run),
        "audited_cutoff_calls_ok": run.ok("cutoff_callback"),
        "audit_rows_written": audited,
        "machine": _machine(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
        "note": "gunicorn on 127.0.0.1, SQLite; client and server share the machine's CPUs",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([result], indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "per_kind"}, indent=2))
    return 0 if result["status_5xx"] == 0 and result["no_answer"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
