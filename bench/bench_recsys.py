"""Benchmark the recommender: scale (ALS on 1M customers x 12 products x 20M events, serving latency) and quality
(MovieLens 100k against the published BPR figures, the demo bank against the oracle).

1. Scale: a synthetic bank-shaped log of ``--events`` (default 20M) events over ``--customers`` (default 1M) customers
   and 12 products, events view/click/apply/purchase with their confidence weights. Times: building the CSR matrix,
   ALS fit (2 threads), top-10 for one customer (p50/p95 over 1,000 single calls), top-10 for every customer.
2. MovieLens 100k (``../shared/data/movielens100k/data.parquet``): per-user random 75/25 split, k=10, every rating is a
   positive, seen items excluded: the metrics of every model next to BPR's nDCG@10 0.442 / P@10 0.388.
3. Demo bank (``--bank-customers``, default 20,000): the same evaluation as ``train_from_bank`` (k=5) and the oracle.

Writes ``bench/results/recsys.json`` (rows of benchmarks not rerun, e.g. with ``--skip-scale``, are kept). Usage: ``python bench/bench_recsys.py [--customers N] [--events N] [--skip-scale]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, peak_rss_gib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "bench" / "results" / "recsys.json"
MOVIELENS = ROOT.parent / "shared" / "data" / "movielens100k" / "data.parquet"
PUBLISHED_BPR = {"ndcg@10": 0.442, "precision@10": 0.388}


def synthetic_log(n_customers: int, n_events: int, seed: int = 0) -> pd.DataFrame:
    """Bank-shaped events: product popularity skewed, purchases rarer than views."""
    from recsys import EVENT_WEIGHTS

    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(12, 0.8))
    events = np.array(list(EVENT_WEIGHTS.values()))
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, n_customers + 1, n_events),
            "item_id": rng.choice(12, size=n_events, p=popularity) + 1,
            "weight": events[rng.choice(4, size=n_events, p=[0.45, 0.25, 0.17, 0.13])],
        }
    )


def scale(n_customers: int, n_events: int) -> list[dict]:
    from recsys import ALSRecommender, InteractionMatrix

    log = synthetic_log(n_customers, n_events)
    start = time.perf_counter()
    matrix = InteractionMatrix.from_frame(log)
    t_matrix = time.perf_counter() - start
    del log
    model = ALSRecommender(factors=16, regularization=1.0, alpha=1.0, iterations=15, n_jobs=2)
    start = time.perf_counter()
    model.fit(matrix)
    t_fit = time.perf_counter() - start
    rng = np.random.default_rng(1)
    one = []
    for user in rng.choice(matrix.user_ids, 1000):
        t0 = time.perf_counter()
        model.recommend([user], 10)
        one.append(time.perf_counter() - t0)
    start = time.perf_counter()
    items, _ = model.recommend(matrix.user_ids, 10)
    t_all = time.perf_counter() - start
    assert items.shape == (len(matrix.user_ids), 10)
    size = {
        "size": n_customers,
        "unit": "customers",
        "events": n_events,
        "products": 12,
        "pairs": int(matrix.matrix.nnz),
    }
    return [
        {"benchmark": "als_fit", "figure": "seconds", "seconds": round(t_fit, 2), "target_seconds": 120,
         "matrix_build_seconds": round(t_matrix, 2), "factors": 16, "iterations": 15, "threads": 2, **size},
        {"benchmark": "top10_one_customer", "figure": "milliseconds", "p50_ms": round(1000 * np.percentile(one, 50), 3),
         "p95_ms": round(1000 * np.percentile(one, 95), 3), "target_p95_ms": 20, "calls": len(one), **size},
        {"benchmark": "top10_all_customers", "figure": "seconds", "seconds": round(t_all, 2), "target_seconds": 60,
         "peak_rss_gib": peak_rss_gib(), **size},
    ]  # fmt: skip


def movielens() -> list[dict]:
    """Every rating a positive of weight 1 (as the CLI without --weight), then with the rating as confidence."""
    from recsys import default_models, evaluate_models, validate_interactions
    from recsys.evaluate import default_grids

    rows = []
    for weight in (None, "rating"):
        frame = validate_interactions(
            pd.read_parquet(MOVIELENS), user="user_id", item="movie_id", weight=weight
        )
        n_items = frame[
            "item_id"
        ].nunique()  # ALS chosen on a validation split of the training side, as the CLI does
        report = evaluate_models(
            frame, default_models(n_items), k=10, split="random", seed=42, grids=default_grids(n_items)
        )
        rows.append({"benchmark": "movielens100k" + ("" if weight is None else "_rating_weighted"),
                     "figure": "ndcg@10, precision@10", "size": len(frame), "unit": "ratings", "split": report["split"],
                     "models": report["models"], "published_bpr": PUBLISHED_BPR,
                     "als_chosen": report["tuning"]["als"]["chosen"]})  # fmt: skip
    return rows


def demo_bank(n_customers: int) -> dict:
    from bankdata import generate_bank
    from recsys import evaluate_bank

    bank = generate_bank(n_customers=n_customers, seed=42)
    report = evaluate_bank(bank)
    return {"benchmark": "demo_bank", "figure": f"ndcg@{report['split']['k']}", "size": n_customers, "unit": "customers",
            "split": report["split"], "models": report["models"], "oracle": report["oracle"],
            "als_chosen": report["tuning"]["als"]["chosen"]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--bank-customers", type=int, default=20_000)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    results = []
    for name, job in (
        ("movielens", movielens),
        ("demo bank", lambda: demo_bank(args.bank_customers)),
        ("scale", None if args.skip_scale else (lambda: scale(args.customers, args.events))),
    ):
        if job is None:
            continue
        print(f"-- {name}", flush=True)
        out = job()
        for row in out if isinstance(out, list) else [out]:
            row.update(machine("shared machine: wall seconds include waiting for CPU"))
            print(json.dumps(row), flush=True)
            results.append(row)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    fresh = {row["benchmark"] for row in results}
    kept = (
        [r for r in json.loads(RESULT.read_text()) if r["benchmark"] not in fresh] if RESULT.exists() else []
    )
    RESULT.write_text(json.dumps(kept + results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
