"""Decision records: an append-only, hash-chained table of the credit decisions taken (in the app or in batch).

Each row holds what re-scoring needs (the model inputs as canonical JSON and their sha256, the model name, version
and the sha256 of its files), what was decided (PD, cut-off, decision, reason codes in plain words, recourse) and
who decided when. ``row_hash`` is the sha256 of the row's content together with the previous row's hash, so editing
or deleting a row breaks the chain at that row (:func:`verify_chain`). There are insert and read functions only, and
the database itself refuses UPDATE and DELETE (triggers made with the table).

Works on SQLite and PostgreSQL: rows are appended under the database's write lock (SQLite's ``BEGIN IMMEDIATE``, a
PostgreSQL advisory lock), so two writers never chain onto the same previous row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._db import _connect, metadata, read_app_rows

DECISIONS = ("approve", "decline")
GENESIS = "0" * 64  # the "previous hash" of the first row
_APPEND_LOCK = 724_212  # any constant: the PostgreSQL advisory lock that serialises appends

decision_records_table = sa.Table(
    "decision_records",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False
    ),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("recorded_by", sa.String(120), nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("loan_id", sa.BigInteger, nullable=True),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("model", sa.String(120), nullable=False),
    sa.Column("model_version", sa.String(40), nullable=False),
    sa.Column("model_sha256", sa.String(64), nullable=False),
    sa.Column("pd", sa.Double, nullable=False),
    sa.Column("cutoff", sa.Double, nullable=False),
    sa.Column(
        "decision",
        sa.String(10),
        sa.CheckConstraint("decision IN ('approve', 'decline')", name="ck_decision_records_decision"),
        nullable=False,
    ),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("recourse", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False, unique=True),
)
_T = decision_records_table

#: the database refuses UPDATE and DELETE on the table (a guard against mistakes; the hash chain detects the rest,
#: since an owner of the database can drop these triggers)
APPEND_ONLY_TRIGGERS = (
    "decision_records_no_update",
    "decision_records_no_delete",
    "decision_records_no_truncate",
)
_REFUSAL = "decision_records is append-only"
for _name, _event in zip(APPEND_ONLY_TRIGGERS[:2], ("UPDATE", "DELETE"), strict=True):
    sa.event.listen(
        _T,
        "after_create",
        sa.DDL(
            f"CREATE TRIGGER {_name} BEFORE {_event} ON decision_records BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        ).execute_if(dialect="sqlite"),
    )
sa.event.listen(
    _T,
    "after_create",
    sa.DDL(
        "CREATE OR REPLACE FUNCTION decision_records_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
    ).execute_if(dialect="postgresql"),
)
for _name, _event, _each in zip(
    APPEND_ONLY_TRIGGERS, ("UPDATE", "DELETE", "TRUNCATE"), ("ROW", "ROW", "STATEMENT"), strict=True
):
    sa.event.listen(
        _T,
        "after_create",
        sa.DDL(
            f"CREATE TRIGGER {_name} BEFORE {_event} ON decision_records FOR EACH {_each} "
            "EXECUTE FUNCTION decision_records_append_only()"
        ).execute_if(dialect="postgresql"),
    )


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys, no spaces and no NaN: the same object always gives the same text (and hash)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    """Hex sha256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewDecision:
    """A decision to record (the store adds the id, the time and the chain).

    Attributes
    ----------
    inputs : mapping
        The model inputs, JSON values only (numbers, text, None): re-scoring reads them back.
    reasons : list of dict
        ``{"code": feature, "text": plain words}``, strongest first.
    recourse : dict or None
        What would change the decision (``risk.Recourse.to_dict``); None when none was searched.
    """

    recorded_by: str
    customer_id: int
    loan_id: int | None
    inputs: Mapping[str, Any]
    model: str
    model_version: str
    model_sha256: str
    pd: float
    cutoff: float
    decision: str
    reasons: Sequence[Mapping[str, str]] = ()
    recourse: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """One stored decision, as read back (JSON columns parsed)."""

    id: int
    recorded_at: datetime
    recorded_by: str
    customer_id: int
    loan_id: int | None
    input_hash: str
    inputs: dict[str, Any]
    model: str
    model_version: str
    model_sha256: str
    pd: float
    cutoff: float
    decision: str
    reasons: list[dict[str, str]]
    recourse: dict[str, Any] | None
    prev_hash: str
    row_hash: str

    @property
    def declined(self) -> bool:
        """Whether the applicant was declined."""
        return self.decision == "decline"


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`: rows read, the last row, and the first problems found."""

    rows: int
    head_id: int | None
    head_hash: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No row was edited, deleted or reordered (as far as the chain can tell)."""
        return not self.problems


def _stored_values(d: NewDecision) -> dict[str, Any]:
    """The columns of a new row except id, time and chain, checked and with the JSON columns as text."""
    if d.decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, got {d.decision!r}")
    if not 0.0 <= float(d.pd) <= 1.0 or not 0.0 <= float(d.cutoff) <= 1.0:
        raise ValueError(f"pd and cutoff must lie in [0, 1], got {d.pd!r} and {d.cutoff!r}")
    try:
        inputs = canonical_json(dict(d.inputs))
        reasons = canonical_json([dict(r) for r in d.reasons])
        recourse = None if d.recourse is None else canonical_json(dict(d.recourse))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a decision record holds JSON values only: {exc}") from None
    return {
        "recorded_by": str(d.recorded_by)[:120],
        "customer_id": int(d.customer_id),
        "loan_id": None if d.loan_id is None else int(d.loan_id),
        "input_hash": sha256_text(inputs),
        "inputs": inputs,
        "model": str(d.model),
        "model_version": str(d.model_version),
        "model_sha256": str(d.model_sha256),
        "pd": float(d.pd),
        "cutoff": float(d.cutoff),
        "decision": d.decision,
        "reasons": reasons,
        "recourse": recourse,
    }


_HASHED = tuple(c.name for c in _T.columns if c.name != "row_hash")


def row_hash(values: Mapping[str, Any]) -> str:
    """The sha256 of a row's content (every column but ``row_hash``, the previous row's hash included)."""
    content = {name: values[name] for name in _HASHED}
    content["recorded_at"] = content["recorded_at"].isoformat(timespec="microseconds")
    return sha256_text(canonical_json(content))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(sa.select(_T.c.id, _T.c.row_hash).order_by(_T.c.id.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (int(row.id), str(row.row_hash))


def append_decisions(decisions: Sequence[NewDecision], url: str | None = None) -> list[int]:
    """Record decisions in one transaction, each chained to the one before; returns their ids in order.

    Raises
    ------
    ValueError
        A decision that is not approve/decline, a PD or cut-off outside [0, 1], a value that is not JSON.
    DatabaseError
        The database does not answer.
    """
    values = [_stored_values(d) for d in decisions]
    if not values:
        return []
    with _connect(url, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_APPEND_LOCK})"))
        metadata.create_all(conn, tables=[_T])
        last_id, prev = _head(conn)
        rows, now = [], _now()
        for n, row in enumerate(values, start=last_id + 1):
            row = {**row, "id": n, "recorded_at": now, "prev_hash": prev}
            row["row_hash"] = prev = row_hash(row)
            rows.append(row)
        conn.execute(sa.insert(_T), rows)
    return [r["id"] for r in rows]


def append_decision(decision: NewDecision, url: str | None = None) -> int:
    """Record one decision (see :func:`append_decisions`); returns its id."""
    return append_decisions([decision], url)[0]


def _record(row: sa.Row) -> DecisionRecord:
    m = row._mapping
    return DecisionRecord(
        id=int(m["id"]),
        recorded_at=m["recorded_at"],
        recorded_by=m["recorded_by"],
        customer_id=int(m["customer_id"]),
        loan_id=None if m["loan_id"] is None else int(m["loan_id"]),
        input_hash=m["input_hash"],
        inputs=json.loads(m["inputs"]),
        model=m["model"],
        model_version=m["model_version"],
        model_sha256=m["model_sha256"],
        pd=float(m["pd"]),
        cutoff=float(m["cutoff"]),
        decision=m["decision"],
        reasons=json.loads(m["reasons"]),
        recourse=None if m["recourse"] is None else json.loads(m["recourse"]),
        prev_hash=m["prev_hash"],
        row_hash=m["row_hash"],
    )


def read_decision(record_id: int, url: str | None = None) -> DecisionRecord | None:
    """The decision record ``record_id``, or None when there is none."""
    rows = read_app_rows(sa.select(_T).where(_T.c.id == int(record_id)), url, what="the decision records")
    return _record(rows[0]) if rows else None


def read_decisions(
    url: str | None = None, *, limit: int = 50, customer_id: int | None = None
) -> list[DecisionRecord]:
    """The latest ``limit`` decision records, newest first (one customer's with ``customer_id``)."""
    statement = sa.select(_T).order_by(_T.c.id.desc()).limit(max(int(limit), 0))
    if customer_id is not None:
        statement = statement.where(_T.c.customer_id == int(customer_id))
    return [_record(r) for r in read_app_rows(statement, url, what="the decision records")]


def verify_chain(url: str | None = None, *, max_problems: int = 20) -> ChainReport:
    """Recompute every row's hash in id order and check each row chains onto the one before.

    A row edited in place no longer matches its ``row_hash``; a deleted or inserted row breaks the next row's
    ``prev_hash`` (or leaves a gap in the ids). Deleting the newest rows leaves a shorter, valid chain: compare
    ``head_id`` and ``head_hash`` with a copy kept elsewhere (the audit log records each decision's id).
    """
    problems: list[str] = []
    prev, expected_id, rows, head = GENESIS, 1, 0, None
    statement = sa.select(_T).order_by(_T.c.id)
    for row in read_app_rows(statement, url, what="the decision records"):
        m, rows = row._mapping, rows + 1
        if m["id"] != expected_id:
            problems.append(f"decision {m['id']}: expected id {expected_id} (a row is missing)")
        if m["prev_hash"] != prev:
            problems.append(
                f"decision {m['id']}: does not chain onto the row before it (a row was deleted or edited)"
            )
        if row_hash(dict(m)) != m["row_hash"]:
            problems.append(f"decision {m['id']}: its content does not match its hash (the row was edited)")
        prev, expected_id, head = m["row_hash"], int(m["id"]) + 1, (int(m["id"]), str(m["row_hash"]))
        if len(problems) >= max_problems:
            break
    return ChainReport(rows, head[0] if head else None, head[1] if head else None, problems[:max_problems])
