"""Customer 360: one customer's profile, transactions, risk, segment and products, from the other areas' services.

Every part is an indexed look-up of one customer (the bank's tables and the serving tables), never a whole table.
Each part is optional: a model that is not trained leaves its part ``None`` (with the command that makes it in
``missing``), so the page still shows what exists. Nothing here trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bankdata import DatabaseError
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import audit, ids
from dashapp.services import bank as bank_service
from dashapp.services import recsys as recsys_service
from dashapp.services import risk as risk_service
from dashapp.services import segments as segments_service
from dashapp.services.risk import RiskPart
from dashapp.services.served import NotTrained

PROFILE_COLUMNS = (
    "age",
    "gender",
    "region",
    "income",
    "employment",
    "tenure_months",
    "credit_score",
    "balance",
    "signup_date",
)
SUGGESTED = 5  # how many customers the Customer page and Recommendations suggest
__all__ = [
    "Customer360",
    "RiskPart",
    "Suggestion",
    "customer_360",
    "parse_customer_id",
    "suggested_customers",
]


@dataclass(frozen=True)
class Customer360:
    """Everything the Customer page shows for one customer."""

    customer_id: int | str  # the bank's id (text for a bank with text ids)
    profile: dict[str, Any]
    monthly: pd.DataFrame  # month, direction, amount, count
    loans: pd.DataFrame
    risk: RiskPart | None = None
    segment: dict[str, Any] | None = None  # segment, name, customers, share, distinctive, medians
    held: pd.DataFrame | None = None  # product_id, name, family
    next_best: pd.DataFrame | None = None  # rank, product_id, name, family, score, reason
    next_best_model: str | None = None  # the served recommender whose list it is (the best by held-out nDCG)
    next_best_label: str | None = None  # that model as pages name it
    credit_blocked: bool = False
    missing: dict[str, str] = field(default_factory=dict)  # part -> why it is missing


@dataclass(frozen=True)
class Suggestion:
    """A customer worth opening first: the bank's id, why (``reason``) and a few facts to tell them apart."""

    customer_id: int | str  # the bank's id
    internal_id: int
    reason: str
    facts: dict[str, Any]


def suggested_customers(limit: int = SUGGESTED) -> list[Suggestion]:
    """A short list of customers to open first: the highest-income customers of the served segmentation (an
    index range of its members), or, without one, the first customers by id (the primary key). Never a scan."""
    try:
        rows = segments_service.top_customers(limit)
        reason = "highest income"
    except (NotTrained, DatabaseError):  # no segmentation served: the first customers still help
        rows = []
    if not rows:
        rows = bank_service.first_customers(limit)
        reason = "first customers"
    shown = ids.shown_many("customer", [r["customer_id"] for r in rows])
    return [
        Suggestion(
            shown[int(r["customer_id"])],
            int(r["customer_id"]),
            reason,
            {k: r[k] for k in ("segment", "income", "balance") if r.get(k) is not None},
        )
        for r in rows
    ]


def parse_customer_id(raw: Any) -> int:
    """The internal id of a customer id from the URL or an input, as the bank writes it (``17`` or
    ``C-00017``); ``InputError`` (a ``ValueError``) naming the bad or unknown value."""
    return ids.customer(raw)


def customer_360(customer_id: int, role: str | None = None) -> Customer360:
    """Assemble the picture of the customer with internal id ``customer_id`` as ``role`` may see it (``dashapp.policy``): the risk part only with
    ``Capability.SCORES``, credit history (credit score, DTI, rates, delinquencies, defaults) only with
    ``Capability.CREDIT_HISTORY``. Audited as a view of the customer.

    Raises
    ------
    ValueError
        No customer with this id.
    DataUnavailable
        The bank cannot be read.
    """
    customer_id = int(customer_id)
    shown = ids.shown("customer", customer_id)
    row = bank_service.customer_profile(customer_id)
    if row is None:
        raise ValueError(f"no customer with id {shown}")
    columns = policy.visible_columns(role, [c for c in PROFILE_COLUMNS if c in row])
    profile = {c: row[c] for c in columns}
    monthly = bank_service.customer_monthly(customer_id)
    loans = ids.show(policy.redact(bank_service.customer_loans(customer_id), role), "loan_id", "loan")
    missing: dict[str, str] = {}
    parts: dict[str, Any] = {}
    if policy.may(role, Capability.SCORES):
        try:
            parts["risk"] = risk_service.customer_risk(customer_id)
        except NotTrained as exc:
            missing["risk"] = str(exc)
    try:
        parts["segment"] = segments_service.customer_segment(customer_id)
    except NotTrained as exc:
        missing["segment"] = str(exc)
    try:
        best = recsys_service.best_model()
        view = recsys_service.customer_view(customer_id, n=5, models=(best,), profile=row)
        parts["held"] = view.held
        parts["next_best"] = view.recommendations[best]
        parts["next_best_model"] = best
        parts["next_best_label"] = recsys_service.MODEL_LABELS.get(best, best)
        parts["credit_blocked"] = view.credit_blocked
    except NotTrained as exc:
        missing["products"] = str(exc)
    audit.served("view_customer", f"customer {shown}")
    return Customer360(shown, profile, monthly, loans.reset_index(drop=True), missing=missing, **parts)
