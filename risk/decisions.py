"""Decision records of the risk model: build one from a scored applicant, and re-score one with its recorded version.

A record keeps the model inputs (canonical JSON), the model version and the sha256 of its files, so that re-scoring
it later, whatever version is served by then, loads exactly that version, checks its files are the ones recorded
and gives the same PD (the same float), decision and reasons. Storage is ``bankdata`` (``decision_records``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankdata import (
    Artifact,
    ArtifactError,
    ArtifactStore,
    DecisionRecord,
    NewDecision,
    canonical_json,
    sha256_text,
)
from risk.explain import contributions
from risk.reasons import reason_items
from risk.recourse import find_recourse
from risk.scoring import RiskModel

#: principal reasons kept per decision (US Regulation B practice: up to four)
MAX_REASONS = 4


@dataclass(frozen=True)
class Assessment:
    """What the model says of one applicant: PD, decision at the cut-off and the reason codes."""

    pd: float
    decision: str
    reasons: list[dict[str, str]]


@dataclass(frozen=True)
class Rescore:
    """A recorded decision scored again with its recorded version: what came out and what differs."""

    record_id: int
    pd: float
    decision: str
    reasons: list[dict[str, str]]
    differences: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        """The same PD (bit for bit), decision and reasons as recorded."""
        return not self.differences


def artifact_sha256(artifact: Artifact) -> str:
    """One sha256 for a version's files: of the canonical JSON of the ``{file: sha256}`` its metadata lists."""
    return sha256_text(canonical_json(artifact.metadata["files"]))


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def json_inputs(model: RiskModel, values: Mapping[str, Any]) -> dict[str, Any]:
    """The model's inputs of one applicant as JSON values (numbers, text, None for missing), in model order."""
    missing = [c for c in model.spec.features if c not in values]
    if missing:
        raise ValueError(f"missing model input(s) {', '.join(missing)}")
    return {c: _json_value(values[c]) for c in model.spec.features}


def _decision(p: float, cutoff: float) -> str:
    return "decline" if p >= cutoff else "approve"


def _reasons(model: RiskModel, x_row: np.ndarray, shap_row: np.ndarray) -> list[dict[str, str]]:
    return [
        {"code": code, "text": text}
        for code, text in reason_items(model.spec, x_row, shap_row, top=MAX_REASONS)
    ]


def assess(model: RiskModel, inputs: Mapping[str, Any], cutoff: float) -> Assessment:
    """Score one applicant's inputs: PD, decision (decline when PD >= ``cutoff``) and up to four reason codes."""
    if not 0.0 < float(cutoff) <= 1.0:
        raise ValueError(f"the cut-off must lie in (0, 1], got {cutoff}")
    x = model.spec.encode_row(dict(inputs), source="recorded inputs")
    p = float(model.predict_encoded(x)[0])
    shap = contributions(model.booster, x).values[0]
    return Assessment(p, _decision(p, cutoff), _reasons(model, x[0], shap))


def _recourse(model: RiskModel, inputs: dict[str, Any], cutoff: float) -> dict[str, Any] | None:
    try:
        return find_recourse(model, inputs, cutoff).to_dict()
    except ValueError:  # no actionable feature in this model: nothing to search
        return None


def build_decision(
    artifact: Artifact,
    model: RiskModel,
    values: Mapping[str, Any],
    cutoff: float,
    *,
    customer_id: int,
    loan_id: int | None,
    recorded_by: str,
    with_recourse: bool = True,
) -> NewDecision:
    """The record of one applicant scored by ``model`` (loaded from ``artifact``) at ``cutoff``.

    A declined applicant's record carries the recourse found (:func:`risk.find_recourse`) when ``with_recourse``.
    """
    inputs = json_inputs(model, values)
    a = assess(model, inputs, cutoff)
    recourse = _recourse(model, inputs, cutoff) if with_recourse and a.decision == "decline" else None
    return NewDecision(
        recorded_by=recorded_by,
        customer_id=int(customer_id),
        loan_id=None if loan_id is None else int(loan_id),
        inputs=inputs,
        model=artifact.model,
        model_version=artifact.version,
        model_sha256=artifact_sha256(artifact),
        pd=a.pd,
        cutoff=float(cutoff),
        decision=a.decision,
        reasons=a.reasons,
        recourse=recourse,
    )


def batch_decisions(
    artifact: Artifact,
    model: RiskModel,
    frame: pd.DataFrame,
    cutoff: float,
    *,
    recorded_by: str,
    with_recourse: bool = True,
) -> list[NewDecision]:
    """The records of every row of ``frame`` (which needs ``customer_id``; ``loan_id`` is kept when present),
    scored in one batch: each PD equals ``model.score(frame)``'s and what :func:`assess` gives for its inputs."""
    if not 0.0 < float(cutoff) <= 1.0:
        raise ValueError(f"the cut-off must lie in (0, 1], got {cutoff}")
    if "customer_id" not in frame.columns:
        raise ValueError("recording decisions needs a customer_id column")
    x = model.encode(frame, source="batch")
    p = model.predict_encoded(x)
    shap = contributions(model.booster, x).values
    loans = frame["loan_id"].tolist() if "loan_id" in frame.columns else [None] * len(frame)
    digest = artifact_sha256(artifact)
    out = []
    for i, row in enumerate(frame.loc[:, model.spec.features].to_dict("records")):
        inputs = json_inputs(model, row)
        decision = _decision(float(p[i]), cutoff)
        recourse = _recourse(model, inputs, cutoff) if with_recourse and decision == "decline" else None
        loan = loans[i]
        out.append(
            NewDecision(
                recorded_by=recorded_by,
                customer_id=int(frame["customer_id"].iat[i]),
                loan_id=None if loan is None or pd.isna(loan) else int(loan),
                inputs=inputs,
                model=artifact.model,
                model_version=artifact.version,
                model_sha256=digest,
                pd=float(p[i]),
                cutoff=float(cutoff),
                decision=decision,
                reasons=_reasons(model, x[i], shap[i]),
                recourse=recourse,
            )
        )
    return out


def recorded_model(record: DecisionRecord, store: ArtifactStore) -> tuple[Artifact, RiskModel]:
    """The recorded version of a record's model, verified against the record.

    Raises
    ------
    ArtifactError
        The version is no longer in the store (or fails its own checks), or its files are not those recorded.
    """
    where = f"decision {record.id}"
    try:
        artifact = store.load(record.model, record.model_version)
    except ArtifactError as exc:
        raise ArtifactError(f"{where}: its model version cannot be loaded: {exc}") from None
    found = artifact_sha256(artifact)
    if found != record.model_sha256:
        raise ArtifactError(
            f"{where}: the files of {record.model}/{record.model_version} changed since it was "
            f"recorded (sha256 {found[:12]}… instead of {record.model_sha256[:12]}…)"
        )
    return artifact, RiskModel.load(artifact)


def rescore(record: DecisionRecord, store: ArtifactStore, model: RiskModel | None = None) -> Rescore:
    """Score a record again with its recorded version and compare PD (bit for bit), decision and reasons.

    ``model``: the recorded version already loaded (by :func:`recorded_model`), to re-score many records.

    Raises
    ------
    ArtifactError
        The recorded version is missing or its files changed (:func:`recorded_model`).
    """
    if model is None:
        _, model = recorded_model(record, store)
    differences = []
    if sha256_text(canonical_json(record.inputs)) != record.input_hash:
        differences.append("the inputs do not match their recorded hash")
    a = assess(model, record.inputs, record.cutoff)
    if a.pd != record.pd:
        differences.append(f"PD {a.pd!r} instead of {record.pd!r}")
    if a.decision != record.decision:
        differences.append(f"decision {a.decision} instead of {record.decision}")
    if a.reasons != record.reasons:
        differences.append(
            f"reasons {[r['code'] for r in a.reasons]} instead of {[r.get('code') for r in record.reasons]}"
        )
    return Rescore(record.id, a.pd, a.decision, a.reasons, differences)
