"""Benchmark ``generate_bank`` at 10k, 100k and 1M customers, each in a fresh subprocess.

Writes ``bench/results/generate.json``: wall seconds, CPU seconds and peak RSS of the generating process.
Usage: ``python bench/bench_generate.py [--sizes 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "generate.json"
SIZES = (10_000, 100_000, 1_000_000)

# Runs in the child: generate, then report rows, timings and the child's own peak RSS as one JSON line.
_CHILD = """
import json, resource, sys, time
from bankdata import generate_bank
n = int(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
bank = generate_bank(n_customers=n, seed=42)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({
    "transactions": len(bank.transactions), "loans": len(bank.loans), "interactions": len(bank.interactions),
    "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
    "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
}))
"""


def run_one(n: int) -> dict:
    """Generate a bank of ``n`` customers in a fresh interpreter and return its measurements."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"generate_bank({n}) failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "benchmark": "generate",
        "figure": "seconds",
        "size": n,
        "unit": "customers",
        **measured,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "load_avg_1m_at_start": round(load, 2),
        "note": "shared machine: wall seconds include waiting for CPU; cpu_seconds is the process's own CPU time",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    records = []
    for n in args.sizes:
        rec = run_one(n)
        records.append(rec)
        print(
            f"generate {n:>9,} customers: {rec['transactions']:>11,} transactions, {rec['seconds']:7.1f} s wall, "
            f"{rec['cpu_seconds']:7.1f} s CPU, peak RSS {rec['peak_rss_gib']:.2f} GiB (load {rec['load_avg_1m_at_start']})",
            flush=True,
        )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(records, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
