"""API keys and their rate limits in the database: a key is stored as the sha256 of its text, never the text.

Each key has a token bucket (``api_rate_buckets``): a call takes one token in the same write transaction that finds
the key (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the bucket row is locked with ``SELECT ... FOR UPDATE``), so the
limit holds across every gunicorn worker and every server that shares the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bankdata._db import DatabaseError, _connect, metadata, read_app_rows

api_keys_table = sa.Table(
    "api_keys",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),  # sha256 hex of the key, never the key
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("rate_per_s", sa.Float, nullable=False),
    sa.Column("burst", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)
api_rate_table = sa.Table(
    "api_rate_buckets",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
API_KEY_TABLES = (api_keys_table, api_rate_table)


@dataclass(frozen=True)
class ApiKey:
    """A stored key: its name, role and rate limit (``rate_per_s`` tokens a second, at most ``burst`` saved)."""

    name: str
    role: str
    rate_per_s: float
    burst: int
    created_at: datetime
    revoked_at: datetime | None = None


def _key(row: Any) -> ApiKey:
    m = row._mapping
    return ApiKey(
        m["name"], m["role"], float(m["rate_per_s"]), int(m["burst"]), m["created_at"], m["revoked_at"]
    )


def _write(url: str | None, work: Any) -> Any:
    try:
        with _connect(url, write=True) as conn:
            if not conn.connection.info.get("ledgerlight_api_key_tables"):
                metadata.create_all(conn, tables=list(API_KEY_TABLES))
                conn.connection.info["ledgerlight_api_key_tables"] = True
            return work(conn)
    except sa.exc.IntegrityError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(f"cannot write the API keys: {reason}") from None


def add_api_key(
    name: str, key_hash: str, role: str, rate_per_s: float, burst: int, now: datetime, url: str | None = None
) -> None:
    """Store a new key (the caller hashes it). Raises ``ValueError`` when the name is taken (even by a revoked key)."""
    t = api_keys_table

    def work(conn: Connection) -> None:
        if conn.execute(sa.select(t.c.name).where(t.c.name == name)).first() is not None:
            raise ValueError(f"an API key named {name!r} exists already (names are never reused)")
        conn.execute(
            sa.insert(t).values(
                name=name,
                key_hash=key_hash,
                role=role,
                rate_per_s=float(rate_per_s),
                burst=int(burst),
                created_at=now,
            )
        )
        conn.execute(sa.delete(api_rate_table).where(api_rate_table.c.name == name))

    _write(url, work)


def list_api_keys(url: str | None = None) -> list[ApiKey]:
    """Every key, revoked ones too, by name."""
    rows = read_app_rows(sa.select(api_keys_table).order_by(api_keys_table.c.name), url, what="the API keys")
    return [_key(r) for r in rows]


def revoke_api_key(name: str, now: datetime, url: str | None = None) -> bool:
    """Revoke a key at once (every worker refuses it from the next call); False when no open key has the name."""
    t = api_keys_table
    stmt = sa.update(t).where((t.c.name == name) & t.c.revoked_at.is_(None)).values(revoked_at=now)
    return bool(_write(url, lambda conn: conn.execute(stmt).rowcount))


def _insert_bucket(conn: Connection, name: str, tokens: float, now: datetime) -> None:
    values = {"name": name, "tokens": tokens, "updated_at": now}
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(api_rate_table).values(**values).on_conflict_do_nothing())
    elif conn.dialect.name == "sqlite":
        conn.execute(sqlite.insert(api_rate_table).values(**values).on_conflict_do_nothing())
    elif conn.execute(sa.select(api_rate_table.c.name).where(api_rate_table.c.name == name)).first() is None:
        conn.execute(sa.insert(api_rate_table).values(**values))  # pragma: no cover - other databases


# use_api_key's statements, built once (it runs on every API call)
_KEY_OF = sa.select(api_keys_table).where(api_keys_table.c.key_hash == sa.bindparam("key_hash"))
_BUCKET_OF = (
    sa.select(api_rate_table.c.tokens, api_rate_table.c.updated_at)
    .where(api_rate_table.c.name == sa.bindparam("name"))
    .with_for_update()
)
_BUCKET_SET = (
    sa.update(api_rate_table)
    .where(api_rate_table.c.name == sa.bindparam("b_name"))
    .values(tokens=sa.bindparam("b_tokens"), updated_at=sa.bindparam("b_updated_at"))
)


def use_api_key(key_hash: str, now: datetime, url: str | None = None) -> tuple[ApiKey | None, float]:
    """Find the open key with ``key_hash`` and take one token from its bucket, in one write transaction.

    Returns
    -------
    key : ApiKey or None
        None when no key has this hash or it is revoked (nothing is taken).
    wait : float
        0 when the call may go ahead (a token was taken); else the seconds until a token is back (none taken).
    """

    def work(conn: Connection) -> tuple[ApiKey | None, float]:
        row = conn.execute(_KEY_OF, {"key_hash": key_hash}).first()
        if row is None or row.revoked_at is not None:
            return None, 0.0
        key = _key(row)
        bucket = conn.execute(_BUCKET_OF, {"name": key.name}).first()
        if bucket is None:  # the key's first call: a full bucket (another worker may have made it meanwhile)
            _insert_bucket(conn, key.name, float(key.burst), now)
            bucket = conn.execute(_BUCKET_OF, {"name": key.name}).one()
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(float(key.burst), float(bucket.tokens) + elapsed * key.rate_per_s)
        wait = (1.0 - tokens) / key.rate_per_s if tokens < 1.0 else 0.0
        left = tokens if tokens < 1.0 else tokens - 1.0
        conn.execute(_BUCKET_SET, {"b_name": key.name, "b_tokens": left, "b_updated_at": now})
        return key, wait

    return _write(url, work)
