"""The request guard: sign-in required everywhere but the sign-in form, static assets and ``/healthz``; page and
callback rules checked on the server; audit rows for audited callbacks; security headers and a JSON log line."""

from __future__ import annotations

import time
from typing import Any

import dash
import flask
import flask_login
from markupsafe import escape

from bankdata import ArtifactError, DatabaseError
from dashapp.auth import logs, rules
from dashapp.auth.config import content_security_policy, security_headers
from dashapp.auth.views import LOGIN_PATH, LOGOUT_PATH
from dashapp.services import audit

CALLBACK_PATH = "/_dash-update-component"
PUBLIC_PATHS = frozenset({LOGIN_PATH, "/healthz", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/",)
DASH_PREFIX = "/_dash-"
#: GET paths that are not pages (Dash's own endpoints, Help images): signed in is enough
NON_PAGE_PREFIXES = (DASH_PREFIX, "/_reload-hash", "/help/img/", "/static/")

_ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ledgerlight · {title}</title>
<link rel="stylesheet" href="/assets/bootstrap.min.css"><link rel="stylesheet" href="/assets/ledgerlight.css"></head>
<body><main class="container" style="max-width: 640px; padding-top: 10vh;"><div class="card ll-card ll-error">
<div class="card-body"><h1 class="h4" id="error-title">{title}</h1><p id="error-message">{message}</p>
<p class="text-muted small mb-0">Request id {rid} · <a href="/">Overview</a></p></div></div></main></body></html>"""


def is_public(path: str) -> bool:
    """Paths anyone may fetch without signing in."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def error_page(status: int, title: str, message: str) -> flask.Response:
    """A small server-rendered page (or JSON for Dash's endpoints) with the request id, never a traceback."""
    rid = flask.g.get("request_id", "")
    if flask.request.path.startswith(DASH_PREFIX):
        return flask.make_response(flask.jsonify({"error": title, "message": message, "request_id": rid}), status)
    html = _ERROR_PAGE.format(title=escape(title), message=escape(message), rid=escape(rid))
    return flask.make_response(html, status)


def _user_or_none() -> Any:
    user = flask_login.current_user
    return user if user.is_authenticated else None


def before_request() -> flask.Response | None:
    """Refuse what the user may not do; remember the audit events of an allowed callback."""
    flask.g.started = time.perf_counter()
    flask.g.request_id = logs.request_id(flask.request.headers.get(logs.REQUEST_ID_HEADER))
    path = flask.request.path
    if is_public(path):
        return None
    try:
        user = _user_or_none()
    except DatabaseError as exc:
        return error_page(503, "Database unavailable", f"Signing in needs the database, which does not answer: {exc}")
    if user is None:
        if path.startswith(DASH_PREFIX) or flask.request.method != "GET" or path == LOGOUT_PATH:
            return error_page(401, "Sign in first", "Your session has ended; reload the page to sign in.")
        return flask.redirect(f"{LOGIN_PATH}?next={flask.request.full_path.rstrip('?')}")
    if path == CALLBACK_PATH:
        return _check_callback(user)
    page_request = flask.request.method == "GET" and not path.startswith(NON_PAGE_PREFIXES)
    if page_request and not rules.may_open(user.role, path, dash.page_registry.values()):
        return error_page(403, "Not allowed", f"Your role ({user.role}) may not open {rules.normalise_path(path)}.")
    return None


def _check_callback(user: Any) -> flask.Response | None:
    if flask.request.mimetype != "application/json":
        return error_page(415, "Unsupported request", "Callbacks are JSON requests.")
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_page(400, "Bad request", "The callback request is not a JSON object.")
    app = dash.get_app()
    refused = rules.check_callback(user.role, body, app.callback_map, dash.page_registry)
    if refused:
        audit.record_safely(user.id, "denied", str(body.get("output", ""))[:200], refused)
        return error_page(403, "Not allowed", refused)
    flask.g.audit_events = audit.events_for(body)
    return None


def after_request(response: flask.Response) -> flask.Response:
    """Write the audit rows of a successful callback, add the security headers, log one JSON line."""
    events = flask.g.pop("audit_events", None)
    user = flask.g.get("_login_user")
    name = getattr(user, "id", None) if user is not None and getattr(user, "is_authenticated", False) else None
    if events and response.status_code == 200:
        try:
            for event in events:
                audit.record(name or "anonymous", event.action, event.target, event.detail)
        except DatabaseError as exc:  # nothing is shown that the audit log did not record
            flask.current_app.logger.error("audit row not written, answer withheld: %s", exc)
            response = error_page(503, "Audit log unavailable", str(exc))
    if response.mimetype == "text/html":
        csp = content_security_policy(dash.get_app().csp_hashes())
        response.headers.setdefault("Cache-Control", "no-store")
    else:
        csp = "default-src 'none'; frame-ancestors 'none'"
    for key, value in security_headers(csp).items():
        response.headers.setdefault(key, value)
    rid = flask.g.get("request_id", "")
    response.headers[logs.REQUEST_ID_HEADER] = rid
    logs.log_request(logs.access_logger(), rid=rid, user=name, method=flask.request.method,
                     path=flask.request.path, status=response.status_code,
                     started=flask.g.get("started", time.perf_counter()))
    return response


def server_error(exc: Exception) -> flask.Response:
    """500: a plain page with the request id (the traceback goes to the log, never to the browser)."""
    original = getattr(exc, "original_exception", exc)
    if isinstance(original, DatabaseError):
        return error_page(503, "Database unavailable", str(original))
    if isinstance(original, ArtifactError):
        return error_page(503, "Model unavailable", f"{original} (run `ledgerlight train --missing`)")
    flask.current_app.logger.error("unhandled error in %s", flask.request.path, exc_info=original)
    return error_page(500, "Something went wrong", "The error was logged; quote the request id when you report it.")


def install(server: flask.Flask) -> None:
    """Register the guard, the header/log hook and the error pages on the Flask server."""
    server.before_request(before_request)
    server.after_request(after_request)
    server.register_error_handler(500, server_error)
    server.register_error_handler(DatabaseError, server_error)
    server.register_error_handler(ArtifactError, server_error)
