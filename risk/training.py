"""Train the risk model: cross-validate every candidate, pick the champion's imbalance treatment, fit, calibrate,
explain, save.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bankdata import Artifact, ArtifactStore, Bank, fingerprint
from risk.bankbook import POSITIVE, TARGET, loan_frame, true_pd
from risk.calibration import ScoreCalibrator
from risk.explain import contributions, global_importance
from risk.loanbook import LoanBook, prepare_loan_book
from risk.metrics import roc_auc
from risk.models import CHAMPION_MODEL, IMBALANCE, MODELS, Candidate, candidates, make_pipeline
from risk.scoring import RiskModel
from risk.validation import CVResult, choose_champion, cross_validate

log = logging.getLogger(__name__)

MODEL_NAME = "risk"
EVALUATION_FILE = "evaluation.npz"
EXPLAIN_FILE = "explain.npz"
REPORT_FILE = "report.json"
SHAP_SAMPLE = 2_000


@dataclass(frozen=True)
class TrainedRisk:
    """Everything training produced, before it is saved.

    Attributes
    ----------
    model : RiskModel
        The calibrated champion, fitted on all rows.
    book : LoanBook
    cv : CVResult
        Out-of-fold predictions of every candidate.
    champion : str
        Candidate name of the champion (``lightgbm+...``).
    report : dict
        JSON-ready summary: per-candidate metrics, champion, threshold, oracle (demo bank), calibration method,
        boosting rounds of the final LightGBM (best early-stopped round, rounds of the refit on all rows).
    sample : dict of ndarray
        Explanations of a sample of rows (``x``, ``shap``, ``y``, ``pd``) and global ``importance``.
    """

    model: RiskModel
    book: LoanBook
    cv: CVResult
    champion: str
    report: dict[str, Any]
    sample: dict[str, np.ndarray]


def oracle_report(y: np.ndarray, truth: np.ndarray, model_auc: float) -> dict[str, float]:
    """The best possible AUC (ranking by the true PD) and the model's share of it."""
    oracle = roc_auc(y, truth)
    return {"oracle_roc_auc": oracle, "model_roc_auc": model_auc, "ratio": model_auc / oracle}


def train_loan_book(
    book: LoanBook,
    *,
    quick: bool = False,
    n_folds: int | None = None,
    models: tuple[str, ...] = MODELS,
    imbalance: tuple[str, ...] = IMBALANCE,
    cost_missed_default: float = 5.0,
    cost_rejected_good: float = 1.0,
    truth: np.ndarray | None = None,
    seed: int = 0,
) -> TrainedRisk:
    """Cross-validate the candidates, then fit and calibrate the LightGBM champion on all rows.

    Parameters
    ----------
    book : LoanBook
    quick : bool
        3 folds and small models (tests).
    n_folds : int, optional
        Default 5 (3 when ``quick``).
    models, imbalance : tuple of str
        Candidates to compare; LightGBM is always included (it is the champion family).
    cost_missed_default, cost_rejected_good : float
        Costs that set the decision threshold for accuracy/precision/recall/F1.
    truth : ndarray, optional
        Ground-truth PD of each row (demo bank): adds the oracle AUC to the report.
    seed : int
    """
    folds = n_folds or (3 if quick else 5)
    models = (CHAMPION_MODEL, *[m for m in models if m != CHAMPION_MODEL])
    cands = candidates(models, imbalance)
    cv = cross_validate(
        book.x, book.y, book.spec.categorical_indices, cands, n_folds=folds, quick=quick, seed=seed,
        cost_missed_default=cost_missed_default, cost_rejected_good=cost_rejected_good,
    )  # fmt: skip
    summary = cv.summary()
    champion = choose_champion(summary, CHAMPION_MODEL)
    log.info("champion: %s", champion)
    pipe = make_pipeline(
        Candidate.parse(champion), book.spec.categorical_indices, book.x.shape[1], quick=quick,
        n_minority=int(book.y.sum()), seed=seed,
    )  # fmt: skip
    lgbm = pipe.fit(book.x, book.y).named_steps["model"]
    booster = lgbm.model_.booster_
    calibrator = ScoreCalibrator("auto", random_state=seed).fit(cv.raw[champion], book.y)
    model = RiskModel(book.spec, booster, calibrator)
    report: dict[str, Any] = {
        "source": book.source,
        "target": book.target,
        "positive": book.positive,
        "rows": int(len(book.y)),
        "default_rate": float(book.y.mean()),
        "folds": folds,
        "threshold": cv.threshold,
        "cost_missed_default": cost_missed_default,
        "cost_rejected_good": cost_rejected_good,
        "champion": champion,
        "calibration": calibrator.method_,
        "boosting_rounds": {"early_stopped": lgbm.best_iteration_, "final": lgbm.n_estimators_},
        "candidates": summary,
        "features": book.spec.features,
        "protected": book.spec.protected,
        "dropped": book.spec.dropped,
    }
    if truth is not None:
        report["oracle"] = oracle_report(book.y, truth, summary[champion]["roc_auc"]["mean"])
    return TrainedRisk(model, book, cv, champion, report, explain_sample(model, book, seed=seed))


def explain_sample(model: RiskModel, book: LoanBook, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Global SHAP importance over all rows and per-row SHAP values of a random sample (for dependence plots)."""
    contrib = contributions(model.booster, book.x)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(book.y), size=min(SHAP_SAMPLE, len(book.y)), replace=False))
    return {
        "importance": global_importance(contrib.values),
        "base": np.array([contrib.base]),
        "x": book.x[idx],
        "shap": contrib.values[idx],
        "y": book.y[idx],
        "pd": model.predict_encoded(book.x[idx]),
    }


def save_trained(trained: TrainedRisk, store: ArtifactStore, name: str = MODEL_NAME) -> Artifact:
    """Save the champion and its evaluation as one artifact (text model, JSON and npz only)."""
    cv = trained.cv

    def write(folder: Path) -> None:
        trained.model.save(folder)
        arrays = {"y": cv.y, "folds": cv.folds, "raw_champion": cv.raw[trained.champion]}
        arrays |= {f"cal__{k}": v for k, v in cv.calibrated.items()}
        np.savez(folder / EVALUATION_FILE, **arrays)
        np.savez(folder / EXPLAIN_FILE, **trained.sample)
        (folder / REPORT_FILE).write_text(json.dumps(trained.report, indent=2), encoding="utf-8")

    champion_metrics = {m: v["mean"] for m, v in trained.report["candidates"][trained.champion].items()}
    if "oracle" in trained.report:
        champion_metrics["oracle_ratio"] = trained.report["oracle"]["ratio"]
    frame = trained.book.frame
    return store.save(
        name,
        write,
        params={
            "champion": trained.champion,
            "folds": trained.report["folds"],
            "calibration": trained.report["calibration"],
        },
        metrics=champion_metrics,
        features={
            c: ("category" if c in trained.model.spec.categorical else "float64")
            for c in trained.model.spec.features
        },
        data_fingerprint=fingerprint(frame),
        row_count=len(frame),
        extra={
            "source": trained.book.source,
            "target": trained.book.target,
            "positive": trained.book.positive,
        },
    )


def train_from_bank(bank: Bank, store: ArtifactStore, *, quick: bool = False) -> Artifact:
    """Train the risk model on a bank's loans (joined to their customers) and save it as ``risk``."""
    frame = loan_frame(bank)
    book = prepare_loan_book(frame, TARGET, POSITIVE, source="demo bank loans")
    trained = train_loan_book(book, quick=quick, truth=true_pd(bank, frame["loan_id"]))
    return save_trained(trained, store, MODEL_NAME)
