"""The bank's tables, read from the database once per worker, and whether the database answers."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from bankdata import Bank, DataValidationError, get_settings, read_bank

# Serialises the first read in a worker: gunicorn threads arriving together must not each read the whole bank.
_READ_LOCK = threading.Lock()


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


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL points at when it does not exist (SQLAlchemy would silently create it), else None."""
    try:
        parsed = sa.engine.make_url(url)
    except SQLAlchemyError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def database_reachable(url: str | None = None) -> bool:
    """Whether the database answers ``SELECT 1`` (a missing SQLite file counts as unreachable; nothing is created)."""
    url = url or get_settings().database_url
    if _missing_sqlite_file(url) is not None:
        return False
    try:
        engine = sa.create_engine(url)
    except (SQLAlchemyError, ImportError):
        return False
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def get_bank(url: str | None = None) -> Bank:
    """The bank in the database at ``url`` (default ``DATABASE_URL``), read once per worker and cached.

    Raises
    ------
    DataUnavailable
        When the database file is missing, has no tables, has no customers or cannot be reached.
    """
    url = url or get_settings().database_url
    with _READ_LOCK:
        return _read_bank(url)


@functools.cache
def _read_bank(url: str) -> Bank:
    missing = _missing_sqlite_file(url)
    if missing is not None:
        raise DataUnavailable(f"the database file {missing} does not exist")
    try:
        bank = read_bank(url)
    # bankdata raises its DatabaseError (a RuntimeError, not exported) for an unreachable or empty database
    except (SQLAlchemyError, DataValidationError, RuntimeError, KeyError, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataUnavailable(f"could not read the bank from {safe_url(url)}: {first_line}") from exc
    if bank.customers.empty:
        raise DataUnavailable(f"the database {safe_url(url)} has no customers")
    return bank
