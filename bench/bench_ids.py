"""Benchmark a bank's own text ids against whole numbers: loading customers and loans, and translating ids.

Loads ``--customers`` customers and as many loans (ids ``C-0000001``, ``L-1`` or whole numbers) into two SQLite
files, then times :func:`bankdata.to_external` for a page of 500 ids and :func:`bankdata.to_internal` for one.
Writes ``bench/results/ids.json``. Usage: ``python bench/bench_ids.py [--customers 1000000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from bankdata import generate_bank, to_external, to_internal
from bankdata._db import append_load

RESULT = Path(__file__).resolve().parent / "results" / "ids.json"


def _frames(n: int, text: bool) -> tuple:
    small = generate_bank(1000, seed=1, months=2)
    customers = small.customers.iloc[np.arange(n) % len(small.customers)].reset_index(drop=True)
    loans = small.loans.iloc[np.arange(n) % len(small.loans)].reset_index(drop=True)
    owners = np.random.default_rng(0).integers(1, n + 1, n)
    if text:
        return (
            customers.assign(customer_id=[f"C-{i:07d}" for i in range(1, n + 1)]),
            loans.assign(
                loan_id=[f"L-{i}" for i in range(1, n + 1)], customer_id=[f"C-{i:07d}" for i in owners]
            ),
        )
    return customers.assign(customer_id=np.arange(1, n + 1)), loans.assign(
        loan_id=np.arange(1, n + 1), customer_id=owners
    )


def _ms(fn, repeat: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return round((time.perf_counter() - started) / repeat * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    n = parser.parse_args().customers
    out: dict = {
        "benchmark": "ids",
        "size": n,
        "unit": "seconds; ms",
        "machine": f"{platform.system()} {platform.machine()}, python {platform.python_version()}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("integer", "text"):
            url = f"sqlite:///{Path(tmp) / kind}.db"
            customers, loans = _frames(n, kind == "text")
            for table, frame in (("customers", customers), ("loans", loans)):
                started = time.perf_counter()
                append_load(table, frame, url)
                out[f"load_{table}_{kind}_s"] = round(time.perf_counter() - started, 2)
        page = np.random.default_rng(1).integers(1, n + 1, 500).tolist()
        out["to_external_500_ms"] = _ms(lambda: to_external("customer", page, url), 20)
        out["to_internal_1_ms"] = _ms(lambda: to_internal("customer", ["C-0000017"], url), 50)
    RESULT.write_text(json.dumps([out], indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
