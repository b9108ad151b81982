"""What each role may open and see: the one table that the guard, the pages and the services read.

Deny by default: a page missing from :data:`PAGE_ROLES` is for ``admin`` only, a role missing from
:data:`CAPABILITIES` may do nothing, and a column in :data:`RESTRICTED_COLUMNS` leaves every frame for a role that
lacks its capability. docs/deploy.md ("What each role sees") describes the same rules in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import pandas as pd

ROLES: tuple[str, ...] = ("risk", "marketing", "admin")
ADMIN = "admin"
EVERYONE = frozenset(ROLES)


class Capability(StrEnum):
    """Something a role may see or do beyond opening a page."""

    SCORES = "scores"  # a named person's PD, risk band, reason codes and recourse
    CREDIT_HISTORY = "credit_history"  # credit score, DTI, interest rates, past delinquencies and defaults
    SELECT_BY_RISK_BAND = (
        "select_by_risk_band"  # pick customers *by* their risk band (not only leave some out)
    )
    RECORD_DECISIONS = "record_decisions"  # record a credit decision, download its adverse-action notice
    PROMOTE_MODELS = "promote_models"
    RETRAIN_MODELS = "retrain_models"
    MANAGE_USERS = "manage_users"


#: page path -> roles that may open it and call its callbacks (``admin`` always may)
PAGE_ROLES: dict[str, frozenset[str]] = {
    "/": EVERYONE,
    "/help": EVERYONE,
    "/404": EVERYONE,
    "/risk": EVERYONE,  # the portfolio in aggregate: no named person's score
    "/customer": EVERYONE,  # what each role sees there is cut by CAPABILITIES below
    "/risk/applicant": frozenset({"risk", ADMIN}),
    "/monitoring": frozenset({"risk", ADMIN}),
    "/models": frozenset({"risk", ADMIN}),
    "/segments": frozenset({"marketing", ADMIN}),
    "/recommendations": frozenset({"marketing", ADMIN}),
    "/campaigns": frozenset({"marketing", ADMIN}),
    "/admin": frozenset({ADMIN}),
}

CAPABILITIES: dict[str, frozenset[Capability]] = {
    "risk": frozenset({Capability.SCORES, Capability.CREDIT_HISTORY, Capability.RECORD_DECISIONS}),
    "marketing": frozenset(),
    ADMIN: frozenset(Capability),
}

#: JSON API endpoint -> what decides the roles that may call it: a capability, or the page whose roles it shares
#: (an endpoint missing here is for ``admin`` only). docs/api.md ("Roles") says the same in words.
API_ACCESS: dict[str, Capability | str] = {
    "risk_score": Capability.SCORES,  # a named applicant's PD, band and reasons: what the Applicant page shows
    "recommendations": "/recommendations",
    "segment": "/segments",
    "events": "/recommendations",  # interactions feed the recommender: the roles that run its page send them
}

#: columns that only a role with the capability may receive, in any page, grid, figure or export
RESTRICTED_COLUMNS: dict[str, Capability] = {
    "pd": Capability.SCORES,
    "band": Capability.SCORES,
    "credit_score": Capability.CREDIT_HISTORY,
    "dti": Capability.CREDIT_HISTORY,
    "interest_rate": Capability.CREDIT_HISTORY,
    "prior_delinquencies": Capability.CREDIT_HISTORY,
    "defaulted": Capability.CREDIT_HISTORY,
}


def normalise_path(path: str) -> str:
    """``/risk/applicant/`` -> ``/risk/applicant``; ``""`` -> ``/``."""
    return "/" + str(path or "").strip().strip("/")


def roles_for_page(path: str) -> frozenset[str]:
    """The roles that may open the page registered at ``path`` (``admin`` always; unlisted pages admin only)."""
    return PAGE_ROLES.get(normalise_path(path), frozenset()) | {ADMIN}


def may_open_page(role: str | None, path: str) -> bool:
    """Whether ``role`` may open the page registered at ``path``."""
    return role in ROLES and role in roles_for_page(path)


def may(role: str | None, capability: Capability) -> bool:
    """Whether ``role`` has ``capability`` (an unknown role or ``None`` has none)."""
    return capability in CAPABILITIES.get(str(role), frozenset())


def visible_columns(role: str | None, columns: Iterable[str]) -> list[str]:
    """``columns`` without the restricted ones ``role`` may not receive (order kept)."""
    return [c for c in columns if c not in RESTRICTED_COLUMNS or may(role, RESTRICTED_COLUMNS[c])]


def redact(frame: pd.DataFrame, role: str | None) -> pd.DataFrame:
    """``frame`` without the columns ``role`` may not receive (the caller's frame is not modified)."""
    keep = visible_columns(role, [str(c) for c in frame.columns])
    return frame.loc[:, keep] if len(keep) != frame.shape[1] else frame


def may_call(role: str | None, endpoint: str) -> bool:
    """Whether ``role`` may call the API endpoint named ``endpoint`` (see :data:`API_ACCESS`; deny by default)."""
    rule = API_ACCESS.get(endpoint)
    if role not in ROLES:
        return False
    if isinstance(rule, Capability):
        return may(role, rule)
    return may_open_page(role, rule) if rule is not None else role == ADMIN


def require(role: str | None, capability: Capability, what: str) -> None:
    """Raise ``PermissionError`` naming ``what`` when ``role`` lacks ``capability``."""
    if not may(role, capability):
        raise PermissionError(f"role {role!r} may not {what}")
