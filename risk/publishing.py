"""Publish a trained risk model: every borrower scored (PD, band, reason codes) into ``risk_scores``, and the
evidence the Monitoring and Models pages read (fairness on a grid of cut-offs, drift on a grid of shifts, the model
card), so no page scores a population or generates a batch on request.

Everything here runs offline (after training, on promotion, or by ``ledgerlight publish``) with the whole bank in
memory; scoring is vectorised and chunked, with SHAP values from LightGBM's native TreeSHAP (``pred_contrib``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import Artifact, Bank, generate_later_batch, served_table, write_evidence, write_served
from risk.bands import BANDS, risk_band
from risk.bankbook import latest_loans, loan_frame
from risk.card import card_evidence
from risk.explain import contributions
from risk.fairness import model_fairness_grid
from risk.insights import PERMUTATION_ROWS, pdp_evidence, permutation_importance
from risk.monitoring import monitor_grid
from risk.reasons import reason_texts
from risk.scoring import RiskModel
from risk.training import MODEL_NAME

log = logging.getLogger(__name__)

#: columns of the Applicant grid, in display order (``reasons`` is the top reason codes joined by `` | ``)
GRID_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "loan_id",
    "pd",
    "band",
    "amount",
    "purpose",
    "credit_score",
    "income",
    "dti",
    "reasons",
)
#: columns the grid may sort by: each has an index on (model_version, column, customer_id)
SORTABLE: tuple[str, ...] = (
    "customer_id",
    "loan_id",
    "pd",
    "band",
    "amount",
    "purpose",
    "credit_score",
    "income",
    "dti",
)
REASON_SEPARATOR = " | "
REASONS_TOP = 4
SCORE_CHUNK = 100_000
#: threads of LightGBM's TreeSHAP while publishing (offline; the bulk of publishing's time at bank scale)
PUBLISH_THREADS = 2

SCORES_TABLE = served_table(
    "risk_scores",
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("loan_id", sa.BigInteger, nullable=False),
    sa.Column("pd", sa.Float, nullable=False),
    sa.Column("band", sa.String(2), nullable=False),
    sa.Column("amount", sa.Float),
    sa.Column("purpose", sa.String(40)),
    sa.Column("credit_score", sa.Float),
    sa.Column("income", sa.Float),
    sa.Column("dti", sa.Float),
    sa.Column("reasons", sa.Text),
    indexes=[("customer_id",), *((c, "customer_id") for c in SORTABLE if c != "customer_id")],
)

#: Monitoring: cut-offs whose fairness is published (the page's slider snaps to them; the training cut-off is added)
FAIRNESS_GRID: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(61))
#: Monitoring: population drift (``shift``) and concept drift (``pd_shift``) values whose reports are published
SHIFT_GRID: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)
PD_SHIFT_GRID: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)
#: the later month is generated for this many new customers (the bank's size when smaller) ...
DRIFT_CUSTOMERS = 50_000
#: ... and compared with a random sample of at most this many training loans
DRIFT_EXPECTED_LOANS = 20_000
BATCH_SEED = 101


def threshold_key(threshold: float) -> str:
    """The evidence kind of the fairness report at one cut-off (``fairness@0.17``)."""
    return f"fairness@{float(threshold):.4f}"


def drift_key(shift: float) -> str:
    """The evidence kind of the drift report of one population shift (``drift@0.50``)."""
    return f"drift@{float(shift):.2f}"


def _chunks(n: int, size: int = SCORE_CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def score_borrowers(model: RiskModel, loans: pd.DataFrame, *, top: int = REASONS_TOP) -> pd.DataFrame:
    """The rows of ``risk_scores`` for ``loans`` (one per borrower: their latest loan with the customer's columns).

    ``pd`` equals ``model.score(loans)["pd"]``; ``reasons`` are the ``top`` reason codes of each row (the same as
    :meth:`RiskModel.explain` gives), joined by :data:`REASON_SEPARATOR`; ``purpose`` is lower-cased (bands are
    upper case), so the grid's text filters compare in one case on every database.
    """
    x = model.encode(loans, source="borrowers")
    p = np.empty(len(loans), dtype=np.float64)
    reasons: list[str] = []
    for part in _chunks(len(loans)):
        p[part] = model.predict_encoded(x[part])
        shap = contributions(model.booster, x[part], num_threads=PUBLISH_THREADS).values
        reasons += reason_texts(model.spec, x[part], shap, top=top, sep=REASON_SEPARATOR)
    out = pd.DataFrame(
        {
            "customer_id": loans["customer_id"].to_numpy(dtype=np.int64),
            "loan_id": loans["loan_id"].to_numpy(dtype=np.int64),
            "pd": p,
            "band": np.asarray(risk_band(p), dtype=str) if len(p) else np.array([], dtype=object),
        }
    )
    for col in ("amount", "purpose", "credit_score", "income", "dti"):
        out[col] = loans[col].to_numpy() if col in loans.columns else None
    purpose = out["purpose"]
    out["purpose"] = purpose.astype(str).str.lower().astype(object).where(purpose.notna(), None)  # one case
    out["reasons"] = reasons
    return out


def fairness_evidence(artifact: Artifact, frame: pd.DataFrame) -> dict[str, Any]:
    """Fairness reports at the training cut-off (kind ``fairness``) and at every cut-off of :data:`FAIRNESS_GRID`
    (kinds :func:`threshold_key`), plus ``fairness_grid`` (the cut-offs published)."""
    report = artifact.load_json("report.json")
    trained = float(report["threshold"])
    grid = sorted({*FAIRNESS_GRID, round(trained, 4)})
    reports = model_fairness_grid(artifact, frame, [trained, *grid])
    out: dict[str, Any] = {"fairness": reports[0]}
    out |= {threshold_key(t): rep for t, rep in zip(grid, reports[1:], strict=True)}
    out["fairness_grid"] = {"thresholds": grid, "trained": round(trained, 4)}
    return out


GENERATED_DRIFT_UNAVAILABLE = (
    "The what-if drift of a generated later month is available on the demo bank only: it draws new customers from "
    "the demo generator's ground truth, which your own data does not have. Monitor a real later batch of your loans "
    "with `ledgerlight risk monitor --data FILE`."
)


def drift_evidence(model: RiskModel, bank: Bank, frame: pd.DataFrame, *, seed: int = 0) -> dict[str, Any]:
    """Drift reports of a generated later month for every shift of :data:`SHIFT_GRID` (kinds :func:`drift_key`).

    The later month has ``min(bank customers, DRIFT_CUSTOMERS)`` new customers (its persona mix follows the shift);
    the training side is a random sample of at most :data:`DRIFT_EXPECTED_LOANS` training loans. Concept drift
    (``pd_shift``) leaves the features, and so every PSI, unchanged: each report carries the later month's true
    default rate for every ``pd_shift`` of :data:`PD_SHIFT_GRID` instead (from the generator's ground truth).
    """
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(frame), size=min(len(frame), DRIFT_EXPECTED_LOANS), replace=False))
    expected = frame.iloc[take].reset_index(drop=True)
    n_customers = int(min(bank.n_customers, DRIFT_CUSTOMERS))
    actuals: dict[float, pd.DataFrame] = {}
    truth: dict[float, np.ndarray | None] = {}
    for shift in SHIFT_GRID:
        later = generate_later_batch(bank, n_customers=n_customers, seed=BATCH_SEED, shift=shift)
        actuals[shift] = loan_frame(later)
        truth[shift] = (
            later.truth.loan_pd["true_pd"].to_numpy(dtype=np.float64)
            if later.truth is not None and later.truth.loan_pd is not None
            else None
        )
    reports = monitor_grid(model, expected, actuals)
    out: dict[str, Any] = {}
    for shift, rep in reports.items():
        doc = rep.to_dict()
        doc["later_customers"] = n_customers
        known = truth[shift]
        doc["true_default_rate"] = (
            {}
            if known is None
            else {f"{d:.2f}": float(_shift_log_odds(known, d).mean()) for d in PD_SHIFT_GRID}
        )
        out[drift_key(shift)] = doc
    out["drift_grid"] = {
        "shift": list(SHIFT_GRID),
        "pd_shift": list(PD_SHIFT_GRID),
        "later_customers": n_customers,
        "expected_loans": len(expected),
        "training_loans": len(frame),
    }
    return out


def _shift_log_odds(p: np.ndarray, delta: float) -> np.ndarray:
    """PDs with ``delta`` added to their log-odds (what the generator's ``pd_shift`` does)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + delta)))


PERMUTATION_UNAVAILABLE = (
    "Permutation importance is measured on held-out loans the champion never saw: on the demo bank, a generated "
    "later month. The champion is fitted on every loan of your own data, so none is held out."
)


def insight_evidence(model: RiskModel, artifact: Artifact, bank: Bank, *, seed: int = 0) -> dict[str, Any]:
    """``permutation_importance`` (drop in ROC-AUC per shuffled feature, on held-out loans: the demo bank's
    generated later month at no shift) and ``pdp`` (every feature's portfolio partial dependence over the stored
    explanation sample; see :mod:`risk.insights`)."""
    out: dict[str, Any] = {"pdp": pdp_evidence(model, artifact.load_npz("explain.npz")["x"], seed=seed)}
    if bank.truth is None:
        out["permutation_importance"] = {"unavailable": PERMUTATION_UNAVAILABLE}
        return out
    later = loan_frame(
        generate_later_batch(
            bank, n_customers=int(min(bank.n_customers, DRIFT_CUSTOMERS)), seed=BATCH_SEED, shift=0.0
        )
    )
    later = later.iloc[:PERMUTATION_ROWS]
    try:
        doc = permutation_importance(
            model,
            model.encode(later, source="later month"),
            later["defaulted"].to_numpy(dtype=np.int8),
            seed=seed,
        )
        doc["held_out"] = f"{len(later):,} loans of a generated later month (never seen in training)"
    except ValueError as exc:
        doc = {"unavailable": str(exc)}
    out["permutation_importance"] = doc
    return out


def band_counts(scores: pd.DataFrame) -> dict[str, int]:
    """Borrowers per band (every band present, zero when empty)."""
    counts = scores["band"].value_counts()
    return {b: int(counts.get(b, 0)) for b in BANDS}


def publish(artifact: Artifact, bank: Bank, url: str | None = None) -> dict[str, int]:
    """Score every borrower with ``artifact`` and write ``risk_scores`` and the risk evidence of its version.

    Evidence kinds: ``card`` (:func:`risk.card_evidence`), ``fairness`` and ``fairness@<cut-off>``,
    ``fairness_grid``, ``drift@<shift>``, ``drift_grid``, ``permutation_importance``, ``pdp``, ``scores_summary`` (borrowers per band, mean PD).

    Returns
    -------
    dict
        Rows written per serving table.
    """
    if artifact.model != MODEL_NAME:
        raise ValueError(
            f"risk.publish takes a {MODEL_NAME} artifact, got {artifact.model}/{artifact.version}"
        )
    model = RiskModel.load(artifact)
    frame = loan_frame(bank)
    scores = score_borrowers(model, latest_loans(bank))
    written = write_served(SCORES_TABLE, artifact.version, scores, url)
    evidence: dict[str, Any] = {"card": card_evidence(artifact, frame)}
    try:
        evidence |= fairness_evidence(artifact, frame)
    except ValueError as exc:  # no protected column in the data: the page says so
        evidence["fairness_note"] = str(exc)
    if bank.truth is not None:  # the demo bank: a later month can be generated from the same ground truth
        evidence |= drift_evidence(model, bank, frame)
    else:
        evidence["drift_grid"] = {"unavailable": GENERATED_DRIFT_UNAVAILABLE}
    evidence |= insight_evidence(model, artifact, bank)
    evidence["scores_summary"] = {
        "borrowers": int(len(scores)),
        "bands": band_counts(scores),
        "mean_pd": float(scores["pd"].mean()) if len(scores) else None,
    }
    write_evidence(MODEL_NAME, artifact.version, evidence, url)
    log.info(
        "published risk %s: %s borrowers, %s evidence documents",
        artifact.version,
        f"{written:,}",
        len(evidence),
    )
    return {SCORES_TABLE.name: written}
