"""Server-side sign-in sessions: a random token in the (signed) cookie, its sha256 in the database.

Every request looks its session up (:func:`load_session_user`, Flask-Login's user loader), so a session ends
everywhere the moment it is revoked: at sign-out, on a password or role change, when the user is removed, after
``SESSION_IDLE_MINUTES`` without a request, and ``SESSION_HOURS`` after sign-in whatever happens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from bankdata import create_session, find_session, revoke_sessions, touch_session
from dashapp.auth.config import absolute_timeout, idle_timeout
from dashapp.auth.users import User

#: a session's last use is written at most this often (the idle timeout is this coarse)
TOUCH_EVERY = timedelta(seconds=60)


def now_utc() -> datetime:
    """Naive UTC, as the database stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(username: str, role: str, address: str) -> User:
    """Store a new session for a user who has just proved who they are; the returned user carries its token."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    create_session(token_hash(token), username, now, now + absolute_timeout(), address)
    return User(id=username, role=role, session_token=token)


def end_session(token: str, why: str = "sign_out") -> None:
    """Revoke one session (sign-out)."""
    if token:
        revoke_sessions(now=now_utc(), why=why, token_hash=token_hash(token))


def load_session_user(token: str) -> User | None:
    """The user of a live session, or None when the token is unknown, revoked, idle or expired (Flask-Login's
    user loader: the cookie stores the token as the "user id")."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    digest = token_hash(token)
    row = find_session(digest)
    if row is None or row["revoked_at"] is not None:
        return None
    now = now_utc()
    if now >= row["expires_at"]:
        return None
    if now - row["last_seen_at"] > idle_timeout():
        revoke_sessions(now=now, why="idle", token_hash=digest)
        return None
    if now - row["last_seen_at"] > TOUCH_EVERY:
        touch_session(digest, now)
    return User(id=row["username"], role=row["role"], session_token=token)
