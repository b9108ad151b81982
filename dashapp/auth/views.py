"""Sign in and sign out: plain Flask routes with a server-rendered, CSRF-protected form (no Dash, no script)."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

import flask
import flask_login
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse  # what flask.redirect returns

from bankdata import DatabaseError
from dashapp.auth import throttle
from dashapp.auth.csrf import FIELD, csrf_ok, csrf_token
from dashapp.auth.sessions import end_session, start_session
from dashapp.auth.users import authenticate
from dashapp.services import audit
from dashapp.services.messages import public_message

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ledgerlight · sign in</title>
<link rel="stylesheet" href="/assets/bootstrap.min.css"><link rel="stylesheet" href="/assets/ledgerlight.css">
<link rel="icon" href="/assets/favicon.ico"></head>
<body class="ll-login"><main class="container" style="max-width: 420px; padding-top: 12vh;">
<div class="card ll-card"><div class="card-body">
<h1 class="h4 mb-3"><img src="/assets/logo.svg" alt="" style="height: 1.6rem;"> Ledgerlight</h1>
{message}
<form method="post" action="{action}" id="login-form">
<input type="hidden" name="{field}" value="{token}">
<input type="hidden" name="next" value="{next}">
<div class="mb-3"><label class="form-label" for="login-username">User name</label>
<input class="form-control" id="login-username" name="username" autocomplete="username" required autofocus value="{username}"></div>
<div class="mb-3"><label class="form-label" for="login-password">Password</label>
<input class="form-control" id="login-password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" id="login-submit" type="submit">Sign in</button>
</form></div></div></main></body></html>"""


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another host: no open redirect)."""
    target = (target or "/").strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return "/"
    return target


def _render(message: str = "", username: str = "", next_path: str = "/", status: int = 200) -> flask.Response:
    alert = (
        f'<div class="alert alert-danger py-2" id="login-error" role="alert">{escape(message)}</div>'
        if message
        else ""
    )
    html = _PAGE.format(
        message=alert,
        action=LOGIN_PATH,
        field=FIELD,
        token=escape(csrf_token()),
        next=escape(safe_next(next_path)),
        username=escape(username),
    )
    response = flask.make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _throttled(username: str, next_path: str, wait: float) -> flask.Response:
    audit.record_safely(
        username or "(blank)", "sign_in_throttled", "session", f"address={throttle.client_address()}"
    )
    when = f"{math.ceil(wait / 60)} minutes" if wait >= 90 else f"{math.ceil(wait)} seconds"
    response = _render(
        f"Too many failed sign-ins for this user name from your address; try again in {when}.",
        username,
        next_path,
        status=429,
    )
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


def login() -> BaseResponse:
    """GET: the sign-in form. POST: check the token, the throttle and the password; start a server-side session."""
    if flask.request.method == "GET":
        if flask_login.current_user.is_authenticated:
            return flask.redirect(safe_next(flask.request.args.get("next")))
        return _render(next_path=flask.request.args.get("next", "/"))
    form = flask.request.form
    username, next_path = form.get("username", "").strip()[:120], form.get("next", "/")
    if not csrf_ok(form.get(FIELD)):
        return _render("The form expired; please sign in again.", username, next_path, status=400)
    address = throttle.client_address()
    try:
        wait = throttle.reserve(username, address)
        if wait is not None:
            return _throttled(username, next_path, wait)
        failed: bool | None = None
        try:
            user = authenticate(username, form.get("password", ""))
            failed = user is None
        finally:
            throttle.finish(username, address, failed)
        if user is not None:
            user = start_session(user.id, user.role, address)
    except DatabaseError as exc:
        return _render(
            f"Signing in is not possible right now: {public_message(exc)}", username, next_path, status=503
        )
    if user is None:
        audit.record_safely(username or "(blank)", "sign_in_failed", "session", f"address={address}")
        return _render("Wrong user name or password.", username, next_path, status=401)
    flask.session.clear()  # a fresh cookie on sign-in (no fixation)
    flask.session.permanent = True
    flask_login.login_user(user)
    # Make the session's form token now: created lazily, the first page's parallel requests could each make one
    # and the navbar's sign-out form would carry a token the cookie no longer holds.
    csrf_token()
    audit.record_safely(user.id, "sign_in", "session", f"role={user.role}; address={address}")
    return flask.redirect(safe_next(next_path))


def logout() -> BaseResponse:
    """POST with the session's token: revoke the server-side session and show the sign-in form."""
    if not csrf_ok(flask.request.form.get(FIELD)):
        return flask.make_response("The sign-out form expired; reload the page.", 400)
    user = flask_login.current_user
    if user.is_authenticated:
        try:
            end_session(user.session_token)
        except DatabaseError as exc:
            return flask.make_response(f"Signing out is not possible right now: {public_message(exc)}", 503)
        audit.record_safely(user.id, "sign_out", "session", "")
    flask_login.logout_user()
    flask.session.clear()
    return flask.redirect(LOGIN_PATH)


def register_views(server: flask.Flask) -> None:
    """Add ``/login`` (GET, POST) and ``/logout`` (POST) to the Flask server."""
    server.add_url_rule(LOGIN_PATH, "login", login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "logout", logout, methods=["POST"])
