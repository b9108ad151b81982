"""The bank in the database: one customer's rows by indexed look-up, and whether the database answers.

Nothing here reads a whole table: pages ask for one customer (primary key or the ``customer_id`` indexes) and the
aggregates come from the stored summary and the serving tables.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from bankdata import BANK_TABLES, DatabaseError, engine_for, get_settings, query, query_records


class DataUnavailable(RuntimeError):
    """The bank's data cannot be shown: the database is missing, empty or unreachable."""


def safe_url(url: str) -> str:
    """The database URL with any password hidden (for messages and the health check)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparseable DATABASE_URL>"


def database_backend(url: str) -> str:
    """The database's kind (``sqlite``, ``postgresql``...) without host or credentials, for the health check."""
    try:
        return sa.engine.make_url(url).get_backend_name()
    except SQLAlchemyError:
        return "unknown"


@functools.lru_cache(maxsize=16)
def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database, an in-memory one or a malformed URL); parsed once."""
    try:
        parsed = sa.engine.make_url(url)
    except SQLAlchemyError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL points at when it does not exist (SQLAlchemy would silently create it), else None
    (checked on every call; only the URL's parse is cached)."""
    path = _sqlite_file(url)
    return None if path is None or path.exists() else path


def database_reachable(url: str | None = None) -> bool:
    """Whether the database answers ``SELECT 1`` (a missing SQLite file counts as unreachable; nothing is created)."""
    url = url or get_settings().database_url
    if _missing_sqlite_file(url) is not None:
        return False
    try:
        engine = engine_for(
            url
        )  # the pool every request uses: a health check costs one round trip, not an engine
    except (SQLAlchemyError, ImportError, DatabaseError):
        return False
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def check_database(url: str | None = None) -> str:
    """The URL when its database can be opened without creating it; ``DataUnavailable`` for a missing SQLite file."""
    url = url or get_settings().database_url
    missing = _missing_sqlite_file(url)
    if missing is not None:
        raise DataUnavailable(f"the database file {missing} does not exist")
    return url


def _columns(table: sa.Table, *leave_out: str) -> list[sa.Column]:
    return [c for c in table.columns if c.name not in ("row_no", *leave_out)]


def _rows(statement: sa.Executable, url: str | None) -> pd.DataFrame:
    try:
        return query(statement, check_database(url))
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def _records(statement: sa.Executable, url: str | None) -> list[dict[str, Any]]:
    try:
        return query_records(statement, check_database(url))
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def customer_profile(customer_id: int, url: str | None = None) -> dict[str, Any] | None:
    """One customer's row (primary-key look-up), or None when there is no such customer."""
    t = BANK_TABLES["customers"]
    rows = _records(sa.select(*_columns(t)).where(t.c.customer_id == int(customer_id)), url)
    if not rows:
        return None
    row = rows[0]
    if row.get("signup_date") is not None:
        row["signup_date"] = pd.Timestamp(row["signup_date"])
    return row


def first_customers(limit: int = 5, url: str | None = None) -> list[dict[str, Any]]:
    """customer_id, income, balance of the ``limit`` smallest customer ids (the primary key's first rows)."""
    t = BANK_TABLES["customers"]
    wanted = [t.c[c] for c in ("customer_id", "income", "balance") if c in t.c]
    return _records(sa.select(*wanted).order_by(t.c.customer_id).limit(int(limit)), url)


def customer_monthly(customer_id: int, url: str | None = None) -> pd.DataFrame:
    """month, direction, amount, count of one customer's transactions, summed by the database (customer_id
    index; the month is the first 7 characters of the timestamp as text, the same on SQLite and PostgreSQL)."""
    t = BANK_TABLES["transactions"]
    month = sa.func.substr(sa.cast(t.c.ts, sa.String), 1, 7).label("month")
    rows = _records(
        sa.select(
            month, t.c.direction, sa.func.sum(t.c.amount).label("amount"), sa.func.count().label("count")
        )
        .where(t.c.customer_id == int(customer_id))
        .group_by(month, t.c.direction)
        .order_by(month, t.c.direction),
        url,
    )
    # a few dozen rows: numpy parses "YYYY-MM" itself, where pandas' parsers cost milliseconds
    return pd.DataFrame(
        {
            "month": np.array([r["month"] for r in rows], dtype="datetime64[M]").astype("datetime64[ns]"),
            "direction": pd.array([str(r["direction"]) for r in rows], dtype="str"),
            "amount": np.array([float(r["amount"]) for r in rows], dtype=np.float64),
            "count": np.array([int(r["count"]) for r in rows], dtype=np.int64),
        }
    )


def customer_loans(customer_id: int, url: str | None = None) -> pd.DataFrame:
    """One customer's loans, oldest first (customer_id index), without the customer_id column."""
    t = BANK_TABLES["loans"]
    frame = _rows(
        sa.select(*_columns(t, "customer_id"))
        .where(t.c.customer_id == int(customer_id))
        .order_by(t.c.issued_at, t.c.loan_id),
        url,
    )
    frame["issued_at"] = pd.to_datetime(frame["issued_at"], format="ISO8601")
    return frame
