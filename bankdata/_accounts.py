"""Accounts in the database: server-side sign-in sessions, changes to users, and the sign-in throttle.

Sessions are rows keyed by the sha256 of a random token (the cookie carries the token, the database only its hash),
so signing out, a password or role change and removing a user end them everywhere at once. The throttle counts
sign-in attempts per key in one write transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the row is locked with
``SELECT ... FOR UPDATE``), so concurrent workers can never check more passwords than the limit allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bankdata._db import (
    DatabaseError,
    _connect,
    ensure_app_tables,
    read_app_rows,
    sign_in_throttle_table,
    user_sessions_table,
    users_table,
)

REVOKED_SIGN_OUT = "sign_out"


def _read(url: str | None, query: sa.Select) -> list[sa.Row]:
    """Rows of a read-only query; no rows when the app's tables were never created."""
    return read_app_rows(query, url, what="the accounts")


def _write(url: str | None, work: Callable[[Connection], Any]) -> Any:
    try:
        with _connect(url, write=True) as conn:
            ensure_app_tables(conn)
            return work(conn)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(f"cannot write the accounts: {reason}") from None


# --- sessions -------------------------------------------------------------------------------------------------------


def create_session(
    token_hash: str, username: str, now: datetime, expires_at: datetime, address: str, url: str | None = None
) -> None:
    """Store a new session of ``username`` (``now`` and ``expires_at`` are naive UTC)."""
    values = {
        "token_hash": token_hash,
        "username": username,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": expires_at,
        "address": address[:64],
    }
    _write(url, lambda conn: conn.execute(sa.insert(user_sessions_table).values(**values)))


def find_session(token_hash: str, url: str | None = None) -> dict[str, Any] | None:
    """The session and its user's current role: username, role, created_at, last_seen_at, expires_at, revoked_at;
    None when there is no such session or its user no longer exists."""
    s, u = user_sessions_table, users_table
    query = (
        sa.select(s.c.username, u.c.role, s.c.created_at, s.c.last_seen_at, s.c.expires_at, s.c.revoked_at)
        .join(u, u.c.username == s.c.username)
        .where(s.c.token_hash == token_hash)
    )
    rows = _read(url, query)
    return dict(rows[0]._mapping) if rows else None


def touch_session(token_hash: str, now: datetime, url: str | None = None) -> None:
    """Record that the session was used at ``now`` (the idle timeout counts from here)."""
    t = user_sessions_table
    _write(
        url,
        lambda conn: conn.execute(sa.update(t).where(t.c.token_hash == token_hash).values(last_seen_at=now)),
    )


def revoke_sessions(
    *,
    now: datetime,
    why: str,
    username: str | None = None,
    token_hash: str | None = None,
    url: str | None = None,
) -> int:
    """End one session (``token_hash``) or every session of ``username``; returns how many were still open."""
    if (username is None) == (token_hash is None):
        raise ValueError("revoke_sessions: give exactly one of username or token_hash")
    t = user_sessions_table
    which = t.c.username == username if username is not None else t.c.token_hash == token_hash
    stmt = sa.update(t).where(which & t.c.revoked_at.is_(None)).values(revoked_at=now, revoked_why=why[:60])
    return int(_write(url, lambda conn: conn.execute(stmt).rowcount))


def open_sessions(username: str, now: datetime, url: str | None = None) -> int:
    """How many sessions of ``username`` are neither revoked nor past their absolute expiry."""
    t = user_sessions_table
    query = sa.select(sa.func.count()).where(
        (t.c.username == username) & t.c.revoked_at.is_(None) & (t.c.expires_at > now)
    )
    rows = _read(url, query)
    return int(rows[0][0]) if rows else 0


# --- users ----------------------------------------------------------------------------------------------------------


def _change_user(
    username: str, now: datetime, why: str, url: str | None, change: Callable[[Connection], int]
) -> bool:
    def work(conn: Connection) -> bool:
        if not change(conn):
            return False
        s = user_sessions_table
        conn.execute(
            sa.update(s)
            .where((s.c.username == username) & s.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_why=why)
        )
        return True

    return bool(_write(url, work))


def set_password_hash(username: str, password_hash: str, now: datetime, url: str | None = None) -> bool:
    """Replace the user's password hash and end every session of theirs; False when there is no such user."""
    u = users_table
    stmt = sa.update(u).where(u.c.username == username).values(password_hash=password_hash)
    return _change_user(username, now, "password_changed", url, lambda conn: conn.execute(stmt).rowcount)


def set_role(username: str, role: str, now: datetime, url: str | None = None) -> bool:
    """Change the user's role and end every session of theirs; False when there is no such user."""
    u = users_table
    stmt = sa.update(u).where(u.c.username == username).values(role=role)
    return _change_user(username, now, "role_changed", url, lambda conn: conn.execute(stmt).rowcount)


def delete_user(username: str, now: datetime, url: str | None = None) -> bool:
    """Remove the user, end their sessions and forget their sign-in throttle; False when there is no such user."""

    def change(conn: Connection) -> int:
        conn.execute(sa.delete(sign_in_throttle_table).where(sign_in_throttle_table.c.username == username))
        return conn.execute(sa.delete(users_table).where(users_table.c.username == username)).rowcount

    return _change_user(username, now, "user_removed", url, change)


# --- the sign-in throttle -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleKey:
    """One counter of sign-in attempts: its key, the failures allowed per window, and the user name it concerns."""

    key: str
    limit: int
    username: str | None = None


def _insert_missing(conn: Connection, values: dict[str, Any]) -> None:
    table = sign_in_throttle_table
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        conn.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - other databases: insert when absent (the write transaction serialises writers)
        if conn.execute(sa.select(table.c.key).where(table.c.key == values["key"])).first() is None:
            conn.execute(sa.insert(table).values(**values))


def _locked_rows(
    conn: Connection, keys: Sequence[ThrottleKey], now: datetime, window: timedelta
) -> dict[str, Any]:
    """Each key's row, created when missing and locked for this transaction; a row whose window ended starts over."""
    table = sign_in_throttle_table
    rows: dict[str, Any] = {}
    for k in sorted(keys, key=lambda k: k.key):  # one lock order for every worker: no deadlock
        _insert_missing(
            conn,
            {
                "key": k.key,
                "username": k.username,
                "window_started_at": now,
                "failures": 0,
                "in_flight": 0,
                "next_allowed_at": now,
            },
        )
        row: Mapping[Any, Any] = (
            conn.execute(sa.select(table).where(table.c.key == k.key).with_for_update()).mappings().one()
        )
        if row["window_started_at"] + window <= now:
            conn.execute(
                sa.update(table)
                .where(table.c.key == k.key)
                .values(window_started_at=now, failures=0, in_flight=0, next_allowed_at=now)
            )
            row = {**row, "window_started_at": now, "failures": 0, "in_flight": 0, "next_allowed_at": now}
        rows[k.key] = row
    return rows


def reserve_sign_in(
    keys: Sequence[ThrottleKey], now: datetime, window: timedelta, url: str | None = None
) -> float | None:
    """Take one attempt from every key at once, or none.

    Returns None when the attempt may go ahead (each key's ``in_flight`` is raised by one until
    :func:`finish_sign_in`), else the seconds to wait: until the window ends when failures and attempts in flight
    reach a key's limit, or until the key's growing delay has passed.
    """
    table = sign_in_throttle_table

    def work(conn: Connection) -> float | None:
        rows = _locked_rows(conn, keys, now, window)
        waits = []
        for k in keys:
            row = rows[k.key]
            if row["failures"] + row["in_flight"] >= k.limit:
                waits.append((row["window_started_at"] + window - now).total_seconds())
            elif row["next_allowed_at"] > now:
                waits.append((row["next_allowed_at"] - now).total_seconds())
        if waits:
            return max(1.0, max(waits))
        for k in keys:
            conn.execute(sa.update(table).where(table.c.key == k.key).values(in_flight=table.c.in_flight + 1))
        return None

    return _write(url, work)


def finish_sign_in(
    keys: Sequence[ThrottleKey],
    failed: bool | None,
    now: datetime,
    window: timedelta,
    delay_after: Callable[[ThrottleKey, int], float],
    url: str | None = None,
) -> None:
    """End an attempt taken by :func:`reserve_sign_in`.

    ``failed`` True counts a failure on every key and sets its next allowed time ``delay_after(key, failures)``
    seconds from now; False (a successful sign-in) and None (the password could not be checked) only release the
    attempt. Failures are forgotten when their window ends, not on success, so no interleaving of attempts checks
    more wrong passwords than the limit.
    """
    table = sign_in_throttle_table

    def work(conn: Connection) -> None:
        rows = _locked_rows(conn, keys, now, window)
        for k in keys:
            row = rows[k.key]
            values: dict[str, Any] = {"in_flight": max(0, row["in_flight"] - 1)}
            if failed:
                failures = row["failures"] + 1
                values.update(
                    failures=failures, next_allowed_at=now + timedelta(seconds=delay_after(k, failures))
                )
            conn.execute(sa.update(table).where(table.c.key == k.key).values(**values))

    _write(url, work)


def clear_sign_in_throttle(username: str, url: str | None = None) -> int:
    """Forget every counter of ``username`` (an admin's unlock); returns how many were removed."""
    stmt = sa.delete(sign_in_throttle_table).where(sign_in_throttle_table.c.username == username)
    return int(_write(url, lambda conn: conn.execute(stmt).rowcount))
