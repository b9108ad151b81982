"""The request guard: sign-in required everywhere but the sign-in form, static assets and ``/healthz``; every callback
request matched against its registered callback and authorised from the server's registry before page code runs;
audit rows for what was served and for every refusal; security headers and a JSON log line."""

from __future__ import annotations

import time
from typing import Any

import dash
import flask
import flask_login
from dash.exceptions import DependencyException
from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse  # what flask.redirect returns

from bankdata import ArtifactError, DatabaseError
from dashapp.auth import logs, rules
from dashapp.auth.callbacks import MAX_BODY_BYTES, RequestRefused, match_request, strict_loads
from dashapp.auth.config import content_security_policy, is_production, security_headers
from dashapp.auth.throttle import client_address
from dashapp.auth.views import LOGIN_PATH, LOGOUT_PATH
from dashapp.services import audit
from dashapp.services.messages import public_message
from dashapp.services.served import NotTrained
from dashapp.services.validation import InputError

CALLBACK_PATH = "/_dash-update-component"
PUBLIC_PATHS = frozenset({LOGIN_PATH, "/healthz", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/",)
#: the JSON API checks every call's own API key (``dashapp.api``): a browser session never authenticates it
API_PREFIX = "/api/"
DASH_PREFIX = "/_dash-"
COMPONENT_SUITES = "/_dash-component-suites/"
#: GET paths that are not pages (Dash's own endpoints, Help images): signed in is enough
NON_PAGE_PREFIXES = (DASH_PREFIX, "/_reload-hash", "/help/img/", "/static/")
#: responses that carry no user's data and may be cached (versioned scripts and styles)
CACHEABLE_PREFIXES = ("/assets/", COMPONENT_SUITES)

_ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ledgerlight · {title}</title>
<link rel="stylesheet" href="/assets/bootstrap.min.css"><link rel="stylesheet" href="/assets/ledgerlight.css"></head>
<body><main class="container" style="max-width: 640px; padding-top: 10vh;"><div class="card ll-card ll-error">
<div class="card-body"><h1 class="h4" id="error-title">{title}</h1><p id="error-message">{message}</p>
<p class="text-muted small mb-0">Request id {rid} · <a href="/">Overview</a></p></div></div></main></body></html>"""

TITLES = {
    400: "Bad request",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    413: "Request too large",
    415: "Unsupported request",
    503: "Unavailable",
}


def is_public(path: str) -> bool:
    """Paths anyone may fetch without signing in."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def error_page(status: int, title: str, message: str) -> flask.Response:
    """A small server-rendered page (or JSON for Dash's endpoints) with the request id, never a traceback."""
    rid = flask.g.get("request_id", "")
    if flask.request.path.startswith(DASH_PREFIX):
        return flask.make_response(
            flask.jsonify({"error": title, "message": message, "request_id": rid}), status
        )
    html = _ERROR_PAGE.format(title=escape(title), message=escape(message), rid=escape(rid))
    return flask.make_response(html, status)


def refuse(status: int, reason: str, action: str = "refused") -> flask.Response:
    """Answer ``status`` with ``reason``; a refused callback request is written to the audit log after the answer."""
    flask.g.refusal = (action, reason)
    return error_page(status, TITLES.get(status, "Refused"), reason)


def _user_or_none() -> Any:
    user = flask_login.current_user
    return user if user.is_authenticated else None


def before_request() -> BaseResponse | None:
    """Refuse what the user may not do before any app code runs."""
    flask.g.started = time.perf_counter()
    flask.g.request_id = logs.request_id(flask.request.headers.get(logs.REQUEST_ID_HEADER))
    path = flask.request.path
    if is_public(path) or path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX):
        return None
    try:
        user = _user_or_none()
    except DatabaseError as exc:
        return error_page(
            503,
            "Database unavailable",
            f"Signing in needs the database, which does not answer: {public_message(exc)}",
        )
    if user is None:
        if path.startswith(DASH_PREFIX) or flask.request.method != "GET" or path == LOGOUT_PATH:
            return refuse(401, "Your session has ended; reload the page to sign in.")
        return flask.redirect(f"{LOGIN_PATH}?next={flask.request.full_path.rstrip('?')}")
    try:
        if path == CALLBACK_PATH:
            return _check_callback(user)
        if flask.request.method == "GET" and not path.startswith(NON_PAGE_PREFIXES):
            return _check_page(user, path)
    except RequestRefused as exc:
        return refuse(exc.status, exc.reason)
    return None


def _check_page(user: Any, path: str) -> flask.Response | None:
    page = rules.page_for_path(dash.get_app(), path)
    if not rules.may_open(user.role, page):
        return refuse(
            403, f"Your role ({user.role}) may not open {page.get('path') if page else path}.", "denied"
        )
    rules.check_query(page, flask.request.args.to_dict(flat=False))
    return None


def _check_callback(user: Any) -> flask.Response | None:
    if flask.request.mimetype != "application/json":
        raise RequestRefused(415, "Callbacks are JSON requests.")
    if (flask.request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestRefused(413, f"A callback request may have at most {MAX_BODY_BYTES:,} bytes.")
    try:
        body = strict_loads(flask.request.get_data(cache=True))
    except RequestEntityTooLarge:
        raise RequestRefused(413, f"A callback request may have at most {MAX_BODY_BYTES:,} bytes.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRefused(400, f"the request body is not acceptable JSON: {exc}"[:300]) from None
    flask.request._cached_json = (body, body)  # what Dash reads is exactly what was checked (no second parse)
    app = dash.get_app()
    callback = match_request(body, app.callback_map)
    flask.g.callback_output = callback.key
    refused = rules.refusal_for_callback(user.role, app, callback, body)
    if refused:
        return refuse(403, refused, "denied")
    return None


def _write_served(response: flask.Response, name: str | None) -> flask.Response:
    """Write the audit rows of what this request served; withhold the answer when they cannot be written."""
    events = audit.pending()
    if not events or response.status_code != 200:
        return response
    try:
        for event in events:
            audit.record(name or "anonymous", event.action, event.target, event.detail)
    except DatabaseError as exc:  # nothing is shown that the audit log did not record
        flask.current_app.logger.error("audit row not written, answer withheld: %s", exc)
        response = error_page(503, "Audit log unavailable", public_message(exc))
    return response


def _write_refusal(response: flask.Response, name: str | None) -> None:
    """Every refused callback request (and every other refusal the guard made) leaves an audit row."""
    refusal = flask.g.pop("refusal", None)
    is_callback = flask.request.path == CALLBACK_PATH
    if refusal is None and not (is_callback and 400 <= response.status_code < 500):
        return
    action, reason = refusal or ("refused", TITLES.get(response.status_code, "refused"))
    target = flask.g.get("callback_output") or flask.request.path
    detail = f"{response.status_code} {reason}; address={client_address()}"
    flask.current_app.logger.warning(
        "%s %s for %s: %s", action, str(target)[:120], name or "anonymous", detail
    )
    audit.record_safely(name or "anonymous", action, str(target)[:200], detail)


def after_request(response: flask.Response) -> flask.Response:
    """Audit rows, the security headers, ``Cache-Control: no-store`` on anything with data, one JSON log line."""
    user = flask.g.get("_login_user")
    name = (
        getattr(user, "id", None) if user is not None and getattr(user, "is_authenticated", False) else None
    )
    response = _write_served(response, name)
    name = name or flask.g.get("api_caller")  # an API call is its key's (dashapp.api.calls), for the log line
    _write_refusal(response, name)
    if response.mimetype == "text/html":
        csp = content_security_policy(dash.get_app().csp_hashes())
    else:
        csp = "default-src 'none'; frame-ancestors 'none'"
    if not flask.request.path.startswith(CACHEABLE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    for key, value in security_headers(csp, hsts=is_production()).items():
        response.headers.setdefault(key, value)
    rid = flask.g.get("request_id", "")
    response.headers[logs.REQUEST_ID_HEADER] = rid
    logs.log_request(
        logs.access_logger(),
        rid=rid,
        user=name,
        method=flask.request.method,
        path=flask.request.path,
        status=response.status_code,
        started=flask.g.get("started", time.perf_counter()),
        bytes=response.calculate_content_length(),
        callback=flask.g.get("callback_output"),
    )
    return response


def bad_input(exc: Exception) -> flask.Response:
    """400 for a value the app cannot use (an ``InputError`` or ``RequestRefused`` raised by page code)."""
    if isinstance(exc, RequestRefused):
        return refuse(exc.status, exc.reason)
    return refuse(400, str(exc))


def not_permitted(exc: PermissionError) -> flask.Response:
    """403 for something the role may not do, found by a service (``dashapp.policy.require``)."""
    return refuse(403, str(exc), "denied")


def server_error(exc: Exception) -> flask.Response:
    """500: a plain page with the request id (the traceback goes to the log, never to the browser)."""
    original = getattr(exc, "original_exception", exc)
    if isinstance(original, DatabaseError):
        return error_page(503, "Database unavailable", public_message(original))
    if isinstance(original, ArtifactError):
        return error_page(
            503, "Model unavailable", f"{public_message(original)} (run `ledgerlight train --missing`)"
        )
    if isinstance(
        original, NotTrained
    ):  # not trained, not published, or failing verification: says what to run
        return error_page(503, "Model unavailable", public_message(original))
    if flask.request.path.startswith(COMPONENT_SUITES):  # a made-up script address
        return error_page(404, "Not found", "There is no such script.")
    flask.current_app.logger.error("unhandled error in %s", flask.request.path, exc_info=original)
    return error_page(
        500, "Something went wrong", "The error was logged; quote the request id when you report it."
    )


def install(server: flask.Flask) -> None:
    """Register the guard, the header/log hook and the error pages on the Flask server."""
    server.before_request(before_request)
    server.after_request(after_request)
    server.register_error_handler(InputError, bad_input)
    server.register_error_handler(RequestRefused, bad_input)
    server.register_error_handler(PermissionError, not_permitted)
    server.register_error_handler(
        DependencyException, lambda _exc: error_page(404, "Not found", "No such script.")
    )
    server.register_error_handler(500, server_error)
    server.register_error_handler(DatabaseError, server_error)
    server.register_error_handler(ArtifactError, server_error)
    server.register_error_handler(NotTrained, server_error)
