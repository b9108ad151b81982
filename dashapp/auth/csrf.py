"""CSRF tokens for the server-rendered forms (sign in, sign out): one random token per session, compared in constant time."""

from __future__ import annotations

import hmac
import secrets

import flask

SESSION_KEY = "csrf_token"
FIELD = "csrf_token"


def csrf_token() -> str:
    """This session's token (made on first use)."""
    token = flask.session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session[SESSION_KEY] = token
    return token


def csrf_ok(sent: str | None) -> bool:
    """Whether ``sent`` (the form's field) matches this session's token."""
    expected = flask.session.get(SESSION_KEY)
    return bool(expected and sent) and hmac.compare_digest(str(expected), str(sent))
