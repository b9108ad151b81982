"""Sign-in, roles and the audit trail through Flask's test client (the real form, users and guard; no browser)."""

from __future__ import annotations

import argparse
import io
import json
import re

import pytest

from bankdata import get_user, read_audit
from dashapp.auth import cli as users_cli
from dashapp.auth import create_user, list_users
from dashapp.auth.users import authenticate, demo_users
from tests.app.helpers import WHATIF_OUTPUT, audit_rows, router, sign_in

APPLICANT_PICK = {  # the Applicant page's "pick a borrower" callback: needs no model, so 200 means "allowed"
    "output": "risk-applicant.data",
    "outputs": {"id": "risk-applicant", "property": "data"},
    "inputs": [
        {"id": "risk-grid", "property": "selectedRows", "value": None},
        {"id": "risk-search", "property": "value", "value": 42},
    ],
    "changedPropIds": ["risk-search.value"],
    "state": [],
}


# ------------------------------------------------------------------------------------------------ not signed in


@pytest.mark.parametrize(
    "path",
    ["/", "/risk", "/risk/applicant", "/segments", "/admin", "/help?doc=app", "/help/img/overview.png"],
)
def test_every_page_sends_a_stranger_to_the_sign_in_form(dash_app, bank_env, path: str) -> None:
    response = dash_app.server.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("POST", "/_dash-update-component"),
        ("POST", "/logout"),
    ],
)
def test_dash_endpoints_refuse_a_stranger(dash_app, bank_env, method: str, path: str) -> None:
    client = dash_app.server.test_client()
    response = client.open(path, method=method, json=APPLICANT_PICK if method == "POST" else None)
    assert response.status_code == 401
    assert "risk-applicant" not in response.get_data(as_text=True)


def test_health_check_and_assets_need_no_sign_in(dash_app, bank_env) -> None:
    client = dash_app.server.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/assets/bootstrap.min.css").status_code == 200


# ------------------------------------------------------------------------------------------------ signing in


def test_right_password_signs_in_and_goes_to_next(dash_app, app_users) -> None:
    client = dash_app.server.test_client()
    response = sign_in(client, "risk", app_users["risk"], next_path="/risk/applicant")
    assert response.status_code == 302 and response.headers["Location"] == "/risk/applicant"
    assert client.get("/risk/applicant").status_code == 200
    assert ("sign_in", "session") in audit_rows("risk")


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("risk", "wrong-password-1"),
        ("nobody", "test-only-password-42"),
        ("", ""),
        ("a'; DROP TABLE users;--", "x"),
    ],
)
def test_wrong_credentials_are_refused_with_one_message(
    dash_app, app_users, name: str, password: str
) -> None:
    client = dash_app.server.test_client()
    response = sign_in(client, name, password)
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not signed in
    assert get_user("risk") is not None  # the users table is intact


def test_the_form_without_its_csrf_token_is_refused(dash_app, app_users) -> None:
    client = dash_app.server.test_client()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "admin", "password": app_users["admin"], "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(dash_app, app_users, target: str) -> None:
    response = sign_in(dash_app.server.test_client(), "admin", app_users["admin"], next_path=target)
    assert response.headers["Location"] == "/"


def test_sign_out_needs_the_token_and_ends_the_session(as_user) -> None:
    client = as_user("marketing")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/segments").status_code == 200
    layout = client.get("/_dash-layout").get_data(
        as_text=True
    )  # the navbar's sign-out form carries the token
    with client.session_transaction() as session:
        token = session["csrf_token"]
    assert token in layout
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/segments").status_code == 302


def test_passwords_are_stored_hashed(app_users) -> None:
    row = get_user("admin")
    assert row is not None and app_users["admin"] not in row["password_hash"]
    assert row["password_hash"].startswith(("scrypt:", "pbkdf2:"))


def test_the_session_cookie_is_http_only_and_same_site(dash_app, app_users) -> None:
    response = sign_in(dash_app.server.test_client(), "admin", app_users["admin"])
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("ledgerlight_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ------------------------------------------------------------------------------------------------ roles


def test_marketing_cannot_open_the_applicant_page_or_admin(as_user) -> None:
    client = as_user("marketing")
    for path in ("/risk/applicant", "/admin"):
        assert client.get(path).status_code == 403
        assert client.post("/_dash-update-component", json=router(path)).status_code == 403
    for path in ("/", "/risk", "/segments", "/recommendations", "/help"):
        assert client.get(path).status_code == 200, path


def test_a_hand_made_applicant_callback_is_refused_for_marketing_and_allowed_for_risk(as_user) -> None:
    refused = as_user("marketing").post("/_dash-update-component", json=APPLICANT_PICK)
    assert refused.status_code == 403
    body = refused.get_json()
    assert "response" not in body and 42 not in body.values()  # nothing of the callback's answer leaks
    allowed = as_user("risk").post("/_dash-update-component", json=APPLICANT_PICK)
    assert allowed.status_code == 200
    assert allowed.get_json()["response"]["risk-applicant"]["data"] == 42
    assert ("denied", "risk-applicant.data") in audit_rows("marketing")


def test_risk_cannot_use_marketing_pages(as_user) -> None:
    client = as_user("risk")
    assert client.get("/segments").status_code == 403
    filters = ("segment", "age", "income", "region", "product", "risk")
    export = {
        "output": "segments-download.data",
        "outputs": {"id": "segments-download", "property": "data"},
        "inputs": [{"id": "segments-export", "property": "n_clicks", "value": 1}],
        "changedPropIds": [],
        "state": [{"id": f"segments-filter-{f}", "property": "value", "value": None} for f in filters],
    }
    refused = client.post("/_dash-update-component", json=export)
    assert refused.status_code == 403 and "response" not in refused.get_json()
    assert audit_rows("risk")[-1] == ("denied", "segments-download.data")


def test_callbacks_must_be_json_and_name_a_known_output(as_user) -> None:
    client = as_user("admin")
    assert client.post("/_dash-update-component", data="output=risk-applicant.data").status_code == 415
    assert client.post("/_dash-update-component", json=[1, 2]).status_code == 400
    unknown = {**APPLICANT_PICK, "output": "no-such.thing"}
    assert client.post("/_dash-update-component", json=unknown).status_code == 400
    browser_only = {
        "output": "navbar-collapse.is_open",
        "outputs": {"id": "navbar-collapse", "property": "is_open"},
        "inputs": [{"id": "navbar-toggler", "property": "n_clicks", "value": 1}],
        "state": [{"id": "navbar-collapse", "property": "is_open", "value": False}],
        "changedPropIds": [],
    }
    answer = client.post("/_dash-update-component", json=browser_only)
    assert answer.status_code == 400 and "runs in the browser" in answer.get_json()["message"]


def nav_ids(client) -> set[str]:
    return set(re.findall(r'"id": ?"(nav-[a-z-]+)"', client.get("/_dash-layout").get_data(as_text=True)))


def test_the_navbar_shows_only_what_the_role_may_open(as_user) -> None:
    marketing, risk, admin = (
        nav_ids(as_user("marketing")),
        nav_ids(as_user("risk")),
        nav_ids(as_user("admin")),
    )
    assert {"nav-segments", "nav-recommendations", "nav-risk", "nav-user", "nav-logout"} <= marketing
    assert not {"nav-risk-applicant", "nav-admin"} & marketing
    assert "nav-risk-applicant" in risk and not {"nav-segments", "nav-admin"} & risk
    assert {"nav-admin", "nav-risk-applicant", "nav-segments"} <= admin


# ------------------------------------------------------------------------------------------------ audit, users


def test_an_applicant_view_is_recorded_with_its_customer(as_user, trained_env) -> None:
    from dashapp.services import risk as risk_service

    customer = int(trained_env.bank_env.bank.loans["customer_id"].iloc[0])
    ids = [{"type": "risk-whatif", "feature": f} for f in risk_service.applicant_features(customer)]
    body = {
        "output": WHATIF_OUTPUT,
        "outputs": [{"id": i, "property": "value"} for i in ids],
        "inputs": [{"id": "risk-applicant", "property": "data", "value": customer}],
        "changedPropIds": ["risk-applicant.data"],
        "state": [[{"id": i, "property": "id", "value": i} for i in ids]],
    }
    response = as_user("risk").post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert ("view_applicant", f"customer {customer}") in audit_rows("risk")


def test_a_refused_callback_leaves_a_refusal_row_and_no_action_row(as_user, trained_env) -> None:
    client = as_user("risk")
    before = audit_rows("risk")
    body = {
        **APPLICANT_PICK,
        "output": "..risk-confusion.figure...risk-cutoff-text.children..",
        "outputs": [
            {"id": "risk-confusion", "property": "figure"},
            {"id": "risk-cutoff-text", "property": "children"},
        ],
        "inputs": [
            {"id": "risk-threshold", "property": "value", "value": "not a number"},
            {"id": "risk-cost-default", "property": "value", "value": 5},
            {"id": "risk-cost-good", "property": "value", "value": 1},
        ],
        "changedPropIds": ["risk-threshold.value"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400 and "cut-off: must be a number" in response.get_json()["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    added = audit_rows("risk")[len(before) :]
    assert [a for a, _ in added] == ["refused"]


def test_exports_and_cutoff_changes_are_audited_from_what_was_served(as_user, trained_env) -> None:
    client = as_user("admin")
    filters = {"segment": [1], "age": None, "income": None, "region": None, "product": None, "risk": None}
    export = {
        "output": "segments-download.data",
        "outputs": {"id": "segments-download", "property": "data"},
        "inputs": [{"id": "segments-export", "property": "n_clicks", "value": 3}],
        "state": [
            {"id": f"segments-filter-{f}", "property": "value", "value": v} for f, v in filters.items()
        ],
        "changedPropIds": ["segments-export.n_clicks"],
    }
    assert client.post("/_dash-update-component", json=export).status_code == 200
    row = read_audit(limit=1).iloc[0]
    assert (row["user"], row["action"], row["target"]) == ("admin", "export_segments", "segment list [1]")
    detail = json.loads(row["detail"])
    assert detail["segments"] == [1] and detail["rows"] > 0

    cutoff = {
        "output": "..risk-confusion.figure...risk-cutoff-text.children..",
        "outputs": [
            {"id": "risk-confusion", "property": "figure"},
            {"id": "risk-cutoff-text", "property": "children"},
        ],
        "inputs": [
            {"id": "risk-threshold", "property": "value", "value": 0.3},
            {"id": "risk-cost-default", "property": "value", "value": 5},
            {"id": "risk-cost-good", "property": "value", "value": 1},
        ],
        "state": [],
    }
    before = audit_rows("admin")
    assert client.post("/_dash-update-component", json={**cutoff, "changedPropIds": []}).status_code == 200
    assert audit_rows("admin") == before  # the page's first draw changes nothing
    assert (
        client.post(
            "/_dash-update-component", json={**cutoff, "changedPropIds": ["risk-threshold.value"]}
        ).status_code
        == 200
    )
    row = read_audit(limit=1).iloc[0]
    assert row["action"] == "change_cutoff" and json.loads(row["detail"])["risk-threshold"] == 0.3


def test_users_are_validated(bank_env) -> None:
    with pytest.raises(ValueError, match="role 'boss'"):
        create_user("zed", "long-enough-pass", "boss")
    with pytest.raises(ValueError, match="10 to 200"):
        create_user("zed", "short", "risk")
    with pytest.raises(ValueError, match="user name"):
        create_user("<script>", "long-enough-pass", "risk")
    create_user("zed", "long-enough-pass", "risk", by="admin")
    with pytest.raises(ValueError, match="already exists"):
        create_user("zed", "another-long-pass", "admin")
    assert authenticate("zed", "long-enough-pass").role == "risk"
    assert authenticate("zed", "wrong-long-pass") is None
    assert ("add_user", "user zed") in audit_rows("admin")


def test_demo_users_are_made_once_per_empty_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    created = demo_users(url)
    assert set(created) == {"risk", "marketing", "admin"} and len(set(created.values())) == 3
    assert list_users(url)["role"].tolist() == ["admin", "marketing", "risk"]
    assert demo_users(url) == {}


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    users_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_users_cli_adds_from_stdin_and_lists(bank_env, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("cli-password-123\n"))
    args = _cli(["users", "add", "carla", "--role", "marketing", "--password-stdin"])
    assert args.func(args) == 0
    assert authenticate("carla", "cli-password-123").role == "marketing"
    args = _cli(["users", "list"])
    args.func(args)
    out = capsys.readouterr().out
    assert "added carla (marketing)" in out and re.search(r"carla\s+marketing", out)
    assert "cli-password-123" not in out


def test_users_cli_refuses_a_bad_role_and_an_empty_stdin(bank_env, monkeypatch) -> None:
    with pytest.raises(SystemExit):
        _cli(["users", "add", "dan", "--role", "boss"])
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = _cli(["users", "add", "dan", "--role", "risk", "--password-stdin"])
    with pytest.raises(ValueError, match="standard input is empty"):
        args.func(args)


def test_opening_a_customer_page_is_recorded_with_the_customer_served(as_user, trained_env) -> None:
    body = router("/customer")
    body["inputs"][1]["value"] = "?id=17"
    assert as_user("risk").post("/_dash-update-component", json=body).status_code == 200
    assert ("view_customer", "customer 17") in audit_rows("risk")
    before = len(audit_rows("risk"))
    assert as_user("risk").post("/_dash-update-component", json=router("/risk")).status_code == 200
    assert [a for a, _ in audit_rows("risk")[before:]] == ["sign_in"]  # nobody's data


def test_a_page_missing_from_the_policy_is_for_admins_only() -> None:
    from dashapp.auth.rules import may_open, visible_pages

    new_page = {"path": "/new-page"}
    assert (
        not may_open("marketing", new_page) and not may_open("risk", new_page) and may_open("admin", new_page)
    )
    assert may_open("marketing", None)  # the not-found page
    assert not may_open("visitor", {"path": "/"})
    assert visible_pages("risk", [{"path": "/"}, {"path": "/segments"}, new_page]) == [{"path": "/"}]


def test_signing_in_gives_the_session_its_form_token_at_once(dash_app, app_users) -> None:
    client = dash_app.server.test_client()
    assert sign_in(client, "admin", app_users["admin"]).status_code == 302
    with client.session_transaction() as session:
        token = session.get("csrf_token")
    assert token  # present before any page is drawn, so parallel first requests cannot race to make it
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
