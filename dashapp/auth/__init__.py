"""Sign-in, roles, the request guard and security headers for the Dash app's Flask server.

``init_auth(app)`` is all ``dashapp.app.create_app`` calls. Users live in the database (``ledgerlight users``);
rules are in :mod:`dashapp.auth.rules`; the audit trail in :mod:`dashapp.services.audit`.
"""

from __future__ import annotations

import dash
import flask
import flask_login

from dashapp.auth import guard
from dashapp.auth.config import ConfigError, flask_settings, is_production
from dashapp.auth.csrf import csrf_token
from dashapp.auth.rules import ROLES, may_open, visible_pages
from dashapp.auth.users import User, authenticate, create_user, demo_users, list_users, load_user
from dashapp.auth.views import LOGIN_PATH, LOGOUT_PATH, register_views


def init_auth(app: dash.Dash) -> flask_login.LoginManager:
    """Configure the server (key, cookies), Flask-Login, ``/login`` and ``/logout``, the guard and the headers.

    Raises
    ------
    ConfigError
        The environment is unsafe for production (no ``SECRET_KEY``, debug on) or a setting is malformed.
    """
    server = app.server
    server.config.update(flask_settings())
    if is_production() and (server.debug or app.config.get("debug")):
        raise ConfigError("debug mode is on with LEDGERLIGHT_ENV=production: refusing to start")
    manager = flask_login.LoginManager()
    manager.session_protection = "basic"  # "strong" would sign out users whose proxy IP changes
    manager.user_loader(load_user)
    manager.init_app(server)
    register_views(server)
    guard.install(server)
    return manager


def signed_in() -> User | None:
    """The signed-in user of the current request, or None (also outside a request)."""
    if not flask.has_request_context():
        return None
    user = flask_login.current_user
    return user if getattr(user, "is_authenticated", False) else None


__all__ = [
    "LOGIN_PATH",
    "LOGOUT_PATH",
    "ROLES",
    "ConfigError",
    "User",
    "authenticate",
    "create_user",
    "csrf_token",
    "demo_users",
    "init_auth",
    "list_users",
    "may_open",
    "signed_in",
    "visible_pages",
]
