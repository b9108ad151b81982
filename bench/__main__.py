"""Run every benchmark script (``bench/bench_*.py``) in its own process; ``--only NAME`` picks some."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ledgerlight.progress import StageProgress  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names, e.g. generate risk")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    failed = []
    stages = [f"bench {script.stem.removeprefix('bench_')}" for script in scripts]
    # one bar over the scripts; each estimate is the script's last run on this machine (5 minutes until then)
    with StageProgress(stages, 1, default_seconds=300.0) as progress:
        for script, stage in zip(scripts, stages, strict=True):
            started = time.perf_counter()
            print(f"== {script.stem}", flush=True)
            with progress.stage(stage):
                result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, env=env, check=False)
            print(
                f"== {script.stem}: exit {result.returncode} in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            if result.returncode:
                failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
