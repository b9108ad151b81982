"""API keys: made once (``ll_`` and 43 random URL-safe characters), stored as their sha256, sent as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; a browser's session cookie never authenticates a call.

Finding the key and taking a token of its rate limit are one database transaction (``bankdata.use_api_key``), so
revoking a key and the limit hold across every gunicorn worker.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
from datetime import UTC, datetime

import flask

from bankdata import ApiKey, add_api_key, list_api_keys, revoke_api_key, use_api_key
from dashapp import policy
from dashapp.api.errors import ApiError
from dashapp.services import audit

PREFIX = "ll_"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,59}")
_KEY = re.compile(r"ll_[A-Za-z0-9_-]{43}")
DEFAULT_RATE = 20.0  # calls a second, per key
DEFAULT_BURST = 40
BY = "cli"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def key_hash(key: str) -> str:
    """The sha256 (hex) stored for ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def default_limits() -> tuple[float, int]:
    """Calls a second and burst for new keys: ``LEDGERLIGHT_API_RATE`` and ``LEDGERLIGHT_API_BURST`` or 20 and 40."""
    rate = float(os.environ.get("LEDGERLIGHT_API_RATE", "") or DEFAULT_RATE)
    burst = int(os.environ.get("LEDGERLIGHT_API_BURST", "") or DEFAULT_BURST)
    return rate, burst


def create_key(name: str, role: str, rate_per_s: float | None = None, burst: int | None = None) -> str:
    """Store a new key of ``role`` and return its text (shown once: only its hash is kept). Audited.

    Raises
    ------
    ValueError
        A bad name, role or limit, or the name is taken.
    """
    if not NAME.fullmatch(name or ""):
        raise ValueError(
            f"API key name {name!r}: 2-60 letters, digits or . _ @ -, starting with a letter or digit"
        )
    if role not in policy.ROLES:
        raise ValueError(f"role {role!r}: expected one of {', '.join(policy.ROLES)}")
    default_rate, default_burst = default_limits()
    rate = default_rate if rate_per_s is None else float(rate_per_s)
    size = default_burst if burst is None else int(burst)
    if not (math.isfinite(rate) and 0 < rate <= 10_000) or not 1 <= size <= 100_000:
        raise ValueError(
            f"rate {rate:g}/s and burst {size}: expected a rate in (0, 10000] and a burst in 1..100000"
        )
    key = PREFIX + secrets.token_urlsafe(32)
    add_api_key(name, key_hash(key), role, rate, size, _now())
    audit.record(BY, "add_api_key", f"api key {name}", f"role={role}; rate={rate:g}/s; burst={size}")
    return key


def keys() -> list[ApiKey]:
    """Every key (never its text: only the hash is stored)."""
    return list_api_keys()


def revoke_key(name: str) -> None:
    """Revoke a key now. Audited. Raises ``ValueError`` when no open key has this name."""
    if not revoke_api_key(name, _now()):
        raise ValueError(f"no open API key named {name!r} (ledgerlight apikeys list)")
    audit.record(BY, "revoke_api_key", f"api key {name}")


def presented_key() -> str | None:
    """The key the request carries (``Authorization: Bearer`` first, then ``X-API-Key``), or None."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    value = flask.request.headers.get("X-API-Key", "").strip()
    return value or None


def authenticate(endpoint: str) -> ApiKey:
    """The open key of this request, a token taken from its rate limit, and its role allowed ``endpoint``.

    Raises
    ------
    ApiError
        401 without a key or with an unknown or revoked one, 429 (``Retry-After``) when its rate limit is spent,
        403 when its role may not call ``endpoint`` (``dashapp.policy.may_call``).
    """
    key = presented_key()
    challenge = {"WWW-Authenticate": 'Bearer realm="ledgerlight-api"'}
    if key is None:
        raise ApiError(
            401, "Send an API key: Authorization: Bearer <key> (or X-API-Key: <key>).", headers=challenge
        )
    if not _KEY.fullmatch(key):
        raise ApiError(401, "That is not a Ledgerlight API key.", headers=challenge)
    found, wait = use_api_key(key_hash(key), _now())
    if found is None:
        raise ApiError(401, "Unknown or revoked API key.", headers=challenge)
    flask.g.api_key = found
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"Rate limit of key {found.name} ({found.rate_per_s:g} calls/s, burst {found.burst}) "
            f"reached; retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
    if not policy.may_call(found.role, endpoint):
        raise ApiError(403, f"Role {found.role} (key {found.name}) may not call {endpoint}.")
    return found
