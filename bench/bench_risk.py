"""Benchmark the risk model: training on 50k loans (LightGBM only, and what ``ledgerlight setup`` trains on a
50k-customer bank), one applicant scored and explained, SHAP for 10k applicants,
and 5-fold ROC-AUC of every candidate on the real loan books in ``../shared/data``.

Writes ``bench/results/risk.json``. Usage: ``python bench/bench_risk.py [--loans N] [--skip-real]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _common import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "bench" / "results" / "risk.json"
DATA = ROOT.parent / "shared" / "data"
REAL = (
    ("german_credit.csv", "creditability", "bad"),
    ("credit_data.csv", "Status", "bad"),
    ("lending_club_2016q1.csv", "Class", "bad"),
)


def demo_book(n_loans: int):
    import risk
    from bankdata import generate_bank

    bank = generate_bank(n_customers=int(n_loans * 1.4), seed=42)
    frame = risk.loan_frame(bank).iloc[:n_loans]
    truth = risk.bankbook.true_pd(bank, frame["loan_id"])
    return risk.prepare_loan_book(frame, "defaulted", "1", source="demo bank"), truth


def training(n_loans: int) -> tuple[dict, object]:
    """5-fold CV of LightGBM x {none, class weights, SMOTE}, final fit, calibration and SHAP summary."""
    import risk

    book, truth = demo_book(n_loans)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    trained = risk.train_loan_book(book, models=("lightgbm",), truth=truth)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "benchmark": "risk_train",
        "size": len(book.y),
        "unit": "loans",
        "figure": "training wall seconds "
        "(5-fold CV of LightGBM x none/class_weight/SMOTE, final fit, calibration, SHAP summary)",
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "target_s": 120,
        "champion": trained.champion,
        "roc_auc": round(trained.report["candidates"][trained.champion]["roc_auc"]["mean"], 4),
        "oracle": {k: round(v, 4) for k, v in trained.report["oracle"].items()},
        **machine(),
    }, trained


def setup_training(n_customers: int = 50_000) -> dict:
    """What ``ledgerlight setup`` trains for risk (:func:`risk.train_from_bank`: LightGBM and logistic regression x
    none/class weights, monotone constraints, final fit, calibration, SHAP) on a demo bank, into a throwaway store.
    Publishing the scores to the database (setup does it too) is not timed here."""
    import tempfile

    import risk
    from bankdata import ArtifactStore, generate_bank

    bank = generate_bank(n_customers=n_customers, seed=42)
    with tempfile.TemporaryDirectory() as folder:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        artifact = risk.train_from_bank(bank, ArtifactStore(root=Path(folder)))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        report = artifact.load_json("report.json")
    return {
        "benchmark": "risk_setup_train", "size": n_customers, "unit": "customers", "loans": report["rows"],
        "figure": "setup's risk training wall seconds (risk.train_from_bank: 4 candidates, fit, calibration, SHAP)",
        "candidates": sorted(report["candidates"]), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "target_s": 90, "champion": report["champion"],
        "roc_auc": {name: round(c["roc_auc"]["mean"], 4) for name, c in report["candidates"].items()},
        "lightgbm_minus_logistic": round(report["candidates"]["lightgbm+none"]["roc_auc"]["mean"]
                                         - report["candidates"]["logistic+none"]["roc_auc"]["mean"], 4),
        "target_lightgbm_minus_logistic": 0.02, "target_oracle_ratio": 0.97,
        "oracle": {k: round(v, 4) for k, v in report.get("oracle", {}).items()}, **machine(),
    }  # fmt: skip


def one_applicant(trained, n: int = 300) -> dict:
    """Score + SHAP + reason codes of one applicant, from a dict of raw values (what the what-if callback does)."""
    rows = trained.book.frame.sample(n, random_state=0).to_dict("records")
    trained.model.explain(rows[0])
    times = []
    for row in rows:
        t0 = time.perf_counter()
        trained.model.explain(row)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "benchmark": "risk_one_applicant",
        "size": n,
        "unit": "ms",
        "figure": "score + SHAP + reasons per applicant",
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
        "target_p95_ms": 50,
        **machine(),
    }


def shap_10k(trained) -> dict:
    from risk.explain import contributions

    x = np.resize(trained.book.x, (10_000, trained.book.x.shape[1]))
    out = {
        "benchmark": "risk_shap_10k",
        "size": 10_000,
        "unit": "s",
        "figure": "TreeSHAP for 10k applicants",
        "target_s": 15,
    }
    for threads in (1, 2):
        t0 = time.perf_counter()
        contributions(trained.model.booster, x, num_threads=threads)
        out[f"wall_s_{threads}_threads"] = round(time.perf_counter() - t0, 3)
    return {**out, **machine()}


def real_books() -> list[dict]:
    """5-fold out-of-fold metrics of every model x imbalance treatment on each real loan book."""
    import risk
    from risk.models import candidates
    from risk.validation import cross_validate

    results = []
    for name, target, positive in REAL:
        book = risk.read_loan_book(DATA / name, target, positive)
        t0 = time.perf_counter()
        cv = cross_validate(book.x, book.y, book.spec.categorical_indices, candidates(), n_folds=5)
        summary = cv.summary()
        results.append(
            {
                "benchmark": f"risk_eval_{Path(name).stem}",
                "size": len(book.y),
                "unit": "loans",
                "figure": "5-fold stratified out-of-fold ROC-AUC / PR-AUC / Brier (calibrated), mean and std",
                "protected_excluded": book.spec.protected,
                "wall_s": round(time.perf_counter() - t0, 1),
                "models": {
                    k: {
                        m: [round(v[m]["mean"], 4), round(v[m]["std"], 4)]
                        for m in ("roc_auc", "pr_auc", "brier")
                    }
                    for k, v in summary.items()
                },
                **machine(),
            }
        )
        print(json.dumps(results[-1]["models"]), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=50_000)
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    train, trained = training(args.loans)
    print(json.dumps(train), flush=True)
    results = [train, one_applicant(trained), shap_10k(trained), setup_training()]
    print(json.dumps(results[1:]), flush=True)
    if not args.skip_real:
        results += real_books()
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
