"""Benchmark the served app at bank scale: one gunicorn worker, every page opened as an admin in headless Chromium.

For each size and database (``bench/deployment.py`` builds and caches the deployment: bank, trained and published
models, users), gunicorn starts one worker (4 threads) and the benchmark records
- ``worker_ready_seconds``: from starting gunicorn to the worker's "warmed its caches" log line (import + warm-up);
- ``page_first_seconds``: per page, from navigation to the page being shown in Chromium (no Dash callback in flight
  and every chart drawn, see :data:`IDLE_JS`), the first time any user opens it in this worker;
- ``callback_p95_ms`` and ``max_response_bytes``: every ``/_dash-update-component`` request the pages made (from the
  app's JSON access log), on the first and on a second visit of every page;
- ``peak_rss_gib``: the worker's peak resident memory (VmHWM) after all that.
Writes ``bench/results/app.json``. Usage: ``python bench/bench_app.py [--sizes 50000 1000000] [--databases sqlite]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine  # noqa: E402

from bench.bench_load import free_port, start_gunicorn, stop, worker_pids  # noqa: E402
from bench.deployment import Deployment, deployment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "app.json"
SIZES = (50_000, 1_000_000)
PAGES = (
    "/",
    "/risk",
    "/risk/applicant",
    "/segments",
    "/recommendations",
    "/customer?id={customer}",
    "/monitoring",
    "/models",
    "/admin",
    "/help",
)
IDLE_JS = (
    "return document.readyState === 'complete' && !!document.querySelector('#_pages_content') && "
    "document.querySelector('#_pages_content').children.length > 0 && "
    "!document.querySelector('[data-dash-is-loading=\"true\"]') && "
    "[...document.querySelectorAll('#_pages_content .dash-graph')].every(g => !!g.querySelector('.main-svg'))"
)
"""The page is shown: laid out, no Dash callback in flight, and every chart drawn. The check runs on the page's main
thread, so while Plotly draws it waits, and the time it reads is when drawing ended."""


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1440,1100",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _sign_in(driver, base: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/login")
    driver.find_element(By.ID, "login-username").send_keys("admin")
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    _wait_idle(driver, 120)


def _wait_idle(driver, timeout: float, settle: float = 0.4) -> float:
    """Seconds since navigation start when the page became idle (and stayed idle for ``settle`` seconds)."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        if driver.execute_script(IDLE_JS):
            idle_since = idle_since or driver.execute_script("return performance.now()") / 1000
            if driver.execute_script("return performance.now()") / 1000 - idle_since >= settle:
                return idle_since
        else:
            idle_since = None
        time.sleep(0.05)
    raise TimeoutError(f"{driver.current_url} did not become idle within {timeout:.0f} s")


def _warm_seconds(log: Path, started_wall: float, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if "warmed its caches" in line or "could not warm" in line:
                return round(time.time() - started_wall, 2) if started_wall else 0.0
        time.sleep(0.1)
    raise TimeoutError("the worker did not finish warming up")


def _callback_lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"path": "/_dash-update-component"' in line:
            try:
                lines.append(json.loads(line[line.index("{") :]))
            except ValueError:
                continue
    return lines


def _a_borrower(dep: Deployment) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(dep.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT customer_id FROM loans ORDER BY loan_id LIMIT 1")).scalar_one()
            )
    finally:
        engine.dispose()


def run_one(size: int, database: str, screenshots: Path | None = None) -> dict[str, Any]:
    """Open every page twice as an admin against a one-worker gunicorn on the cached deployment (``screenshots``:
    a folder for a PNG of each page's first view)."""
    dep = deployment(size, database)
    customer = _a_borrower(dep)
    port = free_port()
    log = dep.root / f"gunicorn-{port}.log"
    started_wall = time.time()
    proc = start_gunicorn(dep, port, workers=1, threads=4, timeout_s=300)  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{port}"
    try:
        ready = _warm_seconds(log, started_wall)
        driver = _browser()
        try:
            _sign_in(driver, base, dep.passwords["admin"])
            first, again = {}, {}
            for visit in (first, again):
                for template in PAGES:
                    path = template.format(customer=customer)
                    driver.get(base + path)
                    visit[path] = round(_wait_idle(driver, 120), 2)
                    if screenshots is not None and visit is first:
                        screenshots.mkdir(parents=True, exist_ok=True)
                        name = path.strip("/").split("?")[0].replace("/", "-") or "overview"
                        driver.save_screenshot(str(screenshots / f"{size}-{database}-{name}.png"))
        finally:
            driver.quit()
        pid = worker_pids(proc)[0]
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        hwm_kib = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    finally:
        stop(proc)
    callbacks = _callback_lines(log)
    ms = np.array([c["duration_ms"] for c in callbacks], dtype=float)
    slowest = sorted(callbacks, key=lambda c: -c["duration_ms"])[:5]
    return {
        "benchmark": "app",
        "size": size,
        "database": database,
        "unit": "customers",
        "peak_rss_gib": round(hwm_kib / 2**20, 3),
        "worker_ready_seconds": ready,
        "page_first_seconds": first,
        "page_again_seconds": again,
        "callback_p95_ms": round(float(np.percentile(ms, 95)), 1) if len(ms) else None,
        "callback_p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
        "callbacks": len(ms),
        "slowest_callbacks": [{"callback": c.get("callback"), "ms": c["duration_ms"]} for c in slowest],
        "max_response_bytes": max((c.get("bytes") or 0 for c in callbacks), default=0),
        "setup": dep.setup,
        "figure": "one gunicorn worker (4 threads); every page opened as admin in headless Chromium, first and second "
        "visit; page time = navigation start to every chart drawn and no Dash callback in flight",
        **machine("shared machine: the browser, the server and the database share 2 CPUs"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument(
        "--databases",
        nargs="*",
        default=None,
        help="sqlite, postgresql (default: sqlite, and postgresql when DATABASE_URL_BENCH is set)",
    )
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument(
        "--screenshots", type=Path, default=None, help="save each page's first view here (PNG)"
    )
    args = parser.parse_args()
    databases = args.databases or (
        ["sqlite", "postgresql"] if os.environ.get("DATABASE_URL_BENCH") else ["sqlite"]
    )
    previous = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else []
    results = [r for r in previous if "database" in r]
    for size in args.sizes:
        for database in databases:
            record = run_one(size, database, args.screenshots)
            results = [r for r in results if (r["size"], r["database"]) != (size, database)] + [record]
            print(json.dumps(record), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(
                json.dumps(sorted(results, key=lambda r: (r["database"], r["size"])), indent=2) + "\n",
                encoding="utf-8",
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
