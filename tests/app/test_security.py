"""Security headers, the CSP the app passes in a real browser, session/secret configuration, JSON request logs."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from dashapp.auth import logs
from dashapp.auth.config import ConfigError, content_security_policy, flask_settings, secret_key
from tests.app.conftest import sign_in

PAGES = ("/", "/risk", "/risk/applicant", "/segments", "/recommendations", "/admin", "/help")


def test_html_pages_carry_the_security_headers_and_a_csp_without_hosts(client) -> None:
    response = client.get("/")
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert not re.search(r"https?:|\*", csp), csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]  # scripts by hash only
    assert re.search(r"'sha256-[A-Za-z0-9+/=]+'", csp)


def test_json_and_the_sign_in_form_carry_headers_too(dash_app, client) -> None:
    assert client.get("/_dash-layout").headers["X-Content-Type-Options"] == "nosniff"
    login = dash_app.server.test_client().get("/login")
    assert login.headers["X-Frame-Options"] == "DENY" and login.headers["Cache-Control"] == "no-store"
    assert re.search(r"X-Request-ID", str(login.headers))


def test_csp_lists_the_hashes_it_is_given() -> None:
    csp = content_security_policy(["'sha256-abc='"])
    assert "script-src 'self' 'sha256-abc='" in csp
    assert "unsafe-eval" not in csp  # no chart compiles code (no WebGL traces)


def test_production_refuses_to_start_without_a_long_secret_key() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        secret_key({"LEDGERLIGHT_ENV": "production"})
    with pytest.raises(ConfigError, match="too short"):
        secret_key({"LEDGERLIGHT_ENV": "production", "SECRET_KEY": "short"})
    assert secret_key({"LEDGERLIGHT_ENV": "production", "SECRET_KEY": "k" * 40}) == "k" * 40


def test_development_makes_a_random_key_and_warns(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="ledgerlight.auth"):
        first, second = secret_key({}), secret_key({})
    assert len(first) >= 32 and first != second
    assert "SECRET_KEY is not set" in caplog.text


def test_cookie_flags_follow_the_environment() -> None:
    dev = flask_settings({})
    assert dev["SESSION_COOKIE_HTTPONLY"] and dev["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert dev["SESSION_COOKIE_SECURE"] is False and dev["DEBUG"] is False
    prod = flask_settings({"LEDGERLIGHT_ENV": "production", "SECRET_KEY": "s" * 64})
    assert prod["SESSION_COOKIE_SECURE"] is True
    assert flask_settings({"SESSION_COOKIE_SECURE": "true"})["SESSION_COOKIE_SECURE"] is True
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE='maybe'"):
        flask_settings({"SESSION_COOKIE_SECURE": "maybe"})
    with pytest.raises(ConfigError, match="SESSION_HOURS"):
        flask_settings({"SESSION_HOURS": "forever"})


def test_the_running_app_is_not_in_debug_mode(dash_app) -> None:
    assert dash_app.server.debug is False
    assert dash_app.server.config["SESSION_COOKIE_HTTPONLY"] is True


def test_each_request_logs_one_json_line_with_id_user_path_status(client) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logs.access_logger()
    logger.addHandler(handler)
    try:
        response = client.get("/_dash-layout", headers={"X-Request-ID": "test-request-0001"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "test-request-0001" == response.headers["X-Request-ID"]
    assert (line["user"], line["path"], line["status"], line["method"]) == (
        "admin",
        "/_dash-layout",
        200,
        "GET",
    )
    assert line["duration_ms"] >= 0


def test_a_hostile_request_id_is_replaced(client) -> None:
    response = client.get("/_dash-layout", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.browser
def test_every_page_runs_under_the_csp_without_console_errors(
    dash_duo, dash_app, trained_env, app_users
) -> None:
    """As admin, open each page in Chromium with the CSP enforced: no violation, no severe console error."""
    from tests.app.conftest import free_port

    dash_duo.start_server(dash_app, navigate=False, port=free_port())
    sign_in(dash_duo, "admin", app_users["admin"])
    for path in PAGES:
        dash_duo.driver.get(dash_duo.server_url + path)
        dash_duo.wait_for_element("#nav-user", timeout=30)
        dash_duo.wait_for_no_elements("._dash-loading", timeout=60)
        assert dash_duo.get_logs() in ([], None), f"{path}: {dash_duo.get_logs()}"


@pytest.mark.browser
def test_marketing_sees_no_applicant_link_and_is_refused_the_page(
    dash_duo, dash_app, bank_env, app_users
) -> None:
    from tests.app.conftest import free_port

    dash_duo.start_server(dash_app, navigate=False, port=free_port())
    sign_in(dash_duo, "marketing", app_users["marketing"])
    assert dash_duo.find_elements("#nav-risk-applicant") == []
    assert dash_duo.find_elements("#nav-segments")
    assert "marketing" in dash_duo.find_element("#nav-user").text
    dash_duo.driver.get(dash_duo.server_url + "/risk/applicant")
    dash_duo.wait_for_text_to_equal("#error-title", "Not allowed", timeout=15)
    dash_duo.driver.get(dash_duo.server_url + "/")
    dash_duo.wait_for_element("#nav-logout", timeout=30).click()
    dash_duo.wait_for_element("#login-username", timeout=15)
