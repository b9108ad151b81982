"""The audit trail: who viewed which applicant's explanation, who changed a cut-off, who exported which list, when.

The auth guard calls :func:`events_for` on every Dash callback a user makes and :func:`record` for each event once
the callback has answered 200, so pages need no audit code. Rows live in the database's ``audit_log`` table.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from bankdata import DatabaseError, append_audit, count_audit, read_audit

log = logging.getLogger("ledgerlight.audit")

MAX_DETAIL = 2_000
WHATIF_OUTPUT = '{"feature":["ALL"],"type":"risk-whatif"}.value'


@dataclass(frozen=True)
class AuditRule:
    """Record ``action`` when a callback with the output ``output`` (``"id.property"``) answers.

    ``target`` names the input or state (``"id.property"``) whose value says what was acted on (``label`` goes in
    front of it); ``changed``, when given, records only calls that this input triggered (not a page's first draw);
    ``detail`` lists the inputs or states written to the row's detail as JSON.
    """

    action: str
    output: str
    label: str
    target: str | None = None
    changed: str | None = None
    detail: tuple[str, ...] = ()


SEGMENT_FILTERS = tuple(f"segments-filter-{f}.value" for f in ("segment", "age", "income", "region", "product", "risk"))
RULES: tuple[AuditRule, ...] = (
    AuditRule("view_applicant", WHATIF_OUTPUT, "customer", target="risk-applicant.data"),
    AuditRule("change_cutoff", "risk-cutoff-text.children", "risk portfolio cut-off", changed="risk-threshold.value",
              detail=("risk-threshold.value", "risk-cost-default.value", "risk-cost-good.value")),
    AuditRule("change_cutoff", "risk-decision.children", "applicant cut-off", changed="risk-app-threshold.value",
              detail=("risk-app-threshold.value",)),
    AuditRule("export_segments", "segments-download.data", "segment list", target="segments-filter-segment.value",
              detail=SEGMENT_FILTERS),
    AuditRule("export_campaign", "recs-download.data", "campaign list for product", target="recs-product.value",
              detail=("recs-campaign-model.value", "recs-campaign-n.value")),
    AuditRule("rename_segment", "segments-rename-feedback.children", "segment", target="segments-rename-segment.value",
              detail=("segments-rename-name.value",)),
)


ROUTER_OUTPUT = "_pages_content.children"
#: pages whose mere opening shows one customer's risk: path -> (action, query parameter naming the customer)
PAGE_VIEWS: dict[str, tuple[str, str]] = {"/customer": ("view_customer", "id")}


@dataclass(frozen=True)
class AuditEvent:
    """One row to write: what was done to what, with the inputs that say how."""

    action: str
    target: str
    detail: str


def output_props(output: str) -> set[str]:
    """The ``"id.property"`` strings of a Dash callback key (``..a.x...b.y..`` for several outputs)."""
    if output.startswith("..") and output.endswith(".."):
        return set(output[2:-2].split("..."))
    return {output}


def prop_values(body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"id.property": value}`` of a callback request's inputs and states (string ids only)."""
    values: dict[str, Any] = {}
    for item in [*(body.get("inputs") or []), *(body.get("state") or [])]:
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            values[f"{item['id']}.{item.get('property')}"] = item.get("value")
    return values


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def events_for(body: Mapping[str, Any]) -> list[AuditEvent]:
    """The audit events of one ``/_dash-update-component`` request body (empty for callbacks nobody audits)."""
    output = body.get("output")
    if not isinstance(output, str):
        return []
    outputs, values = output_props(output), prop_values(body)
    changed = set(body.get("changedPropIds") or [])
    events = _page_view(values) if ROUTER_OUTPUT in outputs else []
    for rule in RULES:
        if rule.output not in outputs or (rule.changed and rule.changed not in changed):
            continue
        target = rule.label if rule.target is None else f"{rule.label} {values.get(rule.target)}"
        detail = json.dumps({k.rsplit(".", 1)[0]: values.get(k) for k in rule.detail}, default=str) if rule.detail else ""
        events.append(AuditEvent(rule.action, _clip(target, 200), _clip(detail, MAX_DETAIL)))
    return events


def _page_view(values: Mapping[str, Any]) -> list[AuditEvent]:
    path = "/" + str(values.get("_pages_location.pathname") or "").strip("/")
    if path not in PAGE_VIEWS:
        return []
    action, param = PAGE_VIEWS[path]
    query = parse_qs(str(values.get("_pages_location.search") or "").lstrip("?"))
    return [AuditEvent(action, _clip(f"customer {query.get(param, ['?'])[0]}", 200), "")]


def record(user: str, action: str, target: str, detail: str = "") -> None:
    """Write one audit row now (raises ``DatabaseError`` when the database does not answer or refuses the row).

    Concurrent workers on one SQLite file wait for each other inside bankdata (writers begin IMMEDIATE).
    """
    values = (_clip(str(user), 120), _clip(action, 60), _clip(target, 200), _clip(detail, MAX_DETAIL))
    try:
        append_audit(*values)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(f"cannot write the audit log: {reason}") from None


def record_safely(user: str, action: str, target: str, detail: str = "") -> bool:
    """:func:`record`, logging instead of raising when the database is down (for sign-in and sign-out)."""
    try:
        record(user, action, target, detail)
        return True
    except DatabaseError as exc:
        log.error("audit row not written (%s %s %s): %s", user, action, target, exc)
        return False


def recent(limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` rows (id, ts, user, action, target, detail), newest first."""
    return read_audit(limit=max(1, min(int(limit), 10_000)))


def recent_count(user: str, action: str, minutes: float) -> int:
    """How many ``action`` rows ``user`` has in the last ``minutes`` (every worker sees the same database)."""
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=minutes)
    return count_audit(_clip(str(user), 120), action, since)
