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
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{root / 'bank.db'}",
        "LEDGERLIGHT_CHECKPOINTS": str(root / "ckpt"),
        "LEDGERLIGHT_DATA_DIR": str(root / "data"),
        "SECRET_KEY": secrets.token_hex(32),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("LEDGERLIGHT_ENV", None)
    bank = generate_bank(customers, seed=seed)
    write_bank(bank, env["DATABASE_URL"])
    if train_risk:
        import risk
        from dashapp.services.publishing import publish_version

        artifact = risk.train_from_bank(bank, ArtifactStore(Path(env["LEDGERLIGHT_CHECKPOINTS"])), quick=True)
        publish_version(risk.MODEL_NAME, artifact, bank, env["DATABASE_URL"])
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


def start_gunicorn(
    dep: Deployment, port: int, workers: int = 2, threads: int = 4, timeout_s: float = 120
) -> subprocess.Popen:
    """Start gunicorn with the repo's ``gunicorn.conf.py`` on 127.0.0.1:``port``; return once ``/healthz`` answers."""
    env = {
        **dep.env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
    }
    log = open(dep.root / f"gunicorn-{port}.log", "ab")  # noqa: SIM115 - the server owns it until it stops
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dashapp.app:server",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
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
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True, check=False
    )
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
    response = session.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status_code}")
    return session


def _router(path: str, search: str = "") -> dict[str, Any]:
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def cutoff_body(threshold: float) -> dict[str, Any]:
    """The Risk page's cut-off callback as the browser sends it after the slider moved (an audited action)."""
    return {
        "output": CUTOFF_OUTPUT,
        "outputs": [
            {"id": "risk-confusion", "property": "figure"},
            {"id": "risk-cutoff-text", "property": "children"},
        ],
        "inputs": [
            {"id": "risk-threshold", "property": "value", "value": threshold},
            {"id": "risk-cost-default", "property": "value", "value": 5},
            {"id": "risk-cost-good", "property": "value", "value": 1},
        ],
        "changedPropIds": ["risk-threshold.value"],
        "state": [],
    }


def _defaults_body(by: str) -> dict[str, Any]:
    return {
        "output": "overview-defaults.figure",
        "outputs": {"id": "overview-defaults", "property": "figure"},
        "inputs": [{"id": "overview-default-by", "property": "value", "value": by}],
        "changedPropIds": ["overview-default-by.value"],
        "state": [],
    }


def _body(
    outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]], state: list[tuple[str, str, Any]] = ()
) -> dict[str, Any]:
    """A callback request as the browser sends it (plain ids), the first input marked as changed."""
    outs = [{"id": i, "property": p} for i, p in outputs]
    key = (
        f"{outputs[0][0]}.{outputs[0][1]}"
        if len(outputs) == 1
        else ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
    )
    return {
        "output": key,
        "outputs": outs[0] if len(outs) == 1 else outs,
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
    }


def applicant_rows_body(i: int) -> dict[str, Any]:
    """One block of the Applicant grid (infinite row model), sorted by PD or income, at a spread of offsets."""
    start = (i % 40) * 100
    sort = [{"colId": ("pd", "income", "credit_score")[i % 3], "sort": ("desc", "asc")[i % 2]}]
    request = {"startRow": start, "endRow": start + 100, "sortModel": sort, "filterModel": {}}
    return _body([("risk-grid", "getRowsResponse")], [("risk-grid", "getRowsRequest", request)])


SEGMENT_VIEW_OUTPUTS = [
    ("segments-scatter", "figure"),
    ("segments-sizes", "figure"),
    ("segments-heatmap", "figure"),
    ("segments-boxes", "figure"),
    ("segments-cards", "children"),
    ("segments-count", "children"),
]


def segments_view_body(i: int) -> dict[str, Any]:
    """The Segments view as the filters change: everything, one segment, an age band, an income band, a region."""
    age = 18 + (i * 7) % 40
    income = 10_000 + 1_000 * ((i * 7) % 50)
    regions = ("Capital", "North", "South", "East", "West", "Midlands", "Coast")
    # hundreds of distinct filters, so the per-worker caches of small results rarely answer for the database
    picks = [
        (None, None, None, None),
        ([i % 4], None, None, None),
        (None, [age, age + 10 + (i * 13) % 30], None, None),
        (None, None, [income, income + 20_000 + 1_000 * ((i * 11) % 60)], None),
        (None, None, None, [regions[i % 7], regions[(i // 7) % 7]]),
    ]
    segment, age, income, region = picks[i % len(picks)]
    values = [segment, age, income, region, None, None]
    inputs = [
        (f, "value", v)
        for f, v in zip(
            (
                "segments-filter-segment",
                "segments-filter-age",
                "segments-filter-income",
                "segments-filter-region",
                "segments-filter-product",
                "segments-filter-risk",
            ),
            values,
            strict=True,
        )
    ]
    return _body(
        SEGMENT_VIEW_OUTPUTS,
        [*inputs, ("segments-box-feature", "value", "monetary"), ("segments-names-changed", "data", 0)],
    )


def recs_customer_body(i: int) -> dict[str, Any]:
    """One customer's recommendations from every model."""
    return _body(
        [("recs-lists", "children"), ("recs-profile", "children")],
        [("recs-customer", "value", _customer(i)), ("recs-n", "value", 5)],
    )


def _customer(i: int) -> int:
    """A customer id every demo bank of at least 1,000 customers has (ids run from 1), spread over requests."""
    return 1 + (i * 7919) % 1000


#: name -> (method, path, JSON body maker); a page load is the HTML, the layout and the router's page content
REQUEST_KINDS: dict[str, tuple[str, str, Callable[[int], Any] | None]] = {
    "page_html": ("GET", "/", None),
    "dash_layout": ("GET", "/_dash-layout", None),
    "overview_page": ("POST", "/_dash-update-component", lambda i: _router("/")),
    "risk_page": ("POST", "/_dash-update-component", lambda i: _router("/risk")),
    "overview_callback": (
        "POST",
        "/_dash-update-component",
        lambda i: _defaults_body(("purpose", "score_band")[i % 2]),
    ),
    "cutoff_callback": (
        "POST",
        "/_dash-update-component",
        lambda i: cutoff_body(round(0.05 + (i % 50) / 100, 3)),
    ),
    "healthz": ("GET", "/healthz", None),
    "applicant_page": ("POST", "/_dash-update-component", lambda i: _router("/risk/applicant")),
    "customer_page": (
        "POST",
        "/_dash-update-component",
        lambda i: _router("/customer", f"?id={_customer(i)}"),
    ),
    "monitoring_page": ("POST", "/_dash-update-component", lambda i: _router("/monitoring")),
    "segments_page": ("POST", "/_dash-update-component", lambda i: _router("/segments")),
    "recommendations_page": ("POST", "/_dash-update-component", lambda i: _router("/recommendations")),
    "models_page": ("POST", "/_dash-update-component", lambda i: _router("/models")),
    "admin_page": ("POST", "/_dash-update-component", lambda i: _router("/admin")),
    "applicant_rows": ("POST", "/_dash-update-component", applicant_rows_body),
    "segments_view": ("POST", "/_dash-update-component", segments_view_body),
    "recs_customer": ("POST", "/_dash-update-component", recs_customer_body),
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


def run_load(
    base: str,
    sessions: list[requests.Session],
    seconds: float,
    kinds: tuple[str, ...] = tuple(REQUEST_KINDS),
    per_session: list[tuple[str, ...]] | None = None,
) -> LoadRun:
    """One thread per session, each cycling through ``kinds`` (or its own ``per_session[n]``) until ``seconds``
    have passed."""
    run, lock = LoadRun(), threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(n: int, session: requests.Session) -> None:
        kinds_here, i = (per_session[n] if per_session else kinds), n
        while time.perf_counter() < deadline:
            sample = one_request(session, base, kinds_here[i % len(kinds_here)], i)
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
            per_kind[kind] = {
                "n": len(k),
                "p50_ms": round(float(np.percentile(k, 50)), 1),
                "p95_ms": round(float(np.percentile(k, 95)), 1),
            }
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
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}
                ).scalar_one()
            )
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------ main


def _machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    )


#: what each role's users do, in turn: page loads of the pages the role may open and their callbacks
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    "risk": (
        "page_html",
        "dash_layout",
        "overview_page",
        "overview_callback",
        "risk_page",
        "cutoff_callback",
        "applicant_page",
        "applicant_rows",
        "customer_page",
        "monitoring_page",
        "healthz",
    ),
    "marketing": (
        "page_html",
        "dash_layout",
        "overview_page",
        "overview_callback",
        "segments_page",
        "segments_view",
        "recommendations_page",
        "recs_customer",
        "customer_page",
        "healthz",
    ),
    "admin": ("page_html", "dash_layout", "overview_page", "models_page", "admin_page", "monitoring_page"),
}
#: 20 users: 8 risk officers, 8 marketers, 4 admins
MIX = ("risk",) * 8 + ("marketing",) * 8 + ("admin",) * 4


def run_mixed(base: str, sessions: list[tuple[str, requests.Session]], seconds: float) -> LoadRun:
    """One thread per (role, session), each cycling through its role's request kinds until ``seconds`` pass."""
    return run_load(
        base, [s for _, s in sessions], seconds, per_session=[ROLE_KINDS[role] for role, _ in sessions]
    )


def warm_mixed(base: str, sessions: list[tuple[str, requests.Session]], rounds: int = 2) -> float:
    """Serve every kind of every role a few times (both workers load their models) before the clock starts."""
    started = time.perf_counter()
    for _ in range(rounds):
        for n, (role, session) in enumerate(sessions):
            for kind in ROLE_KINDS[role]:
                sample = one_request(session, base, kind, n)
                if sample.status != 200:
                    raise RuntimeError(f"warm-up: {role} {kind} answered HTTP {sample.status} {sample.error}")
    return time.perf_counter() - started


def run_deployment(
    dep: Any, size: int, database: str, seconds: float, workers: int, threads: int
) -> dict[str, Any]:
    """Start gunicorn on a deployment, sign in the 20 users of :data:`MIX`, warm up, measure ``seconds``."""
    port = free_port()
    proc = start_gunicorn(dep, port, workers, threads, timeout_s=300)
    base = f"http://127.0.0.1:{port}"
    try:
        sessions = [(role, sign_in(base, role, dep.passwords[role])) for role in MIX]
        warm_s = warm_mixed(base, sessions)
        run = run_mixed(base, sessions, seconds)
    finally:
        stop(proc)
    summary = summarise(run)
    return {
        "benchmark": "load",
        "size": size,
        "database": database,
        "concurrency": len(MIX),
        "roles": {role: MIX.count(role) for role in ROLE_KINDS},
        "workers": workers,
        "threads": threads,
        "seconds": round(run.seconds, 1),
        "warm_up_seconds": round(warm_s, 1),
        **{k: v for k, v in summary.items() if k != "status_5xx"},
        "errors_5xx": summary["status_5xx"],
        "figure": "20 signed-in users (8 risk, 8 marketing, 4 admin) each cycling through their pages and callbacks "
        "without think time; steady state after warm-up",
        "unit": "requests/s; ms",
        "machine": _machine(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
        "note": "gunicorn on 127.0.0.1; the load clients, the server and the database share the machine's 2 CPUs",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))  # run as a script: ``python bench/bench_load.py``
    from bench.deployment import deployment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time (default 60)")
    parser.add_argument("--sizes", nargs="*", type=int, default=[50_000, 1_000_000])
    parser.add_argument(
        "--databases",
        nargs="*",
        default=None,
        help="sqlite, postgresql (default: sqlite, and postgresql when DATABASE_URL_BENCH is set)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=2, help="per worker (default 2: the production default)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3_600:
        parser.error("--seconds must be 1-3600")
    databases = args.databases or (
        ["sqlite", "postgresql"] if os.environ.get("DATABASE_URL_BENCH") else ["sqlite"]
    )
    previous = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else []
    results = [r for r in previous if "database" in r]
    failed = False
    for size in args.sizes:
        for database in databases:
            record = run_deployment(
                deployment(size, database), size, database, args.seconds, args.workers, args.threads
            )
            failed |= record["errors_5xx"] > 0 or record["no_answer"] > 0
            results = [r for r in results if (r["size"], r["database"]) != (size, database)] + [record]
            print(json.dumps({k: v for k, v in record.items() if k != "per_kind"}), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(
                json.dumps(sorted(results, key=lambda r: (r["database"], r["size"])), indent=2) + "\n",
                encoding="utf-8",
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
