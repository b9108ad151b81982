"""Quality on real public data through the commands a user runs, next to the published figures.

Runs ``ledgerlight risk evaluate --json`` on German Credit, credit_data and Lending Club 2016Q1, then
``risk evaluate --models lightgbm --imbalance none --tune`` on each (LightGBM untuned and tuned inside each training
fold, side by side, at the default 40 trials per fit, so the figures do not follow the machine's load: docs/risk.md;
about 1 minute on German Credit, 4 on credit_data and on Lending Club), and
``ledgerlight recsys evaluate --json`` on MovieLens 100k (75/25 per-user random split, k=10), each in its own
process, and stores the figures with the published ones from ``../shared/data/README.md``.

Writes ``bench/results/quality.json``. Usage: ``python bench/bench_quality.py [--only german_credit ...]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import machine

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULT = ROOT / "bench" / "results" / "quality.json"

#: name -> (file, target, positive, models, published ROC-AUC figures with their setting)
RISK_BOOKS = {
    "german_credit": ("german_credit.csv", "creditability", "bad", "lightgbm,logistic,random_forest", {
        "logistic regression (TabArena, 1 fold, 333 test rows)": 0.766,
        "LightGBM (TabArena, 1 fold)": [0.770, 0.780],
        "best (TabArena, 1 fold)": 0.808,
        "random forest (AutoML benchmark 2019, 10-fold CV)": 0.794,
    }),
    "credit_data": ("credit_data.csv", "Status", "bad", "lightgbm,logistic", {}),
    "lending_club_2016q1": ("lending_club_2016q1.csv", "Class", "bad", "lightgbm,logistic", {}),
}  # fmt: skip
MOVIELENS = DATA / "movielens100k" / "data.parquet"
PUBLISHED_MOVIELENS = {
    "BPR (Microsoft Recommenders)": {"ndcg@10": 0.442, "precision@10": 0.388},
    "LightGCN": {"ndcg@10": 0.420, "precision@10": 0.380},
    "SAR": {"ndcg@10": 0.382, "precision@10": 0.331},
}


def ledgerlight(*args: str) -> tuple[dict, float]:
    """Run the ``ledgerlight`` command in a fresh process; its JSON output and the wall seconds."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ledgerlight", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"ledgerlight {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout), time.perf_counter() - started


def risk_book(name: str) -> dict:
    file, target, positive, models, published = RISK_BOOKS[name]
    command = ["risk", "evaluate", "--data", str(DATA / file), "--target", target, "--positive", positive,
               "--models", models, "--folds", "5", "--json"]  # fmt: skip
    report, seconds = ledgerlight(*command)
    tune = ["risk", "evaluate", "--data", str(DATA / file), "--target", target, "--positive", positive,
            "--models", "lightgbm", "--imbalance", "none", "--tune", "--folds", "5", "--json"]  # fmt: skip
    tuned, tune_seconds = ledgerlight(*tune)
    return {
        "benchmark": f"quality_{name}", "figure": "5-fold stratified out-of-fold ROC-AUC (mean, std)",
        "size": report["rows"], "unit": "loans", "default_rate": report["default_rate"],
        "command": "ledgerlight " + " ".join(command).replace(str(DATA) + "/", "../shared/data/"),
        "models": {m: {k: [round(v[k]["mean"], 4), round(v[k]["std"], 4)] for k in ("roc_auc", "pr_auc", "brier")}
                   for m, v in report["models"].items()},
        "published_roc_auc": published, "wall_seconds": round(seconds, 1),
        "tuned_vs_untuned": {
            "command": "ledgerlight " + " ".join(tune).replace(str(DATA) + "/", "../shared/data/"),
            "roc_auc": {k: [round(v["mean"], 4), round(v["std"], 4)]
                        for k, v in tuned["tuned_vs_untuned"]["none"]["roc_auc"].items() if k != "gain"},
            "gain": round(tuned["tuned_vs_untuned"]["none"]["roc_auc"]["gain"], 4),
            "trials_per_fold": [s["trials"] for s in tuned["tuned_vs_untuned"]["none"]["search"]],
            "wall_seconds": round(tune_seconds, 1),
        },
        **machine(None),
    }  # fmt: skip


def movielens() -> dict:
    command = ["recsys", "evaluate", "--interactions", str(MOVIELENS), "--user", "user_id", "--item", "movie_id",
               "--k", "10", "--test-fraction", "0.25", "--json"]  # fmt: skip
    report, seconds = ledgerlight(*command)
    return {
        "benchmark": "quality_movielens100k", "figure": "nDCG@10 and precision@10, per-user 75/25 random split",
        "size": report["split"]["train_pairs"], "unit": "training pairs", "split": report["split"],
        "command": "ledgerlight " + " ".join(command).replace(str(DATA) + "/", "../shared/data/"),
        "models": {m: {k: round(v[k], 4) for k in ("ndcg@10", "precision@10", "recall@10", "map@10")}
                   for m, v in report["models"].items()},
        "published": PUBLISHED_MOVIELENS, "wall_seconds": round(seconds, 1), **machine(None),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=[*RISK_BOOKS, "movielens100k"])
    args = parser.parse_args()
    wanted = args.only or [*RISK_BOOKS, "movielens100k"]
    results = []
    for name in wanted:
        results.append(movielens() if name == "movielens100k" else risk_book(name))
        print(json.dumps(results[-1]["models"]), flush=True)
    fresh = {r["benchmark"] for r in results}
    kept = (
        [r for r in json.loads(RESULT.read_text()) if r["benchmark"] not in fresh] if RESULT.exists() else []
    )
    RESULT.write_text(json.dumps(kept + results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
