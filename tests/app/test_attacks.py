"""The attacks reported against the app (issue 11), each reproduced as a request and checked against its answer now.

Signed in through the real form, as the attacker was; the answers must be refusals (4xx, never 500), an audit row
for each refusal, and never another role's data.
"""

from __future__ import annotations

import copy
import json

import pytest

from bankdata import query
from tests.app.helpers import CALLBACK, WHATIF_OUTPUT, audit_count, audit_rows, router, sign_in, single

SENSITIVE_PAGES = ("/admin", "/risk/applicant", "/models", "/monitoring")


def renamed_router(path: str, new_id: str, search: str = "") -> dict:
    body = router(path, search)
    body["inputs"][0]["id"] = new_id
    body["changedPropIds"] = [f"{new_id}.pathname"]
    return body


# ------------------------------------------------------------------------------------------------ 1. the router


@pytest.mark.parametrize("new_id", ["_pages_locationX", "x"])
@pytest.mark.parametrize("path", SENSITIVE_PAGES)
def test_marketing_cannot_open_a_page_by_renaming_the_routers_input(
    as_user, trained_env, path, new_id
) -> None:
    client = as_user("marketing")
    before = audit_count("refused")
    response = client.post(CALLBACK, json=renamed_router(path, new_id))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert "response" not in body
    assert "does not match" in body["message"]
    assert audit_count("refused") == before + 1


@pytest.mark.parametrize("path", ["/segments", "/admin"])
def test_risk_cannot_open_marketing_or_admin_pages_through_the_router(as_user, trained_env, path) -> None:
    client = as_user("risk")
    assert client.post(CALLBACK, json=renamed_router(path, "x")).status_code == 400
    genuine = client.post(CALLBACK, json=router(path))
    assert genuine.status_code == 403 and "response" not in genuine.get_json()
    assert audit_rows("risk")[-1][0] == "denied"


@pytest.mark.parametrize("path", ["//admin", "/admin/", "admin", "/./admin", "/ADMIN", "/admin?x=1"])
def test_odd_spellings_of_a_path_never_open_a_page_the_role_may_not(as_user, trained_env, path) -> None:
    response = as_user("marketing").post(CALLBACK, json=router(path))
    assert response.status_code in (200, 400, 403), response.status_code
    if response.status_code == 200:  # Dash laid out some page: it must be the 404 page, not Admin
        assert "admin-users" not in response.get_data(as_text=True)


def test_the_router_request_may_not_reorder_its_inputs(as_user, trained_env) -> None:
    body = router("/admin")
    body["inputs"].reverse()
    assert as_user("marketing").post(CALLBACK, json=body).status_code == 400


# ------------------------------------------------------------------------------------------------ 2. the audit trail


def test_opening_a_customer_through_a_renamed_router_is_refused_and_the_genuine_one_audited(
    as_user, trained_env
):
    client = as_user("risk")
    customer = int(trained_env.bank_env.bank.loans["customer_id"].iloc[3])
    tampered = client.post(CALLBACK, json=renamed_router("/customer", "x", f"?id={customer}"))
    assert tampered.status_code == 400
    assert "PD" not in tampered.get_data(as_text=True)
    genuine = client.post(CALLBACK, json=router("/customer", f"?id={customer}"))
    assert genuine.status_code == 200
    assert ("view_customer", f"customer {customer}") in audit_rows("risk")


def _fill_body(customer, ids, input_id: str = "risk-applicant") -> dict:
    return {
        "output": WHATIF_OUTPUT,
        "outputs": [{"id": i, "property": "value"} for i in ids],
        "inputs": [{"id": input_id, "property": "data", "value": customer}],
        "changedPropIds": [f"{input_id}.data"],
        "state": [[{"id": i, "property": "id", "value": i} for i in ids]],
    }


def _whatif_ids() -> list[dict]:
    from dashapp.services import risk as risk_service

    return [{"type": "risk-whatif", "feature": f} for f in risk_service.get_portfolio().spec.features]


def test_the_what_if_fill_with_a_renamed_input_is_refused(as_user, trained_env) -> None:
    client = as_user("risk")
    customer = int(trained_env.bank_env.bank.loans["customer_id"].iloc[5])
    response = client.post(CALLBACK, json=_fill_body(customer, _whatif_ids(), input_id="x"))
    assert response.status_code == 400
    assert ("view_applicant", "customer None") not in audit_rows("risk")
    assert client.post(CALLBACK, json=_fill_body(customer, _whatif_ids())).status_code == 200
    assert audit_rows("risk")[-1] == ("view_applicant", f"customer {customer}")


def test_the_what_if_fill_audits_the_customer_it_served_not_the_text_sent(as_user, trained_env) -> None:
    client = as_user("risk")
    customer = int(trained_env.bank_env.bank.loans["customer_id"].iloc[6])
    response = client.post(CALLBACK, json=_fill_body(str(customer), _whatif_ids()))
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert audit_rows("risk")[-1] == ("view_applicant", f"customer {customer}")


# ------------------------------------------------------------------------------------------------ 3. sign-out


def test_a_session_cookie_replayed_after_sign_out_is_refused(dash_app, app_users, trained_env) -> None:
    client = dash_app.server.test_client()
    assert sign_in(client, "marketing", app_users["marketing"]).status_code == 302
    cookie = client.get_cookie("ledgerlight_session").value
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        token = session["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    thief = dash_app.server.test_client()
    thief.set_cookie("ledgerlight_session", cookie)
    assert thief.get("/_dash-layout").status_code == 401
    export = single(
        "recs-download.data",
        [("recs-export", "n_clicks", 1)],
        [
            ("recs-product", "value", 1),
            ("recs-campaign-model", "value", "mf"),
            ("recs-campaign-n", "value", 10),
        ],
    )
    assert thief.post(CALLBACK, json=export).status_code == 401
    assert thief.get("/segments").status_code == 302  # to the sign-in form


# ------------------------------------------------------------------------------------------------ 5. what-if values


def _score_body(values: dict) -> dict:
    ids = [{"type": "risk-whatif", "feature": f} for f in values]
    return {
        "output": "..risk-waterfall.figure...risk-decision.children...risk-reasons.children..",
        "outputs": [
            {"id": "risk-waterfall", "property": "figure"},
            {"id": "risk-decision", "property": "children"},
            {"id": "risk-reasons", "property": "children"},
        ],
        "inputs": [
            [{"id": i, "property": "value", "value": values[i["feature"]]} for i in ids],
            {"id": "risk-app-threshold", "property": "value", "value": 0.3},
        ],
        "changedPropIds": ["risk-app-threshold.value"],
        "state": [[{"id": i, "property": "id", "value": i} for i in ids]],
    }


def _applicant_values(trained_env) -> dict:
    from dashapp.services import risk as risk_service

    customer = int(trained_env.bank_env.bank.loans["customer_id"].iloc[0])
    return risk_service.applicant_features(customer)


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("amount", -1e9, "below"),
        ("amount", 1e308, "above"),
        ("amount", "12 OR 1=1", "number"),
        ("amount", True, "number"),
        ("dti", -5, "below"),
        ("credit_score", 1_000_000, "above"),
        ("term_months", 0, "below"),
        ("purpose", "free_money", "not one of"),
        ("purpose", 7, "not one of"),
    ],
)
def test_what_if_values_outside_what_the_model_knows_are_refused_by_name(
    as_user, trained_env, field, value, why
):
    values = _applicant_values(trained_env)
    assert field in values, f"{field} is not a feature of the risk model: {sorted(values)}"
    values[field] = value
    response = as_user("risk").post(CALLBACK, json=_score_body(values))
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)  # 200: the panel's error card; 400: the refusal's message
    assert f"{field}: " in text and why in text, text[:600]
    assert "risk-pd" not in text and "risk-decision-badge" not in text  # nothing was scored


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_before_any_page_code(as_user, trained_env, literal) -> None:
    values = _applicant_values(trained_env)
    values["amount"] = 12345.0
    raw = json.dumps(_score_body(values)).replace("12345.0", literal)
    response = as_user("risk").post(CALLBACK, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "finite" in response.get_json()["message"]


def test_genuine_what_if_values_are_scored(as_user, trained_env) -> None:
    response = as_user("risk").post(CALLBACK, json=_score_body(_applicant_values(trained_env)))
    assert response.status_code == 200
    assert "risk-pd" in response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ 6. no 500 from input


@pytest.mark.parametrize("searched", ["1 OR 1=1", 1e300, -4, [1], {"a": 1}, True])
def test_applicant_search_refuses_what_is_not_a_customer_id(as_user, trained_env, searched) -> None:
    body = single(
        "risk-applicant.data",
        [("risk-grid", "selectedRows", None), ("risk-search", "value", searched)],
        changed=["risk-search.value"],
    )
    response = as_user("risk").post(CALLBACK, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "customer id" in response.get_json()["message"]


@pytest.mark.parametrize(
    "query", ["?customer_id=%C2%B2", "?customer_id=1&customer_id=2", "?customer_id=" + "9" * 5000]
)
def test_the_applicant_page_refuses_a_bad_customer_id_in_its_address(as_user, trained_env, query) -> None:
    client = as_user("risk")
    page = client.get("/risk/applicant" + query)
    assert page.status_code == 400 and "customer_id" in page.get_data(as_text=True)
    laid_out = client.post(CALLBACK, json=router("/risk/applicant", query))
    assert laid_out.status_code == 400 and "customer_id" in laid_out.get_json()["message"]


def _campaign_export(n, model="mf", product=1) -> dict:
    return single(
        "recs-download.data",
        [("recs-export", "n_clicks", 1)],
        [
            ("recs-product", "value", product),
            ("recs-campaign-model", "value", model),
            ("recs-campaign-n", "value", n),
        ],
    )


@pytest.mark.parametrize(
    ("n", "model", "product"),
    [(1e8, "mf", 1), (10, "../../etc", 1), (10, "mf", "1; DROP"), ("ten", "mf", 1), (10, ["mf"], 1)],
)
def test_campaign_export_refuses_bad_sizes_models_and_products(
    as_user, trained_env, n, model, product
) -> None:
    response = as_user("marketing").post(CALLBACK, json=_campaign_export(n, model, product))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["message"]


def _segments_export(segment) -> dict:
    return single(
        "segments-download.data",
        [("segments-export", "n_clicks", 1)],
        [
            ("segments-filter-segment", "value", segment),
            ("segments-filter-age", "value", None),
            ("segments-filter-income", "value", None),
            ("segments-filter-region", "value", None),
            ("segments-filter-product", "value", None),
            ("segments-filter-risk", "value", None),
        ],
    )


@pytest.mark.parametrize("segment", [["5 OR 1=1"], [[5]], "all", [1.5]])
def test_segment_export_refuses_what_is_not_a_segment(as_user, trained_env, segment) -> None:
    response = as_user("marketing").post(CALLBACK, json=_segments_export(segment))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "segment" in response.get_json()["message"]


def _rename(segment) -> dict:
    return {
        "output": "..segments-rename-feedback.children...segments-names-changed.data..."
        "segments-filter-segment.options...segments-rename-segment.options..",
        "outputs": [
            {"id": "segments-rename-feedback", "property": "children"},
            {"id": "segments-names-changed", "property": "data"},
            {"id": "segments-filter-segment", "property": "options"},
            {"id": "segments-rename-segment", "property": "options"},
        ],
        "inputs": [{"id": "segments-rename-button", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "segments-rename-segment", "property": "value", "value": segment},
            {"id": "segments-rename-name", "property": "value", "value": "Hostile"},
            {"id": "segments-names-changed", "property": "data", "value": 0},
        ],
        "changedPropIds": ["segments-rename-button.n_clicks"],
    }


@pytest.mark.parametrize("segment", [[5], "5 OR 1=1", 1e300, {"$gt": 0}])
def test_renaming_refuses_what_is_not_a_segment(as_user, trained_env, segment) -> None:
    response = as_user("admin").post(CALLBACK, json=_rename(segment))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]


def _card(model: str, version: str) -> dict:
    return single(
        "models-card.children", [("models-grid", "selectedRows", [{"model": model, "version": version}])]
    )


@pytest.mark.parametrize(
    ("model", "version"),
    [("nosuchmodel", "20260101T000000Z"), ("risk", "../../etc/passwd"), ("../risk", "x"), (5, None)],
)
def test_a_model_card_of_something_unknown_is_a_clear_4xx_without_server_paths(
    as_user, trained_env, model, version
):
    response = as_user("risk").post(CALLBACK, json=_card(model, version))
    assert response.status_code in (400, 404), response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    assert str(trained_env.bank_env.checkpoints) not in text and "/tmp" not in text and "/etc" not in text


def test_a_body_nested_100000_levels_deep_is_refused(as_user, trained_env) -> None:
    raw = '{"output": "overview-defaults.figure", "inputs": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = as_user("marketing").post(CALLBACK, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "deep" in response.get_json()["message"]


def test_a_one_megabyte_string_is_refused(as_user, trained_env) -> None:
    body = single("overview-defaults.figure", [("overview-default-by", "value", "x" * 1_000_000)])
    response = as_user("marketing").post(CALLBACK, json=body)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/x",
        "/_dash-component-suites/nonexistent/foo.js",
        "/_dash-component-suites/dash/deps/../../x.js",
        "/_dash-component-suites/os/x",
    ],
)
def test_malformed_component_suite_paths_are_not_found(as_user, path) -> None:
    assert as_user("marketing").get(path).status_code == 404


# ------------------------------------------------------------------------------------------------ 7. headers


def test_callback_answers_are_never_cached(as_user, trained_env) -> None:
    response = as_user("marketing").post(CALLBACK, json=router("/"))
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") == "no-store"


def test_production_sends_hsts(dash_app, monkeypatch) -> None:
    monkeypatch.setenv("LEDGERLIGHT_ENV", "production")
    response = dash_app.server.test_client().get("/login")
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")
    monkeypatch.delenv("LEDGERLIGHT_ENV")
    assert "Strict-Transport-Security" not in dash_app.server.test_client().get("/login").headers


# ------------------------------------------------------------------------------------------------ 8. field policy


def _customer_with_loans(trained_env) -> int:
    loans = trained_env.bank_env.bank.loans
    return int(loans.loc[loans["prior_delinquencies"] > 0, "customer_id"].iloc[0])


def test_marketing_sees_no_credit_history_on_the_customer_page(as_user, trained_env) -> None:
    customer = _customer_with_loans(trained_env)
    text = (
        as_user("marketing")
        .post(CALLBACK, json=router("/customer", f"?id={customer}"))
        .get_data(as_text=True)
    )
    assert f"Customer {customer}" in text
    for hidden in ("defaulted", "prior_delinquencies", "interest_rate", "credit_score", "customer-pd", "dti"):
        assert hidden not in text, hidden
    risk_text = (
        as_user("risk").post(CALLBACK, json=router("/customer", f"?id={customer}")).get_data(as_text=True)
    )
    assert "prior_delinquencies" in risk_text and "customer-pd" in risk_text


def test_marketing_cannot_select_borrowers_by_risk_band(as_user, trained_env) -> None:
    body = copy.deepcopy(_segments_export(None))
    body["state"][5]["value"] = ["E"]
    response = as_user("marketing").post(CALLBACK, json=body)
    assert response.status_code in (400, 403)
    assert "customer_id" not in response.get_data(as_text=True)


def test_marketing_may_leave_out_customers_not_eligible_for_credit(as_user, trained_env) -> None:
    import base64
    import io

    import pandas as pd

    from dashapp.services import risk as risk_service

    body = copy.deepcopy(_segments_export(None))
    body["state"][5]["value"] = ["exclude-ineligible"]
    response = as_user("marketing").post(CALLBACK, json=body)
    assert response.status_code == 200
    sent = response.get_json()["response"]["segments-download"]["data"]
    content = base64.b64decode(sent["content"]).decode() if sent.get("base64") else sent["content"]
    exported = pd.read_csv(io.StringIO(content))
    blocked = set(query(risk_service.customers_in_bands(["E"]))["customer_id"])
    assert blocked and not blocked & set(exported["Customer id"])  # the export's headers are in words
    assert not {"Probability of default", "Risk band", "Credit score", "pd", "band", "credit_score"} & set(
        exported.columns
    )
