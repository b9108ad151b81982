"""Train the risk model: cross-validate every candidate, pick the champion's imbalance treatment, fit, calibrate,
explain, save.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankdata import Artifact, ArtifactStore, Bank, fingerprint, population_of_bank, population_of_file
from risk.bankbook import POSITIVE, TARGET, loan_frame, true_pd
from risk.calibration import ScoreCalibrator
from risk.explain import contributions, global_importance
from risk.fairness import protected_groups
from risk.features import MISSING_CATEGORY, FeatureSpec
from risk.loanbook import LoanBook, prepare_loan_book
from risk.metrics import roc_auc
from risk.models import (
    CHAMPION_MODEL,
    IMBALANCE,
    MODELS,
    TUNED_MODEL,
    Candidate,
    candidates,
    imputes_missing,
    make_pipeline,
    monotone_vector,
)
from risk.scoring import RiskModel
from risk.tuning import Tuning
from risk.validation import CVResult, choose_champion, cross_validate

log = logging.getLogger(__name__)

MODEL_NAME = "risk"
EVALUATION_FILE = "evaluation.npz"
EXPLAIN_FILE = "explain.npz"
REPORT_FILE = "report.json"
SHAP_SAMPLE = 2_000
#: candidates are compared (cross-validated) on a stratified sample of at most this many loans; the champion is
#: then fitted on every loan. Keeps training, the stored out-of-fold predictions and the Portfolio page bounded.
CV_SAMPLE = 100_000
#: what :func:`train_from_bank` (``ledgerlight setup`` / ``train risk``) compares: LightGBM and logistic regression,
#: each untreated and class-weighted. The random forest (70 % of the nine-way comparison's time on 50k customers)
#: and SMOTE (the lowest ROC-AUC of every treatment on the demo bank and the shared files, and the slowest after the
#: forest) are left to ``ledgerlight risk evaluate`` / ``risk train``, which compare all nine by default.
BANK_MODELS = ("lightgbm", "logistic")
BANK_IMBALANCE = ("none", "class_weight")
#: Monotone constraints a regulator expects on the demo bank: more delinquencies or a higher debt-to-income ratio
#: never lower the PD, a higher credit score never raises it
BANK_MONOTONE = {"prior_delinquencies": 1, "dti": 1, "credit_score": -1}


@dataclass(frozen=True)
class TrainedRisk:
    """Everything training produced, before it is saved.

    Attributes
    ----------
    model : RiskModel
        The calibrated champion, fitted on all rows.
    book : LoanBook
    cv : CVResult
        Out-of-fold predictions of every candidate, on the rows ``cv_rows`` of the book.
    champion : str
        Candidate name of the champion (``lightgbm+...``).
    report : dict
        JSON-ready summary: per-candidate metrics, champion, threshold, oracle (demo bank), calibration method,
        boosting rounds of the final LightGBM (best early-stopped round, rounds of the refit on all rows),
        ``cv_rows`` (loans the candidates were compared on) and ``cv_note``.
    sample : dict of ndarray
        Explanations of a sample of rows (``x``, ``shap``, ``y``, ``pd``) and global ``importance``.
    cv_rows : ndarray, optional
        Positions in the book of the cross-validation sample (None: every row).
    """

    model: RiskModel
    book: LoanBook
    cv: CVResult
    champion: str
    report: dict[str, Any]
    sample: dict[str, np.ndarray]
    cv_rows: np.ndarray | None = None


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
    cv_limit: int = CV_SAMPLE,
    tune: bool = False,
    tuning: Tuning | None = None,
    monotone: dict[str, int] | None = None,
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
    cv_limit : int
        Compare the candidates on a stratified sample of at most this many rows (the champion is fitted on all).
    tune : bool
        The champion family is ``lightgbm_tuned`` (searched inside each fit, :mod:`risk.tuning`); the untuned
        LightGBM is still compared beside it.
    tuning : Tuning, optional
        Search budget of the tuned model.
    monotone : dict, optional
        ``{feature: +1 or -1}`` applied to LightGBM (tuned or not) as ``monotone_constraints``; recorded in the
        report and the artifact's params.
    """
    folds = n_folds or (3 if quick else 5)
    family = TUNED_MODEL if tune else CHAMPION_MODEL
    models = (*dict.fromkeys((CHAMPION_MODEL, family, *models)),)
    cands = candidates(models, imbalance)
    constraints = monotone_vector(book.spec.features, book.spec.categorical_indices, monotone)
    rows = cv_sample(book.y, cv_limit, seed=seed)
    x_cv, y_cv = (book.x, book.y) if rows is None else (book.x[rows], book.y[rows])
    cv = cross_validate(
        x_cv, y_cv, book.spec.categorical_indices, cands, n_folds=folds, quick=quick, seed=seed,
        cost_missed_default=cost_missed_default, cost_rejected_good=cost_rejected_good, monotone=constraints,
        tuning=tuning,
    )  # fmt: skip
    summary = cv.summary()
    champion = choose_champion(summary, family)
    log.info("champion: %s", champion)
    pipe = make_pipeline(
        Candidate.parse(champion), book.spec.categorical_indices, book.x.shape[1], quick=quick,
        n_minority=int(book.y.sum()), seed=seed, monotone=constraints, tuning=tuning,
    )  # fmt: skip
    lgbm = pipe.fit(book.x, book.y).named_steps["model"]
    booster = lgbm.model_.booster_
    calibrator = ScoreCalibrator("auto", random_state=seed).fit(cv.raw[champion], y_cv)
    # a SMOTE champion was fitted on median-filled rows: the served spec fills them the same way
    spec = replace(book.spec, missing="fill") if imputes_missing(Candidate.parse(champion)) else book.spec
    model = RiskModel(spec, booster, calibrator)
    report: dict[str, Any] = {
        "source": book.source,
        "target": book.target,
        "positive": book.positive,
        "rows": int(len(book.y)),
        "cv_rows": int(len(y_cv)),
        "cv_note": cv_note(len(y_cv), len(book.y)),
        "default_rate": float(book.y.mean()),
        "folds": folds,
        "threshold": cv.threshold,
        "cost_missed_default": cost_missed_default,
        "cost_rejected_good": cost_rejected_good,
        "champion": champion,
        "calibration": calibrator.method_,
        "boosting_rounds": {"early_stopped": lgbm.best_iteration_, "final": lgbm.n_estimators_},
        "candidates": summary,
        "monotone": {f: c for f, c in zip(book.spec.features, constraints, strict=False) if c},
        "features": book.spec.features,
        "protected": book.spec.protected,
        "dropped": book.spec.dropped,
    }
    if tune:
        report["tuning"] = {"final": lgbm.search_, "folds": cv.search.get(champion, [])}
    if truth is not None:
        truth_cv = truth if rows is None else np.asarray(truth)[rows]
        report["oracle"] = oracle_report(y_cv, truth_cv, summary[champion]["roc_auc"]["mean"])
    return TrainedRisk(
        model, book, cv, champion, report, explain_sample(model, book, seed=seed, rows=rows), rows
    )


def cv_sample(y: np.ndarray, limit: int = CV_SAMPLE, *, seed: int = 0) -> np.ndarray | None:
    """Sorted positions of a stratified (by label) random sample of at most ``limit`` rows; None when every row fits."""
    y = np.asarray(y)
    if len(y) <= limit:
        return None
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        take = max(1, int(round(limit * len(where) / len(y))))
        picked.append(rng.choice(where, size=min(take, len(where)), replace=False))
    return np.sort(np.concatenate(picked))


def cv_note(cv_rows: int, rows: int) -> str:
    """How the candidates were compared, in words (the Portfolio page and the report show it)."""
    if cv_rows >= rows:
        return f"Candidates compared by cross-validation on all {rows:,} loans; the champion is fitted on all of them."
    return (
        f"Candidates compared by cross-validation on a stratified sample of {cv_rows:,} of {rows:,} loans "
        f"(out-of-fold figures and the calibration come from it); the champion is fitted on all {rows:,} loans."
    )


def explain_sample(
    model: RiskModel, book: LoanBook, *, seed: int = 0, rows: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Global SHAP importance over ``rows`` (default all rows) and per-row SHAP values of a random sample of them
    (for dependence plots). The SHAP values are of the rows as the model sees them; the sample's ``x`` has missing
    numbers shown as the median (what the plots and partial dependence grids need)."""
    x, y = (book.x, book.y) if rows is None else (book.x[rows], book.y[rows])
    if model.spec.missing == "fill":
        x = model.spec.filled(x)
    contrib = contributions(model.booster, x)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(y), size=min(SHAP_SAMPLE, len(y)), replace=False))
    return {
        "importance": global_importance(contrib.values),
        "base": np.array([contrib.base]),
        "x": model.spec.filled(x[idx]),
        "shap": contrib.values[idx],
        "y": y[idx],
        "pd": model.predict_encoded(x[idx]),
    }


def held_out_keys(book: LoanBook, rows: np.ndarray | None) -> dict[str, np.ndarray]:
    """Which loan each out-of-fold PD is of (``loan_id``) and its protected groups (``group__<attribute>``).

    Saved beside the out-of-fold PDs so that two versions can be compared on the same loans, fairness included,
    without the loan book (:mod:`risk.challenger`). Text is stored as numpy unicode, never as objects.
    """
    frame = book.frame if rows is None else book.frame.iloc[rows]
    out: dict[str, np.ndarray] = {}
    if "loan_id" in frame.columns:
        ids = frame["loan_id"].to_numpy()
        out["loan_id"] = ids if np.issubdtype(ids.dtype, np.integer) else ids.astype(np.str_)
    present = [c for c in book.spec.protected if c in frame.columns]
    for name, labels in protected_groups(frame, present).items():
        out[f"group__{name}"] = np.asarray(labels).astype(np.str_)
    return out


def save_trained(
    trained: TrainedRisk,
    store: ArtifactStore,
    name: str = MODEL_NAME,
    *,
    population: dict[str, Any] | None = None,
) -> Artifact:
    """Save the champion and its evaluation as one artifact (text model, JSON and npz only).

    ``population`` (:func:`bankdata.population_of_bank` or ``population_of_file``) says what it was trained on;
    promotion checks it.
    """
    cv = trained.cv

    def write(folder: Path) -> None:
        trained.model.save(folder)
        arrays: dict[str, Any] = {"y": cv.y, "folds": cv.folds, "raw_champion": cv.raw[trained.champion]}
        if trained.cv_rows is not None:
            arrays["rows"] = trained.cv_rows
        arrays |= held_out_keys(trained.book, trained.cv_rows)
        arrays |= {f"cal__{k}": v for k, v in cv.calibrated.items()}
        np.savez(folder / EVALUATION_FILE, **arrays)
        sample: dict[str, Any] = dict(trained.sample)
        np.savez(folder / EXPLAIN_FILE, **sample)
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
            "monotone_constraints": trained.report.get("monotone", {}),
            "tuned_params": trained.report.get("tuning", {}).get("final", {}).get("best_params"),
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
            "imputation": imputation_record(trained.model.spec, frame),
            "population": population or population_of_file(trained.book.source, len(frame)),
            # the back-test (risk.backtest) reads the loans issued after this as the version's later loans
            "trained_through": str(frame["issued_at"].max()) if "issued_at" in frame.columns else None,
        },
    )


def imputation_record(spec: FeatureSpec, frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    """How many training rows missed each feature and what stood in for them (the median, a category of its own, or
    nothing: LightGBM's own missing-value branch)."""
    record: dict[str, dict[str, object]] = {}
    for col in spec.features:
        if col not in frame.columns or not (n := int(frame[col].isna().sum())):
            continue
        if col in spec.categorical:
            filled = f"category '{MISSING_CATEGORY}'"
        elif spec.missing == "keep":
            filled = "kept missing (LightGBM's missing-value branch)"
        else:
            filled = f"median {spec.fill[col]:.6g}"
        record[col] = {"missing": n, "filled_with": filled}
    return record


def train_from_bank(
    bank: Bank,
    store: ArtifactStore,
    *,
    quick: bool = False,
    models: tuple[str, ...] = BANK_MODELS,
    imbalance: tuple[str, ...] = BANK_IMBALANCE,
) -> Artifact:
    """Train the risk model on a bank's loans (joined to their customers) and save it as ``risk``.

    Compares ``models`` x ``imbalance`` (default :data:`BANK_MODELS` x :data:`BANK_IMBALANCE`), LightGBM with
    :data:`BANK_MONOTONE` on those of its features that are numeric here.
    """
    frame = loan_frame(bank)
    book = prepare_loan_book(frame, TARGET, POSITIVE, source="demo bank loans")
    trained = train_loan_book(
        book, quick=quick, models=models, imbalance=imbalance, truth=true_pd(bank, frame["loan_id"]),
        monotone={f: c for f, c in BANK_MONOTONE.items() if f in book.spec.numeric},  # a loaded bank may differ
    )  # fmt: skip
    return save_trained(trained, store, MODEL_NAME, population=population_of_bank(bank))
