"""Benchmark the data layer on a 50k-customer demo bank (about 1.5M transactions).

Measures ``write_bank`` and ``read_bank`` on SQLite (and on PostgreSQL when ``DATABASE_URL_BENCH`` is set: its
tables are replaced), and ``load_table`` validating the transactions as a CSV file.
Writes ``bench/results/bankdata.json``. Usage: ``python bench/bench_bankdata.py [--customers 50000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bankdata import generate_bank, read_bank, write_bank
from bankdata._db import describe_url
from bankdata._loaders import load_table

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "bankdata.json"


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """Run ``fn``; return its result, wall seconds and CPU seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def record(name: str, size: int, unit: str, wall: float, cpu: float, **extra: object) -> dict:
    rec = {
        "benchmark": name,
        "figure": "seconds",
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "size": size,
        "unit": unit,
        **extra,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(f"{name:<28} {size:>11,} {unit:<13} {wall:7.1f} s wall {cpu:7.1f} s CPU", flush=True)
    return rec


def bench_database(bank, url: str, label: str) -> list[dict]:  # noqa: ANN001
    rows = sum(len(bank.table(t)) for t in ("customers", "transactions", "loans", "products", "interactions"))
    _, wall, cpu = timed(lambda: write_bank(bank, url))
    out = [record(f"write_bank_{label}", len(bank.transactions), "transactions", wall, cpu, all_rows=rows)]
    _, wall, cpu = timed(lambda: read_bank(url))
    out.append(record(f"read_bank_{label}", len(bank.transactions), "transactions", wall, cpu, all_rows=rows))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args()
    bank = generate_bank(n_customers=args.customers, seed=42)
    print(f"bank: {args.customers:,} customers, {len(bank.transactions):,} transactions", flush=True)
    records: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        records += bench_database(bank, f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite")
        records[-2]["db_file_mb"] = round((Path(tmp) / "bench.db").stat().st_size / 1e6, 1)
        pg = os.environ.get("DATABASE_URL_BENCH")
        if pg:
            pg_records = bench_database(bank, pg, "postgresql")
            for rec in pg_records:
                rec["database"] = describe_url(pg)
            records += pg_records
        csv = Path(tmp) / "transactions.csv"
        bank.transactions.to_csv(csv, index=False)
        _, wall, cpu = timed(lambda: load_table(csv, "transactions"))
        records.append(
            record(
                "load_table_csv",
                len(bank.transactions),
                "rows",
                wall,
                cpu,
                file_mb=round(csv.stat().st_size / 1e6, 1),
            )
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    for rec in records:
        rec["process_peak_rss_gib"] = round(peak, 2)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(records, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
