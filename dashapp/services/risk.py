"""The risk model's data for the Risk pages and for other areas: loaded once per worker, returned as plain data."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import risk
from bankdata import ArtifactError, ArtifactStore, get_settings
from dashapp.services import audit
from dashapp.services.bank import DataUnavailable, get_bank
from dashapp.services.validation import InputError
from risk import Recourse, find_recourse

TRAIN_COMMAND = "ledgerlight risk train"
GRID_COLUMNS = ("customer_id", "loan_id", "pd", "band", "amount", "purpose", "credit_score", "income", "dti")


@dataclass(frozen=True)
class Portfolio:
    """What the Portfolio page shows: the training report and out-of-fold predictions of every candidate."""

    version: str
    report: dict[str, Any]
    y: np.ndarray
    calibrated: dict[str, np.ndarray]  # candidate -> calibrated out-of-fold probabilities
    sample: dict[str, np.ndarray]  # x, shap, y, pd of a sample; global importance
    spec: risk.FeatureSpec

    @property
    def champion(self) -> str:
        """Candidate name of the champion."""
        return self.report["champion"]


def _checkpoints() -> tuple[str, str | None]:
    """The store's folder and the version LATEST names now (a cheap file read), the key of every cache below, so a
    newly promoted or retrained version is picked up without a restart."""
    root = str(get_settings().checkpoints_dir)
    return root, ArtifactStore(root).latest(risk.MODEL_NAME)


@functools.cache
def _artifact(root: str, version: str | None) -> Any:
    return ArtifactStore(root).load(risk.MODEL_NAME, version)


@functools.cache
def _model(root: str, version: str | None) -> risk.RiskModel:
    return risk.RiskModel.load(_artifact(root, version))


def get_artifact() -> Any:
    """The latest risk artifact (verified). Raises ``ArtifactError`` when it is not trained."""
    return _artifact(*_checkpoints())


def get_model() -> risk.RiskModel:
    """The latest risk model. Raises ``ArtifactError`` when it is not trained."""
    return _model(*_checkpoints())


def get_portfolio() -> Portfolio:
    """The trained model's evaluation. Raises ``ArtifactError`` when the model is not trained."""
    return _portfolio(*_checkpoints())


@functools.cache
def _portfolio(root: str, version: str | None) -> Portfolio:
    art = _artifact(root, version)
    evaluation = art.load_npz("evaluation.npz")
    calibrated = {k.removeprefix("cal__"): v for k, v in evaluation.items() if k.startswith("cal__")}
    spec = risk.FeatureSpec.from_dict(art.load_json("spec.json"))
    return Portfolio(art.version, art.load_json("report.json"), evaluation["y"], calibrated, art.load_npz("explain.npz"), spec)


def cutoff_summary(threshold: float, cost_missed_default: float, cost_rejected_good: float) -> risk.CutoffSummary:
    """Confusion matrix, approval rate and expected loss of the champion's out-of-fold scores at ``threshold``."""
    p = get_portfolio()
    return risk.summarize_cutoff(p.y, p.calibrated[p.champion], threshold, cost_missed_default, cost_rejected_good)


def best_threshold(cost_missed_default: float, cost_rejected_good: float) -> float:
    """The cost-minimising threshold on the champion's out-of-fold scores."""
    p = get_portfolio()
    return risk.optimal_threshold(p.y, p.calibrated[p.champion], cost_missed_default, cost_rejected_good)


@functools.cache
def _applicants(root: str, version: str | None, url: str) -> pd.DataFrame:
    model = _model(root, version)
    loans = risk.latest_loans(get_bank(url))
    scored = model.score(loans)
    return loans.assign(pd=scored["pd"].to_numpy(), band=scored["band"].astype("str").to_numpy())


def applicants() -> pd.DataFrame:
    """Each borrower's latest loan with the customer's attributes, ``pd`` and ``band`` (the Applicant grid)."""
    return _applicants(*_checkpoints(), get_settings().database_url)


def grid_rows() -> list[dict[str, Any]]:
    """The applicant grid's rows (a few columns, rounded); audited as a view of the applicant list."""
    frame = applicants().loc[:, list(GRID_COLUMNS)].round({"pd": 4, "income": 0, "dti": 3})
    audit.served("view_applicants", "applicant grid", {"rows": len(frame)})
    return frame.to_dict("records")


def applicant_features(customer_id: int) -> dict[str, Any]:
    """The model's feature values of one borrower's latest loan (the what-if panel's starting point); audited as
    a view of that customer's application.

    Raises
    ------
    InputError
        No borrower with this id.
    """
    frame = applicants()
    row = frame.loc[frame["customer_id"] == int(customer_id)]
    if row.empty:
        raise InputError("customer id", f"no borrower with customer id {int(customer_id)}")
    spec = get_portfolio().spec
    values = {c: (row.iloc[0][c].item() if hasattr(row.iloc[0][c], "item") else row.iloc[0][c]) for c in spec.features}
    audit.served("view_applicant", f"customer {int(customer_id)}")
    return values


def explain(features: dict[str, Any]) -> risk.Explanation:
    """Score and explain one applicant from feature values (as edited in the what-if panel), once they are
    checked against the model's spec (``risk.check_applicant``: training ranges with a margin, known categories).

    Raises
    ------
    InvalidApplicant
        Naming every bad field and why (a ``ValueError``).
    """
    model = get_model()
    return model.explain(risk.check_applicant(model.spec, features))


def recourse(features: dict[str, Any], threshold: float) -> Recourse:
    """The cheapest actionable changes that bring this applicant under ``threshold`` (see ``risk.recourse``)."""
    model = get_model()
    return find_recourse(model, risk.check_applicant(model.spec, features), threshold)


def customer_risk_bands() -> pd.DataFrame | None:
    """customer_id, pd, band of every borrower, or None when the risk model is not trained (or there is no bank)."""
    try:
        frame = applicants()
    except (ArtifactError, DataUnavailable):
        return None
    return frame.loc[:, ["customer_id", "pd", "band"]].reset_index(drop=True)
