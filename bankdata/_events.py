"""Events sent by the bank's other systems (the JSON API): stored once by their event id, then appended to the bank.

A batch of interactions is validated exactly as ``ledgerlight load interactions`` validates a file (schema, allowed
values, references to customers and products the bank holds, the bank's kind of ids), and stored in one write
transaction: every new row goes to ``interactions`` and its ``event_id`` to ``api_events``, or nothing is stored. An
event id already stored with the same values is a duplicate (counted, not stored again), so a retried batch never
double-counts; with other values it is an error. ``api_events.folded_at`` stays empty until a learner has folded the
event into the recommender (the events worker, not this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._db import BANK_TABLES, ROW_NO, _connect, _insert_frame, _key_name, lock_appends, metadata
from bankdata._schema import SCHEMAS
from bankdata._validation import DataValidationError, ProblemReport, validate_frame

EVENT_ID = "event_id"
MAX_EVENT_ID = 100
INTERACTIONS = SCHEMAS["interactions"]
_IN_CHUNK = 900  # ids per IN (...) list: under SQLite's variable limit everywhere

api_events_table = sa.Table(
    "api_events",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column(EVENT_ID, sa.String(MAX_EVENT_ID), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),  # "interaction" (the only table events go to so far)
    sa.Column("customer_id", sa.BigInteger, nullable=False),  # internal ids
    sa.Column("product_id", sa.BigInteger, nullable=False),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("source", sa.String(120), nullable=False),  # who sent it (the API key's name)
    sa.Column("folded_at", sa.DateTime, nullable=True, index=True),
    # set by the events worker (``bankdata._folds``): the fold that took the event in, or why it could not
    sa.Column("fold_id", sa.BigInteger, nullable=True),
    sa.Column("fold_error", sa.Text, nullable=True),
)


@dataclass(frozen=True)
class EventsStored:
    """What one batch did: rows appended, and event ids that were stored already (with the same values)."""

    accepted: int
    duplicates: int
    duplicate_ids: tuple[str, ...] = ()


def drop_event_tables(conn: Connection) -> None:
    """Drop ``api_events`` and the worker's fold log (their rows are events of a bank being replaced or removed)."""
    from bankdata._folds import FOLD_TABLES

    metadata.drop_all(conn, tables=[api_events_table, *FOLD_TABLES])


def ensure_event_tables(conn: Connection) -> None:
    """Create ``api_events`` when missing, and add the worker's columns to one created before they existed."""
    metadata.create_all(conn, tables=[api_events_table])
    have = {c["name"] for c in sa.inspect(conn).get_columns(api_events_table.name)}
    for col in ("fold_id", "fold_error"):
        if col not in have:
            kind = api_events_table.c[col].type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {api_events_table.name} ADD COLUMN {col} {kind}")


def _chunks(values: list) -> list[list]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _known(conn: Connection, table: str, values: np.ndarray) -> set[int]:
    key = BANK_TABLES[table].c[_key_name(table)]
    found: set[int] = set()
    for chunk in _chunks(sorted({int(v) for v in values})):
        found.update(int(r[0]) for r in conn.execute(sa.select(key).where(key.in_(chunk))))
    return found


def _event_ids(frame: pd.DataFrame, report: ProblemReport) -> pd.Series:
    ids = frame[EVENT_ID].astype("str").str.strip()
    bad = frame[EVENT_ID].isna() | (ids == "") | (ids.str.len() > MAX_EVENT_ID)
    report.add(EVENT_ID, f"missing, empty or longer than {MAX_EVENT_ID} characters", bad)
    report.add(EVENT_ID, "repeated within the batch", ids.duplicated(keep=False) & ~bad)
    return ids


def _stored(conn: Connection, ids: pd.Series) -> pd.DataFrame:
    t = api_events_table
    cols = [t.c.event_id, t.c.customer_id, t.c.product_id, t.c.ts, t.c.event]
    rows = [
        tuple(r)
        for chunk in _chunks(ids.tolist())
        for r in conn.execute(sa.select(*cols).where(t.c.event_id.in_(chunk)))
    ]
    return pd.DataFrame(rows, columns=[c.name for c in cols])


def _same_values(stored: pd.DataFrame, batch: pd.DataFrame) -> pd.Series:
    """For each batch row whose event id is stored: whether the stored values are the batch row's."""
    merged = batch.reset_index().merge(stored, on=EVENT_ID, how="inner", suffixes=("", "_stored"))
    same = (
        (merged["customer_id"] == merged["customer_id_stored"])
        & (merged["product_id"] == merged["product_id_stored"])
        & (pd.to_datetime(merged["ts"]) == pd.to_datetime(merged["ts_stored"]))
        & (merged["event"].astype(str) == merged["event_stored"].astype(str))
    )
    return pd.Series(same.to_numpy(), index=merged["index"].to_numpy())


def _append(conn: Connection, source: str, file: str, valid: pd.DataFrame, ids: pd.Series) -> EventsStored:
    from bankdata._external_ids import translate_load

    lock_appends(
        conn
    )  # concurrent batches (and loads) append one after the other: row numbers and ids never collide
    metadata.create_all(conn, tables=[BANK_TABLES["interactions"]])
    ensure_event_tables(conn)
    report = ProblemReport(file)
    internal, checked, _new = translate_load(conn, INTERACTIONS, valid, report)
    for col in INTERACTIONS.columns:
        if col.references is not None and col.name not in checked:
            unknown = ~internal[col.name].isin(
                list(_known(conn, col.references, internal[col.name].to_numpy()))
            )
            examples = ", ".join(map(str, pd.unique(internal.loc[unknown, col.name])[:3]))
            report.add(col.name, f"ids not in table {col.references} (e.g. {examples})", unknown)
    report.raise_if_any()
    batch = internal.assign(**{EVENT_ID: ids.to_numpy()})
    same = _same_values(_stored(conn, ids), batch)
    report.add(
        EVENT_ID,
        "already stored with other values (an event id names one event)",
        batch.index.isin(same.index[~same.to_numpy()]),
    )
    report.raise_if_any()
    fresh = batch.loc[~batch.index.isin(same.index)]
    if len(fresh):
        table = BANK_TABLES["interactions"]
        last = conn.execute(sa.select(sa.func.max(table.c[ROW_NO]))).scalar()
        _insert_frame(
            conn,
            table,
            fresh.loc[:, list(INTERACTIONS.column_names)].reset_index(drop=True),
            INTERACTIONS,
            first_row=0 if last is None else int(last) + 1,
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = [
            {
                "event_id": e,
                "kind": "interaction",
                "customer_id": int(c),
                "product_id": int(p),
                "ts": pd.Timestamp(t).to_pydatetime(),
                "event": str(ev),
                "received_at": now,
                "source": source[:120],
            }
            for e, c, p, t, ev in zip(
                fresh[EVENT_ID],
                fresh["customer_id"],
                fresh["product_id"],
                fresh["ts"],
                fresh["event"],
                strict=True,
            )
        ]
        conn.execute(sa.insert(api_events_table), rows)
    duplicates = tuple(batch.loc[batch.index.isin(same.index), EVENT_ID].tolist())
    return EventsStored(len(fresh), len(duplicates), duplicates)


def append_events(
    frame: pd.DataFrame, source: str, url: str | None = None, *, file: str = "events"
) -> EventsStored:
    """Validate a batch of interaction events (columns ``event_id`` and those of ``interactions``) and store the new
    ones in one transaction.

    Parameters
    ----------
    frame : DataFrame
        One row per event; ids as the bank writes them (whole numbers, or the bank's text ids).
    source : str
        Who sent the batch (kept with each event).
    file : str
        Named in error messages (rows are numbered from 1 in the batch's order).

    Raises
    ------
    DataValidationError
        Listing every problem (column, rows, why): a bad value, an unknown customer or product, an event id
        repeated in the batch or stored already with other values. Nothing is stored.
    """
    report = ProblemReport(file)
    if EVENT_ID not in frame.columns:
        raise DataValidationError(file, "missing: every event needs one", column=EVENT_ID)
    ids = _event_ids(frame.reset_index(drop=True), report)
    report.raise_if_any()
    valid = validate_frame(
        frame.drop(columns=[EVENT_ID]).reset_index(drop=True), INTERACTIONS, file, text_ids=True
    )
    with _connect(url, write=True) as conn:
        return _append(conn, source, file, valid, ids)
