"""What training writes and serving reads: tables keyed by model version, and JSON evidence per model version.

An area declares its serving table with :func:`served_table` (``model_version`` first, then its columns and indexes)
and publishes one version's rows with :func:`write_served`: one transaction that replaces that version's rows and
drops the rows of versions older than the newest ``keep``. Pages then query these tables for exactly what they show,
so no worker holds a table that grows with the bank. :func:`write_evidence` / :func:`read_evidence` keep small JSON
documents (fairness, drift, card evidence, profiles) per model and version.

Serving tables live in their own ``MetaData``: replacing the bank (``write_bank``) drops them, since their rows
describe the old bank's customers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._artifacts import ArtifactStore
from bankdata._config import get_settings
from bankdata._db import CHUNK_ROWS, DatabaseError, _connect, analyze, insert_rows

served_metadata = sa.MetaData()
VERSION_COLUMN = "model_version"

published_table = sa.Table(
    "served_versions",
    served_metadata,
    sa.Column("table_name", sa.String(80), primary_key=True),
    sa.Column(VERSION_COLUMN, sa.String(40), primary_key=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("written_at", sa.DateTime, nullable=False),
)
evidence_table = sa.Table(
    "model_evidence",
    served_metadata,
    sa.Column("model", sa.String(40), primary_key=True),
    sa.Column(VERSION_COLUMN, sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(80), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("written_at", sa.DateTime, nullable=False),
)


def served_table(name: str, *columns: sa.Column, indexes: Sequence[Sequence[str]] = ()) -> sa.Table:
    """Declare a serving table: ``model_version`` then ``columns``; each entry of ``indexes`` becomes an index on
    ``(model_version, *entry)`` so every query of one version is an index range.

    Declaring the same name twice returns the existing table (modules may be imported again in tests).
    """
    if name in served_metadata.tables:
        return served_metadata.tables[name]
    table = sa.Table(
        name, served_metadata, sa.Column(VERSION_COLUMN, sa.String(40), nullable=False), *columns
    )
    for i, cols in enumerate(indexes):
        sa.Index(f"ix_{name}_{i}", table.c[VERSION_COLUMN], *(table.c[c] for c in cols))
    return table


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _python_values(series: pd.Series) -> list[Any]:
    """Plain Python values for the driver (NaN and NaT become None)."""
    if pd.api.types.is_integer_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.to_numpy(dtype="int64").tolist()
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64")
        out = values.tolist()
        if np.isnan(values).any():
            out = [None if math.isnan(v) else v for v in out]
        return out
    if pd.api.types.is_bool_dtype(series.dtype):
        return [bool(v) for v in series.to_numpy()]
    values = series.astype(object).to_numpy()
    missing = pd.isna(series).to_numpy()
    out = values.tolist()
    if missing.any():
        out = [None if m else v for v, m in zip(out, missing, strict=True)]
    return [str(v) if v is not None and not isinstance(v, (int, float, str)) else v for v in out]


def _insert(conn: Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    columns = [c.name for c in table.columns]
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = frame.iloc[start : start + CHUNK_ROWS]
        insert_rows(
            conn, table, columns, list(zip(*(_python_values(chunk[c]) for c in columns), strict=True))
        )


def _served_versions() -> set[str]:
    """The versions ``LATEST`` names in the artifact store, for every model (never dropped from a serving table)."""
    root = Path(get_settings().checkpoints_dir)
    if not root.is_dir():
        return set()
    store = ArtifactStore(root)
    return {v for m in root.iterdir() if m.is_dir() and (v := store.latest(m.name)) is not None}


def write_served(
    table: sa.Table, version: str, frame: pd.DataFrame, url: str | None = None, *, keep: int = 3
) -> int:
    """Publish ``frame`` as the rows of ``version`` in ``table``, in one transaction; returns the rows written.

    The version's earlier rows are replaced; rows of versions older than the newest ``keep`` published ones are
    deleted, so the table holds a few versions (the served one and those a promotion may go back to). A version
    that is served now (``LATEST`` of a model in the artifact store) is never deleted.

    Raises
    ------
    ValueError
        ``frame`` lacks a column of the table, or has one the table does not declare.
    DatabaseError
        The database cannot be reached.
    """
    wanted = [c.name for c in table.columns if c.name != VERSION_COLUMN]
    missing = [c for c in wanted if c not in frame.columns and not table.c[c].nullable]
    extra = [c for c in frame.columns if c not in wanted]
    if missing or extra:
        raise ValueError(
            f"serving table {table.name}: missing column(s) {missing}, unknown column(s) {extra}"
        )
    out = frame.reindex(columns=wanted).assign(**{VERSION_COLUMN: str(version)})
    served = _served_versions()
    with _connect(url, write=True) as conn:
        served_metadata.create_all(conn, tables=[published_table, table])
        conn.execute(sa.delete(table).where(table.c[VERSION_COLUMN] == str(version)))
        _insert(conn, table, out)
        p = published_table
        conn.execute(
            sa.delete(p).where((p.c.table_name == table.name) & (p.c[VERSION_COLUMN] == str(version)))
        )
        conn.execute(
            sa.insert(p).values(
                table_name=table.name, model_version=str(version), rows=len(out), written_at=_now()
            )
        )
        newest = [
            r[0]
            for r in conn.execute(
                sa.select(p.c[VERSION_COLUMN])
                .where(p.c.table_name == table.name)
                .order_by(p.c.written_at.desc(), p.c[VERSION_COLUMN].desc())
            )
        ]
        for old in [v for v in newest[max(keep, 1) :] if v not in served]:
            conn.execute(sa.delete(table).where(table.c[VERSION_COLUMN] == old))
            conn.execute(sa.delete(p).where((p.c.table_name == table.name) & (p.c[VERSION_COLUMN] == old)))
    analyze(url, [table.name])
    return len(out)


def replace_served_rows(
    table: sa.Table,
    version: str,
    key: str,
    frame: pd.DataFrame,
    url: str | None = None,
    *,
    within: dict[str, Sequence[Any]] | None = None,
) -> int:
    """Replace, in one transaction, the rows of ``version`` in ``table`` whose ``key`` is one of ``frame[key]`` (and,
    with ``within``, whose columns hold one of the values listed for them) by the rows of ``frame``; returns the rows
    written. The version must be published already (its other rows stay as they are, and its row count in
    ``served_versions`` follows).

    Raises
    ------
    ValueError
        ``frame`` has a column the table does not declare, or the version was never published in ``table``.
    """
    wanted = [c.name for c in table.columns if c.name != VERSION_COLUMN]
    extra = [c for c in frame.columns if c not in wanted]
    if extra or key not in frame.columns:
        raise ValueError(f"serving table {table.name}: unknown column(s) {extra}, or no {key!r} column")
    out = frame.reindex(columns=wanted).assign(**{VERSION_COLUMN: str(version)})
    keys = sorted({int(v) for v in frame[key].to_numpy()})
    p = published_table
    where_version = (p.c.table_name == table.name) & (p.c[VERSION_COLUMN] == str(version))
    with _connect(url, write=True) as conn:
        if conn.execute(sa.select(p.c.rows).where(where_version)).first() is None:
            raise ValueError(f"{table.name}: version {version} was never published")
        deleted = 0
        for start in range(0, len(keys), 900):
            chunk = keys[start : start + 900]
            where = [table.c[VERSION_COLUMN] == str(version), table.c[key].in_(chunk)]
            where += [table.c[col].in_(list(values)) for col, values in (within or {}).items()]
            deleted += conn.execute(sa.delete(table).where(*where)).rowcount
        _insert(conn, table, out)
        conn.execute(sa.update(p).where(where_version).values(rows=p.c.rows + (len(out) - deleted)))
    return len(out)


def published_rows(table: sa.Table | str, version: str, url: str | None = None) -> int | None:
    """How many rows ``version`` has in the serving table, or None when it was never published there."""
    name = table if isinstance(table, str) else table.name
    p = published_table
    with _connect(url, write=False) as conn:
        if not sa.inspect(conn).has_table(p.name):
            return None
        row = conn.execute(
            sa.select(p.c.rows).where((p.c.table_name == name) & (p.c[VERSION_COLUMN] == str(version)))
        )
        value = row.scalar()
    return None if value is None else int(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def write_evidence(model: str, version: str, documents: dict[str, Any], url: str | None = None) -> None:
    """Store JSON documents (``kind -> payload``) for one model version, replacing those of the same kinds."""
    e = evidence_table
    with _connect(url, write=True) as conn:
        served_metadata.create_all(conn, tables=[e])
        for kind, payload in documents.items():
            text = json.dumps(payload, default=_json_default, allow_nan=True)
            key = (e.c.model == model) & (e.c[VERSION_COLUMN] == str(version)) & (e.c.kind == kind)
            conn.execute(sa.delete(e).where(key))
            conn.execute(
                sa.insert(e).values(
                    model=model, model_version=str(version), kind=kind, payload=text, written_at=_now()
                )
            )


def read_evidence(model: str, version: str, kind: str, url: str | None = None) -> Any | None:
    """The JSON document ``kind`` of one model version, or None when it was never written."""
    e = evidence_table
    with _connect(url, write=False) as conn:
        if not sa.inspect(conn).has_table(e.name):
            return None
        key = (e.c.model == model) & (e.c[VERSION_COLUMN] == str(version)) & (e.c.kind == kind)
        text = conn.execute(sa.select(e.c.payload).where(key)).scalar()
    return None if text is None else json.loads(text)


def evidence_written_at(model: str, version: str, kind: str, url: str | None = None) -> datetime | None:
    """When the document ``kind`` of one model version was last written, or None when it never was (a cheap
    key for caches of what the document shows)."""
    e = evidence_table
    with _connect(url, write=False) as conn:
        if not sa.inspect(conn).has_table(e.name):
            return None
        key = (e.c.model == model) & (e.c[VERSION_COLUMN] == str(version)) & (e.c.kind == kind)
        return conn.execute(sa.select(e.c.written_at).where(key)).scalar()


def drop_served_tables(conn: Connection) -> None:
    """Drop every serving table (their rows describe a bank that is being replaced)."""
    served_metadata.drop_all(conn)


def _fetch(
    statement: sa.Executable, url: str | None, params: Mapping[str, Any] | None = None
) -> tuple[list[str], Sequence[sa.Row]]:
    with _connect(url, write=False) as conn:
        try:
            result = conn.execute(statement, params)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            raise DatabaseError(f"query failed: {str(getattr(exc, 'orig', exc)).splitlines()[0]}") from None
        return list(result.keys()), result.fetchall()


def query(statement: sa.Executable, url: str | None = None) -> pd.DataFrame:
    """Run a read-only query and return its rows as a DataFrame (column names from the statement).

    Raises
    ------
    DatabaseError
        The database cannot be reached, or a table the query needs does not exist yet.
    """
    columns, rows = _fetch(statement, url)
    return rows_frame(rows, columns)


def query_records(
    statement: sa.Executable, url: str | None = None, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run a read-only query and return its rows as dicts: for look-ups of a few rows, where a DataFrame costs
    more than the query (about 3 ms to build one for a single row). ``params``: values of the statement's
    ``bindparam`` (a statement built once and run per call skips building its expression each time).

    Raises
    ------
    DatabaseError
        As :func:`query`.
    """
    columns, rows = _fetch(statement, url, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def query_records_many(
    statements: Sequence[tuple[sa.Executable, Mapping[str, Any] | None]], url: str | None = None
) -> list[list[dict[str, Any]]]:
    """:func:`query_records` of several look-ups on one connection (one pool checkout and one read transaction:
    on SQLite one snapshot), each with its ``bindparam`` values.

    Raises
    ------
    DatabaseError
        As :func:`query`.
    """
    out: list[list[dict[str, Any]]] = []
    with _connect(url, write=False) as conn:
        for statement, params in statements:
            try:
                result = conn.execute(statement, params)
            except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
                reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                raise DatabaseError(f"query failed: {reason}") from None
            columns = list(result.keys())
            out.append([dict(zip(columns, row, strict=True)) for row in result.fetchall()])
    return out


def rows_frame(rows: Sequence[Sequence[Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame of result rows, built column by column (handing pandas the ``Row`` objects costs a failed
    attribute look-up per row and field: a third of a 20,000-row read)."""
    if len(set(columns)) < len(columns):
        return pd.DataFrame([tuple(row) for row in rows], columns=columns)
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame(dict(zip(columns, values, strict=True)), columns=columns)
