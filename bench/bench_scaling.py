"""How cost grows with the bank: time and memory of every stage at 10k, 100k and 1M customers.

One fresh process per size runs the stages in order on one generated bank: generate, risk features + one LightGBM
fit (200 trees, no CV), scoring every loan, TreeSHAP (up to 20,000 loans; larger counts are extrapolated linearly and
marked so), segmentation (features + k choice + K-Means + PCA), ALS fit + top-5 for every customer, and the
``risk score`` path over Parquet parts (this process, then a 2-process Dask LocalCluster at the smaller sizes).
``peak_rss_gib`` is the process's peak so far (it includes the bank held in memory).

Writes ``bench/results/scaling.json``. Usage: ``python bench/bench_scaling.py [--sizes 10000 100000 1000000]``.
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
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "bench" / "results" / "scaling.json"
SIZES = (10_000, 100_000, 1_000_000)
SHAP_MAX_ROWS = 20_000
DASK_MAX_CUSTOMERS = 100_000


class Stages:
    """Times stages in one process: wall and CPU seconds, peak RSS so far."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: list[dict] = []

    def run(self, stage: str, fn, **extra):  # noqa: ANN001, ANN201
        import resource

        wall0, cpu0 = time.perf_counter(), time.process_time()
        value = fn()
        self.rows.append({
            "benchmark": "scaling", "stage": stage, "size": self.size, "unit": "customers", "figure": "seconds",
            "seconds": round(time.perf_counter() - wall0, 3), "cpu_seconds": round(time.process_time() - cpu0, 3),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
            "measured": True, **extra,
        })  # fmt: skip
        print(json.dumps(self.rows[-1]), flush=True)
        return value


def one_size(n: int) -> list[dict]:
    import tempfile

    import lightgbm as lgb
    import numpy as np
    from threadpoolctl import threadpool_limits

    import recsys
    import risk
    from bankdata import generate_bank
    from risk.calibration import ScoreCalibrator
    from risk.distributed import score_dask, score_local
    from segmentation import SegmentModel, bank_features
    from segmentation.train import model_params

    st = Stages(n)
    bank = st.run("generate", lambda: generate_bank(n_customers=n, seed=42))
    frame = risk.loan_frame(bank)
    book = st.run("risk_features", lambda: risk.prepare_loan_book(frame, "defaulted", "1", source="demo bank"),
                  rows=len(frame))  # fmt: skip
    params = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 31, "n_jobs": 2, "verbose": -1}
    cats = book.spec.categorical_indices
    clf = st.run("risk_fit", lambda: lgb.LGBMClassifier(**params).fit(book.x, book.y, categorical_feature=cats),
                 rows=len(book.y), trees=200)  # fmt: skip
    booster = clf.booster_
    raw = booster.predict(book.x, num_threads=2)
    model = risk.RiskModel(book.spec, booster, ScoreCalibrator(method="sigmoid").fit(raw, book.y))
    st.run("risk_score", lambda: model.score(frame), rows=len(frame))
    m = min(len(frame), SHAP_MAX_ROWS)
    st.run("shap", lambda: booster.predict(book.x[:m], pred_contrib=True, num_threads=2), rows=m)
    if m < len(frame):
        last = dict(st.rows[-1])
        factor = len(frame) / m
        last.update(seconds=round(last["seconds"] * factor, 1), cpu_seconds=round(last["cpu_seconds"] * factor, 1),
                    rows=len(frame), measured=False, extrapolated_from_rows=m)  # fmt: skip
        st.rows.append(last)
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for i, idx in enumerate(np.array_split(np.arange(len(frame)), 4)):
            parts.append(Path(tmp) / f"book-{i}.parquet")
            frame.iloc[idx].to_parquet(parts[-1], index=False)
        keep = ("loan_id", "customer_id")
        st.run("risk_score_parquet_local", lambda: score_local(parts, model, Path(tmp) / "local", keep),
               rows=len(frame), partitions=4)  # fmt: skip
        if n <= DASK_MAX_CUSTOMERS:
            st.run("risk_score_parquet_dask2", lambda: score_dask(parts, model, Path(tmp) / "dask", keep, local_cluster=2),
                   rows=len(frame), partitions=4, note="includes starting a 2-process LocalCluster")  # fmt: skip

    def segments():
        with threadpool_limits(limits=1):
            features = bank_features(bank)
            seg = SegmentModel(**model_params(quick=False, n_clusters=None, random_state=0), n_jobs=1).fit(
                features
            )
            return seg.project(features)

    st.run("segmentation", segments, transactions=len(bank.transactions))
    log = recsys.bank_interactions(bank)
    matrix = recsys.InteractionMatrix.from_frame(log, item_ids=bank.products["product_id"].to_numpy())
    als = recsys.ALSRecommender(factors=3, regularization=30.0, alpha=1.0, iterations=15, n_jobs=2)
    st.run("als_fit", lambda: als.fit(matrix), events=len(log))
    st.run("recommend_all", lambda: als.recommend(matrix.user_ids, 5), customers=len(matrix.user_ids))
    customers = matrix.user_ids[:1000]
    new = log[log["user_id"].isin(customers)]
    st.run("als_incremental_1000", lambda: recsys_incremental(als, new), customers=len(customers))
    return [{**row, **machine()} for row in st.rows]


def recsys_incremental(als, history):  # noqa: ANN001, ANN201
    from recsys.incremental import partial_fit_users

    return partial_fit_users(als, history)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size in this process
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(one_size(args.one)), flush=True)
        return 0
    rows: list[dict] = []
    for n in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=False
        )
        sys.stderr.write(done.stderr[-3000:])
        if done.returncode:
            print(f"size {n}: exit {done.returncode}", file=sys.stderr)
            return done.returncode
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        rows += json.loads(line.removeprefix("RESULT "))
        print(
            f"size {n:,}: {sum(r['seconds'] for r in rows if r['size'] == n and r['measured']):.0f} s",
            flush=True,
        )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
