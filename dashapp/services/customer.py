"""Customer 360: one customer's profile, transactions, risk, segment and products, from the other areas' services.

Each part is optional: a model that is not trained leaves its part ``None`` (with the command that makes it in
``missing``), so the page still shows what exists. Nothing here trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import risk
from bankdata import ArtifactError
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import audit, validation
from dashapp.services import recsys as recsys_service
from dashapp.services import risk as risk_service
from dashapp.services import segments as segments_service
from dashapp.services.bank import get_bank
from risk import Recourse, find_recourse

PROFILE_COLUMNS = ("age", "gender", "region", "income", "employment", "tenure_months", "credit_score", "balance",
                   "signup_date")
NEXT_BEST_MODEL = "mf"


@dataclass(frozen=True)
class RiskPart:
    """The customer's latest loan scored: PD, band, reasons, decision at the training cut-off and recourse."""

    explanation: risk.Explanation
    threshold: float
    loan: dict[str, Any]
    recourse: Recourse | None


@dataclass(frozen=True)
class Customer360:
    """Everything the Customer page shows for one customer."""

    customer_id: int
    profile: dict[str, Any]
    monthly: pd.DataFrame  # month, direction, amount, count
    loans: pd.DataFrame
    risk: RiskPart | None = None
    segment: dict[str, Any] | None = None  # segment, name, customers, share, distinctive, medians
    held: pd.DataFrame | None = None  # product_id, name, family
    next_best: pd.DataFrame | None = None  # rank, product_id, name, family, score, reason
    credit_blocked: bool = False
    missing: dict[str, str] = field(default_factory=dict)  # part -> why it is missing


def parse_customer_id(raw: Any) -> int:
    """A customer id from the URL or an input; ``InputError`` (a ``ValueError``) naming the bad value."""
    return validation.customer_id(raw)


def _risk_part(customer_id: int) -> RiskPart | None:
    frame = risk_service.applicants()
    row = frame.loc[frame["customer_id"] == customer_id]
    if row.empty:
        return None
    features = risk_service.applicant_features(customer_id)
    threshold = float(risk_service.get_portfolio().report["threshold"])
    explanation = risk_service.explain(features)
    recourse = find_recourse(risk_service.get_model(), features, threshold) if explanation.pd >= threshold else None
    loan_cols = [c for c in ("loan_id", "issued_at", "amount", "term_months", "interest_rate", "purpose", "dti")
                 if c in row.columns]
    return RiskPart(explanation, threshold, row.iloc[0][loan_cols].to_dict(), recourse)


def _segment_part(customer_id: int) -> dict[str, Any] | None:
    seg = segments_service.get_segmentation()
    table = seg.customers
    hit = table.loc[table["customer_id"] == customer_id, "segment"]
    if hit.empty:
        return None
    segment = int(hit.iloc[0])
    cards = segments_service.segment_view(segments_service.SegmentFilter()).cards
    card = cards.loc[cards["segment"] == segment]
    return card.iloc[0].to_dict() if not card.empty else {"segment": segment, "name": segments_service.segment_names()[segment]}


def customer_360(customer_id: int, role: str | None = None) -> Customer360:
    """Assemble the customer's whole picture as ``role`` may see it (``dashapp.policy``): the risk part only with
    ``Capability.SCORES``, credit history (credit score, DTI, rates, delinquencies, defaults) only with
    ``Capability.CREDIT_HISTORY``. Audited as a view of the customer.

    Raises
    ------
    ValueError
        No customer with this id.
    DataUnavailable
        The bank cannot be read.
    """
    bank = get_bank()
    customers = bank.customers
    row = customers.loc[customers["customer_id"] == int(customer_id)]
    if row.empty:
        raise ValueError(f"no customer with id {customer_id}")
    columns = policy.visible_columns(role, [c for c in PROFILE_COLUMNS if c in row.columns])
    profile = {c: row.iloc[0][c] for c in columns}
    tx = bank.transactions.loc[bank.transactions["customer_id"] == int(customer_id)]
    monthly = (tx.assign(month=tx["ts"].dt.to_period("M").dt.to_timestamp())
               .groupby(["month", "direction"], as_index=False)
               .agg(amount=("amount", "sum"), count=("amount", "size")))
    loans = policy.redact(bank.loans.loc[bank.loans["customer_id"] == int(customer_id)].drop(columns="customer_id"),
                          role)
    missing: dict[str, str] = {}
    parts: dict[str, Any] = {}
    try:
        if policy.may(role, Capability.SCORES):
            parts["risk"] = _risk_part(int(customer_id))
    except ArtifactError as exc:
        missing["risk"] = f"{risk_service.TRAIN_COMMAND}: {exc}"
    try:
        parts["segment"] = _segment_part(int(customer_id))
    except segments_service.SegmentsNotTrained as exc:
        missing["segment"] = f"ledgerlight segments train: {exc}"
    try:
        view = recsys_service.customer_view(int(customer_id), n=5)
        parts["held"] = view.held
        parts["next_best"] = view.recommendations.get(NEXT_BEST_MODEL, next(iter(view.recommendations.values())))
        parts["credit_blocked"] = view.credit_blocked
    except recsys_service.RecsysNotTrained as exc:
        missing["products"] = f"{recsys_service.TRAIN_COMMAND}: {exc}"
    audit.served("view_customer", f"customer {int(customer_id)}")
    return Customer360(int(customer_id), profile, monthly, loans.reset_index(drop=True), missing=missing, **parts)
