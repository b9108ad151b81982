"""The audit trail: who viewed which applicant or customer, who changed a cut-off, who exported which list, when,
and every request the server refused.

Rows are written from the server's view, never from what a request claims: the service that serves a person's
data calls :func:`served` with the ids it actually served, and the auth guard writes those rows once the answer is
ready (200), before it leaves the server; if they cannot be written the user gets a 503 instead of the data.
Outside a web request (the command line, tests) :func:`served` records nothing. Rows live in ``audit_log``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import flask
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from bankdata import DatabaseError, append_audit, audit_log_table, read_app_rows
from dashapp.services import grid

log = logging.getLogger("ledgerlight.audit")

MAX_DETAIL = 2_000
TRAIL_COLUMNS = ("ts", "user", "action", "target", "detail")
_T = audit_log_table
#: what the audit grid may filter by (text, case-insensitive); it is sorted by time only (the row id's order)
TRAIL_FILTERS = {name: grid.Column(_T.c[name], "text") for name in ("user", "action", "target", "detail")}
TRAIL_SORTABLE = ("ts",)
UNKNOWN_COUNT = -1  # ag-grid's infinite row model: more rows follow, how many is not known
_PENDING = "audit_served"


@dataclass(frozen=True)
class AuditEvent:
    """One row to write: what was done to what, with the inputs that say how."""

    action: str
    target: str
    detail: str


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def served(action: str, target: str, detail: dict[str, Any] | str = "") -> None:
    """Record that this request served ``target`` (e.g. ``"customer 17"``); written when the answer is 200.

    ``detail`` may be a dict (written as JSON): the filters of an export, the rows it held.
    """
    if not flask.has_request_context():
        return
    text = json.dumps(detail, default=str, sort_keys=True) if isinstance(detail, dict) else str(detail)
    flask.g.setdefault(_PENDING, []).append(
        AuditEvent(_clip(action, 60), _clip(target, 200), _clip(text, MAX_DETAIL))
    )


def pending() -> list[AuditEvent]:
    """The events :func:`served` recorded in this request (taken: a second call returns none)."""
    return flask.g.pop(_PENDING, []) if flask.has_request_context() else []


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
    """:func:`record`, logging instead of raising when the database is down (for sign-in, sign-out, refusals)."""
    try:
        record(user, action, target, detail)
        return True
    except DatabaseError as exc:
        log.error("audit row not written (%s %s %s): %s", user, action, target, exc)
        return False


def trail_page(
    start_row: Any, end_row: Any, sort_model: Any, filter_model: Any
) -> tuple[list[dict[str, Any]], int]:
    """Rows ``start_row``..``end_row`` of the audit trail, newest first (or oldest first when the grid sorts time
    ascending), filtered as the dash-ag-grid infinite row model asks, and the row count when the end is reached
    (:data:`UNKNOWN_COUNT` while more rows follow: the log only grows, so it is never counted).

    The order is the primary key's, so a page is an index range however long the trail; filters compare text
    case-insensitively. Request values are checked against :data:`TRAIL_FILTERS` and :data:`TRAIL_SORTABLE`.

    Raises
    ------
    InputError
        A bad row range, an unknown column, direction or filter type.
    DatabaseError
        The database does not answer.
    """
    wanted = grid.row_range(start_row, end_row)
    where = grid.filters(filter_model, TRAIL_FILTERS)
    sorts = grid.sorts(sort_model, TRAIL_SORTABLE, max_sorts=1)
    order = _T.c.id.asc() if sorts and sorts[0].direction == "asc" else _T.c.id.desc()
    statement = (
        sa.select(*(_T.c[c] for c in TRAIL_COLUMNS))
        .where(*where)
        .order_by(order)
        .limit(wanted.size + 1)
        .offset(wanted.start)
    )
    rows = read_app_rows(statement, what="the audit log")
    page = [{**row._mapping, "ts": row.ts.strftime("%Y-%m-%d %H:%M:%S")} for row in rows[: wanted.size]]
    count = UNKNOWN_COUNT if len(rows) > wanted.size else wanted.start + len(page)
    return page, count
