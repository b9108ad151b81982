"""Benchmark campaigns: the Qini of each ranking against the oracle, and the stored-campaign loop's timings.

1. ``ledgerlight campaigns evaluate --demo-customers 20000 --json`` (seed 42, Credit card, 10% holdout): Qini
   (measured and true) and uplift at the top 10/20/30% of the random, response and uplift rankings and the oracle,
   and the command's wall time.
2. The stored loop on a 20,000-customer demo bank (seed 42) with a quick segmentation: ``campaigns create`` from
   every served segment (the whole bank, 10% held out), ``campaigns simulate``, ``load responses``, ``campaigns
   show`` and ``campaigns export``, each timed in this process (the database is a SQLite file in a temporary folder).

Writes ``bench/results/campaigns.json``. Usage: ``python bench/bench_campaigns.py [--customers N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, peak_rss_gib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "bench" / "results" / "campaigns.json"


def evaluate(n: int) -> dict:
    """``campaigns evaluate`` in its own process, as the user runs it."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "ledgerlight",
        "campaigns",
        "evaluate",
        "--demo-customers",
        str(n),
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    report = json.loads(done.stdout)
    keep = (
        "qini",
        "qini_sd",
        "qini_first_campaign",
        "qini_true",
        "uplift_top_10",
        "uplift_top_20",
        "uplift_top_30",
        "true_uplift_top_10",
    )
    rankings = {name: {k: m.get(k) for k in keep} for name, m in report["models"].items()}
    rankings["oracle"] = {k: report["oracle"].get(k) for k in keep}
    return {
        "benchmark": "campaigns_evaluate",
        "size": n,
        "unit": "customers",
        "command": " ".join(["python", *command[1:]]),
        "seconds": round(seconds, 2),
        "product": report["product"],
        "control_share": report["control_share"],
        "measured_customers": report["data"]["later_customers"],
        "rankings": rankings,
        "campaign": {
            k: report["campaign"].get(k)
            for k in ("n_treated", "n_control", "uplift", "uplift_low", "uplift_high")
        },  # fmt: skip
        "replicates": report["data"]["replicates"],
        "uplift_vs_response": report["uplift_vs_response"],
        "note_of_the_command": report["note"],
        **machine(),
    }


def _timed(argv: list[str]) -> tuple[float, str]:
    from ledgerlight.cli import main

    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    seconds = time.perf_counter() - started
    if code:
        raise RuntimeError(f"`ledgerlight {' '.join(argv)}` exited {code}")
    return seconds, out.getvalue()


def stored_loop(n: int) -> dict:
    """The stored loop on an n-customer demo bank, every step timed in this process."""
    with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as tmp:
        os.environ.update({"DATABASE_URL": f"sqlite:///{tmp}/bank.db", "LEDGERLIGHT_CHECKPOINTS": f"{tmp}/ckpt",
                           "LEDGERLIGHT_DATA_DIR": f"{tmp}/data"})  # fmt: skip
        os.environ.pop("LEDGERLIGHT_ENV", None)
        import sqlalchemy as sa

        import segmentation
        from bankdata import query, read_campaigns

        setup = {"generate": _timed(["demo", "generate", "--customers", str(n), "--seed", "42", "--quiet"])[0],
                 "train_segments_quick": _timed(["train", "segments", "--quick"])[0]}  # fmt: skip
        t = segmentation.MEMBERS_TABLE
        segments = sorted(int(s) for s in query(sa.select(t.c.segment).distinct(), None)["segment"])
        steps = {}
        steps["create"], _ = _timed(["campaigns", "create", "--name", "bench", "--product", "Credit card",
                                     "--segments", ",".join(map(str, segments)), "--seed", "1"])  # fmt: skip
        campaign = read_campaigns()[0]
        cid = str(campaign.campaign_id)
        steps["export"], _ = _timed(["campaigns", "export", cid, "--out", f"{tmp}/contact.csv"])
        steps["simulate"], _ = _timed(["campaigns", "simulate", cid, "--out", f"{tmp}/responses.csv"])
        steps["load_responses"], loaded = _timed(
            ["load", "responses", f"{tmp}/responses.csv", "--campaign", cid]
        )
        steps["load_responses_again"], again = _timed(
            ["load", "responses", f"{tmp}/responses.csv", "--campaign", cid]
        )
        steps["show"], _ = _timed(["campaigns", "show", cid, "--json"])
        _, shown = _timed(["campaigns", "show", cid, "--json"])
        report = json.loads(shown)["report"]
    return {
        "benchmark": "campaigns_stored_loop",
        "size": n,
        "unit": "customers",
        "figure": "seconds of each command in this process (no interpreter start-up) on a SQLite file",
        "audience": campaign.n_treated + campaign.n_control,
        "n_treated": campaign.n_treated,
        "n_control": campaign.n_control,
        "segments": len(segments),
        "responses": report["responses"],
        "recorded_first": loaded.strip().splitlines()[0],
        "recorded_again": again.strip().splitlines()[0],
        "uplift": report["overall"]["uplift"],
        "uplift_low": report["overall"]["uplift_low"],
        "uplift_high": report["overall"]["uplift_high"],
        "setup_seconds": {k: round(v, 2) for k, v in setup.items()},
        "seconds": {k: round(v, 2) for k, v in steps.items()},
        "peak_rss_gib": peak_rss_gib(),
        **machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000, help="demo bank size of both parts")
    args = parser.parse_args()
    rows = [evaluate(args.customers), stored_loop(args.customers)]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
