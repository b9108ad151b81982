"""Sign-in, server-side sessions, roles, the request guard and security headers for the Dash app's Flask server.

``init_auth(app)`` is all ``dashapp.app.create_app`` calls. Users and sessions live in the database (``ledgerlight
users``); what each role may do is :mod:`dashapp.policy`; how a request is matched and authorised is
:mod:`dashapp.auth.callbacks` and :mod:`dashapp.auth.rules`; the audit trail is :mod:`dashapp.services.audit`.
"""

from __future__ import annotations

import dash
import flask
import flask_login
from werkzeug.middleware.proxy_fix import ProxyFix

from dashapp.auth import guard
from dashapp.auth.config import ConfigError, flask_settings, is_production
from dashapp.auth.csrf import csrf_token
from dashapp.auth.rules import may_open, owned_by, visible_pages
from dashapp.auth.sessions import load_session_user
from dashapp.auth.throttle import policy_from_env, trusted_proxy_hops
from dashapp.auth.users import User, authenticate, create_user, demo_users, list_users
from dashapp.auth.views import LOGIN_PATH, LOGOUT_PATH, register_views
from dashapp.policy import ROLES


def init_auth(app: dash.Dash) -> flask_login.LoginManager:
    """Configure the server (key, cookies), Flask-Login, ``/login`` and ``/logout``, the guard and the headers.

    Raises
    ------
    ConfigError
        The environment is unsafe for production (no ``SECRET_KEY``, debug on) or a setting is malformed.
    """
    server = app.server
    server.config.update(flask_settings())
    policy_from_env()  # a malformed throttle setting stops the start, not the first sign-in
    if is_production() and (server.debug or app.config.get("debug")):
        raise ConfigError("debug mode is on with LEDGERLIGHT_ENV=production: refusing to start")
    hops = trusted_proxy_hops()
    if hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)
    manager = flask_login.LoginManager()
    manager.session_protection = "basic"  # "strong" would sign out users whose proxy IP changes
    manager.user_loader(load_session_user)  # the cookie holds a server-side session's token
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


def signed_in_role() -> str | None:
    """The role of the signed-in user of the current request, or None (which ``dashapp.policy`` allows nothing)."""
    user = signed_in()
    return user.role if user is not None else None


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
    "owned_by",
    "signed_in",
    "signed_in_role",
    "visible_pages",
]
