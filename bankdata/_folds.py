"""What the events worker reads and writes: a lease so one worker folds at a time, the events waiting, the fold log.

The worker (``ledgerlight events worker``) takes the lease (:func:`take_fold_lease`: one row of ``api_fold_lease``,
updated in a write transaction only when it is free or expired), so two workers started at once never fold the same
events: the second finds it taken and waits for the next round. It reads the events not folded yet
(:func:`pending_events`: ``folded_at`` and ``fold_error`` empty), and after folding a group records it
(:func:`record_fold`: one ``api_folds`` row, and ``folded_at`` / ``fold_id`` on its events) or the reason it could not
(:func:`mark_unfoldable`: ``fold_error`` set, the event stays unfolded and is not retried until the reason is
cleared with :func:`retry_unfoldable`). :func:`fold_status` is what the Models page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._db import _connect, metadata
from bankdata._events import api_events_table, ensure_event_tables

LEASE_NAME = "events"
#: the evidence kind (of the served recsys version) where the worker records its retrain flag
FRESHNESS_KIND = "freshness"
_IN_CHUNK = 900

fold_lease_table = sa.Table(
    "api_fold_lease",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("holder", sa.String(120), nullable=True),
    sa.Column("expires_at", sa.DateTime, nullable=True),
)
folds_table = sa.Table(
    "api_folds",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("model", sa.String(40), nullable=False),
    sa.Column("model_version", sa.String(40), nullable=False, index=True),
    sa.Column("worker", sa.String(120), nullable=False),
    sa.Column("folded_at", sa.DateTime, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("customers", sa.Integer, nullable=False),
    sa.Column("rows_written", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
)
FOLD_TABLES = (fold_lease_table, folds_table)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ensure(conn: Connection) -> None:
    ensure_event_tables(conn)
    metadata.create_all(conn, tables=list(FOLD_TABLES))


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def take_fold_lease(holder: str, seconds: float, url: str | None = None) -> bool:
    """Take (or renew) the fold lease for ``seconds``; False when another holder has it and it has not expired.

    One write transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a conditional ``UPDATE`` on one row), so of two
    workers asking at once exactly one gets it.
    """
    now = _now()
    t = fold_lease_table
    with _connect(url, write=True) as conn:
        _ensure(conn)
        if conn.execute(sa.select(t.c.name).where(t.c.name == LEASE_NAME)).first() is None:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(t).values(name=LEASE_NAME, holder=None, expires_at=None))
            except sa.exc.IntegrityError:
                pass  # another worker inserted it first
        free = (t.c.holder.is_(None)) | (t.c.holder == holder) | (t.c.expires_at < now)
        taken = conn.execute(
            sa.update(t)
            .where((t.c.name == LEASE_NAME) & free)
            .values(holder=holder, expires_at=now + timedelta(seconds=float(seconds)))
        )
        return taken.rowcount == 1


def release_fold_lease(holder: str, url: str | None = None) -> None:
    """Give the lease back (only when ``holder`` has it)."""
    t = fold_lease_table
    with _connect(url, write=True) as conn:
        _ensure(conn)
        conn.execute(
            sa.update(t)
            .where((t.c.name == LEASE_NAME) & (t.c.holder == holder))
            .values(holder=None, expires_at=None)
        )


def pending_events(url: str | None = None, limit: int = 20_000) -> pd.DataFrame:
    """The oldest ``limit`` events waiting to be folded (id, event_id, customer_id, product_id, event, received_at);
    events left with a ``fold_error`` are not among them."""
    t = api_events_table
    cols = [t.c.id, t.c.event_id, t.c.customer_id, t.c.product_id, t.c.event, t.c.received_at]
    with _connect(url, write=True) as conn:  # write: may add the worker's columns to an older table
        _ensure(conn)
        rows = conn.execute(
            sa.select(*cols)
            .where(t.c.folded_at.is_(None), t.c.fold_error.is_(None))
            .order_by(t.c.id)
            .limit(int(limit))
        ).fetchall()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in cols])
    return frame.astype({"id": "int64", "customer_id": "int64", "product_id": "int64"})


@dataclass(frozen=True)
class Fold:
    """One group of events folded into a served model version."""

    model: str
    model_version: str
    worker: str
    events: int
    customers: int
    rows_written: int
    seconds: float


def record_fold(fold: Fold, event_ids: np.ndarray, url: str | None = None) -> int:
    """Log ``fold`` and mark its events (``api_events.id`` values) folded, in one transaction; returns the fold id.

    Only events still unfolded are marked, so an event is never counted in two folds.
    """
    t = api_events_table
    now = _now()
    with _connect(url, write=True) as conn:
        _ensure(conn)
        fold_id = conn.execute(
            sa.insert(folds_table)
            .returning(folds_table.c.id)
            .values(
                model=fold.model,
                model_version=fold.model_version,
                worker=fold.worker[:120],
                folded_at=now,
                events=fold.events,
                customers=fold.customers,
                rows_written=fold.rows_written,
                seconds=fold.seconds,
            )
        ).scalar_one()
        for chunk in _chunks(sorted(int(i) for i in event_ids)):
            conn.execute(
                sa.update(t)
                .where(t.c.id.in_(chunk), t.c.folded_at.is_(None))
                .values(folded_at=now, fold_id=int(fold_id))
            )
    return int(fold_id)


def mark_unfoldable(event_ids: np.ndarray, reason: str, url: str | None = None) -> None:
    """Leave events unfolded with the reason they could not be folded (the worker skips them from now on)."""
    t = api_events_table
    with _connect(url, write=True) as conn:
        _ensure(conn)
        for chunk in _chunks(sorted(int(i) for i in event_ids)):
            conn.execute(
                sa.update(t)
                .where(t.c.id.in_(chunk), t.c.folded_at.is_(None))
                .values(fold_error=str(reason)[:2000])
            )


def retry_unfoldable(url: str | None = None) -> int:
    """Clear every ``fold_error`` so the worker tries those events again (after the cause was fixed); returns how
    many."""
    t = api_events_table
    with _connect(url, write=True) as conn:
        _ensure(conn)
        return int(
            conn.execute(
                sa.update(t)
                .where(t.c.folded_at.is_(None), t.c.fold_error.is_not(None))
                .values(fold_error=None)
            ).rowcount
        )


def requeue_folded(model: str, version: str, since: datetime | None, url: str | None = None) -> int:
    """Mark unfolded again the events received at or after ``since`` that were folded into another version of
    ``model`` (a newly served version was trained without them, or kept its base's rows for their customers);
    returns how many. The worker calls it, under its lease, when the served version changes."""
    t, f = api_events_table, folds_table
    other = sa.select(f.c.id).where(f.c.model == model, f.c.model_version != str(version))
    where: list[sa.ColumnElement[bool]] = [t.c.folded_at.is_not(None), t.c.fold_id.in_(other)]
    if since is not None:
        where.append(t.c.received_at >= since)
    with _connect(url, write=True) as conn:
        _ensure(conn)
        return int(conn.execute(sa.update(t).where(*where).values(folded_at=None, fold_id=None)).rowcount)


@dataclass(frozen=True)
class FoldStatus:
    """How fresh a served version is: its last fold, the events waiting, and the purchases received since ``since``."""

    last_folded_at: datetime | None
    events_folded: int
    events_waiting: int
    events_unfoldable: int
    purchases_since: int


def fold_status(model: str, version: str, since: datetime | None, url: str | None = None) -> FoldStatus:
    """Fold figures of ``model``/``version`` (aggregates on indexed columns; nothing that grows is loaded).

    ``purchases_since``: purchase events the API received at or after ``since`` (the version's training time).
    """
    t, f = api_events_table, folds_table
    with _connect(url, write=False) as conn:
        inspector = sa.inspect(conn)
        if not inspector.has_table(t.name):
            return FoldStatus(None, 0, 0, 0, 0)
        has_folds = inspector.has_table(f.name)
        has_error = "fold_error" in {c["name"] for c in inspector.get_columns(t.name)}
        last, folded = None, 0
        if has_folds:
            key = (f.c.model == model) & (f.c.model_version == str(version))
            last, folded = conn.execute(
                sa.select(sa.func.max(f.c.folded_at), sa.func.coalesce(sa.func.sum(f.c.events), 0)).where(key)
            ).one()
        unfolded = t.c.folded_at.is_(None)
        waiting = conn.execute(
            sa.select(sa.func.count())
            .select_from(t)
            .where(unfolded & t.c.fold_error.is_(None) if has_error else unfolded)
        ).scalar_one()
        bad = (
            conn.execute(
                sa.select(sa.func.count()).select_from(t).where(unfolded & t.c.fold_error.is_not(None))
            ).scalar_one()
            if has_error
            else 0
        )
        bought = t.c.event == "purchase"
        purchases = conn.execute(
            sa.select(sa.func.count())
            .select_from(t)
            .where(bought & (t.c.received_at >= since) if since is not None else bought)
        ).scalar_one()
    return FoldStatus(last, int(folded or 0), int(waiting), int(bad), int(purchases))
