"""The JSON API through Flask's test client: keys, roles, rate limits, validation, idempotent events, OpenAPI."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

API = "/api/v1"


def _key(role: str, **limits: Any) -> str:
    from dashapp.api.keys import create_key

    return create_key(f"test-{role}-{secrets.token_hex(4)}", role, **limits)


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def api(trained_env, dash_app):
    """The test client and one key per role (generous limits: the rate-limit test makes its own key)."""
    keys = {role: _key(role, rate_per_s=1000, burst=1000) for role in ("risk", "marketing", "admin")}
    return dash_app.server.test_client(), keys, trained_env


def _applicant(trained_env) -> dict[str, Any]:
    """The model's features of a real borrower's latest loan (so every value is in range)."""
    from dashapp.services import risk as risk_service

    spec = risk_service.get_model().spec
    loans = trained_env.bank_env.bank.loans
    row = loans.iloc[-1]
    customer = trained_env.bank_env.bank.customers.set_index("customer_id").loc[int(row["customer_id"])]
    values = {**customer.to_dict(), **row.to_dict()}
    out = {}
    for f in spec.features:
        v = values[f]
        out[f] = v if isinstance(v, str) else (int(v) if float(v).is_integer() else float(v))
    return out


def _fields(answer) -> set[str]:
    return {e["field"] for e in answer.get_json()["errors"]}


# --- keys and roles ------------------------------------------------------------------------------------------------


def test_a_call_without_a_key_or_with_a_bad_one_is_401(api) -> None:
    client, _keys, _env = api
    for headers in ({}, {"Authorization": "Bearer nope"}, {"X-API-Key": "ll_" + "x" * 43}):
        answer = client.get(f"{API}/customers/1/segment", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.is_json and answer.get_json()["error"] == "unauthorized"
        assert "Bearer" in answer.headers["WWW-Authenticate"]


def test_a_browser_session_never_authenticates_an_api_call(api, client) -> None:
    answer = client.get(
        f"{API}/customers/1/segment"
    )  # ``client`` is signed in as admin with a session cookie
    assert answer.status_code == 401


def test_a_revoked_key_is_refused_at_once(api) -> None:
    from dashapp.api.keys import create_key, revoke_key

    client, _keys, _env = api
    name = f"revoked-{secrets.token_hex(4)}"
    key = create_key(name, "marketing")
    assert client.get(f"{API}/customers/1/segment", headers={"X-API-Key": key}).status_code == 200
    revoke_key(name)
    assert client.get(f"{API}/customers/1/segment", headers={"X-API-Key": key}).status_code == 401


def test_roles_are_the_pages_roles(api, trained_env) -> None:
    client, keys, env = api
    body = {"applicants": [{"features": _applicant(env)}]}
    assert client.post(f"{API}/risk/score", json=body, headers=_h(keys["marketing"])).status_code == 403
    assert client.post(f"{API}/risk/score", json=body, headers=_h(keys["risk"])).status_code == 200
    assert client.post(f"{API}/risk/score", json=body, headers=_h(keys["admin"])).status_code == 200
    for path in ("/customers/1/segment", "/customers/1/recommendations"):
        assert client.get(API + path, headers=_h(keys["risk"])).status_code == 403
        assert client.get(API + path, headers=_h(keys["marketing"])).status_code == 200


def test_the_rate_limit_answers_429_with_retry_after(api) -> None:
    client, _keys, _env = api
    key = _key("marketing", rate_per_s=0.2, burst=2)
    codes = [client.get(f"{API}/customers/1/segment", headers=_h(key)).status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
    answer = client.get(f"{API}/customers/1/segment", headers=_h(key))
    assert answer.status_code == 429 and 1 <= int(answer.headers["Retry-After"]) <= 5


def test_every_call_is_audited_with_the_key_and_the_ids_served(api) -> None:
    from tests.app.helpers import audit_rows

    client, _keys, _env = api
    from dashapp.api.keys import create_key

    name = f"audited-{secrets.token_hex(4)}"
    key = create_key(name, "marketing", rate_per_s=100, burst=100)
    assert client.get(f"{API}/customers/3/segment", headers=_h(key)).status_code == 200
    assert client.get(f"{API}/customers/3/recommendations?n=2", headers=_h(key)).status_code == 200
    assert client.post(f"{API}/risk/score", json={}, headers=_h(key)).status_code == 403
    rows = audit_rows(f"api:{name}")
    assert rows == [
        ("api_segment", f"{API}/customers/3/segment"),
        ("api_recommendations", f"{API}/customers/3/recommendations"),
        ("api_refused", f"{API}/risk/score"),
    ]


# --- risk ----------------------------------------------------------------------------------------------------------


def test_score_answers_pd_band_decision_reasons_and_recourse(api) -> None:
    from dashapp.services import risk as risk_service

    client, keys, env = api
    good = _applicant(env)
    risky = {**good, "credit_score": 400, "prior_delinquencies": max(5, good.get("prior_delinquencies", 0))}
    answer = client.post(
        f"{API}/risk/score",
        json={"applicants": [{"ref": "a-1", "features": good}, {"features": risky}]},
        headers=_h(keys["risk"]),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    served = risk_service.served()
    assert body["model_version"] == served.version and body["cutoff"] == pytest.approx(served.threshold)
    first, second = body["results"]
    assert first["ref"] == "a-1" and second["ref"] is None
    assert first["pd"] == pytest.approx(risk_service.explain(good).pd)  # the Applicant page's own score
    for r in body["results"]:
        assert r["decision"] == ("decline" if r["pd"] >= body["cutoff"] else "approve")
        assert all(isinstance(t, str) and t for t in r["reasons"])
        assert (r["recourse"] is not None) == (r["decision"] == "decline")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"credit_score": 10**6}, "credit_score"),
        ({"credit_score": 10**400}, "credit_score"),
        ({"purpose": "yacht"}, "purpose"),
        ({"amount": "a lot"}, "amount"),
        ({"amount": True}, "amount"),
        ({"no_such_feature": 1}, "no_such_feature"),
    ],
)
def test_bad_applicant_values_are_422_naming_the_field(api, change, field) -> None:
    client, keys, env = api
    features = {**_applicant(env), **change}
    answer = client.post(
        f"{API}/risk/score",
        json={"applicants": [{"features": _applicant(env)}, {"features": features}]},
        headers=_h(keys["risk"]),
    )
    assert answer.status_code == 422
    assert _fields(answer) == {f"applicants[1].features.{field}"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"applicants": [', 400),  # malformed
        ('{"applicants": [{"features": {"amount": NaN}}]}', 400),
        ('{"applicants": [{"features": {"amount": Infinity}}]}', 400),
        ('{"applicants": [{"features": {"amount": 1e999}}]}', 400),
        ("9" * 5000, 400),  # a number too large to read
        ("[1, 2]", 422),  # not an object
        ('"text"', 422),
        ('{"applicants": []}', 422),
        ('{"applicants": [{"features": {}}], "extra": 1}', 422),
    ],
)
def test_malformed_bodies_are_400_or_422_never_500(api, body, status) -> None:
    client, keys, _env = api
    answer = client.post(
        f"{API}/risk/score", data=body, content_type="application/json", headers=_h(keys["risk"])
    )
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.is_json and answer.get_json()["errors"]


def test_a_thousand_problems_answer_the_first_fifty(api) -> None:
    client, keys, env = api
    features = {**_applicant(env), **{f"unknown_{i}": 1 for i in range(1000)}}
    answer = client.post(
        f"{API}/risk/score", json={"applicants": [{"features": features}]}, headers=_h(keys["risk"])
    )
    assert answer.status_code == 422 and len(answer.get_json()["errors"]) == 50
    assert "of 1,000 problems" in answer.get_json()["message"]


def test_oversized_batches_are_413(api) -> None:
    client, keys, env = api
    body = {"applicants": [{"features": _applicant(env)}] * 1001}
    assert client.post(f"{API}/risk/score", json=body, headers=_h(keys["risk"])).status_code == 413
    events = {
        "events": [
            {"event_id": str(i), "customer_id": 1, "product_id": 1, "ts": "2025-01-01", "event": "view"}
            for i in range(1001)
        ]
    }
    assert client.post(f"{API}/events", json=events, headers=_h(keys["marketing"])).status_code == 413


# --- customers -----------------------------------------------------------------------------------------------------


def test_recommendations_never_offer_held_products(api) -> None:
    from dashapp.services import recsys as recsys_service

    client, keys, _env = api
    answer = client.get(f"{API}/customers/5/recommendations?n=4", headers=_h(keys["marketing"]))
    assert answer.status_code == 200
    body = answer.get_json()
    offered = {r["product_id"] for r in body["recommendations"]}
    assert len(body["recommendations"]) <= 4 and body["model"] == recsys_service.best_model()
    assert not offered & set(body["rules"]["held_products_excluded"])
    view = recsys_service.customer_view(5, 4, models=(body["model"],))
    assert offered == set(view.recommendations[body["model"]]["product_id"])  # the page's own list


def test_credit_blocked_customers_get_no_credit_products(api) -> None:
    import sqlalchemy as sa

    from bankdata import query_records
    from dashapp.services import recsys as recsys_service
    from dashapp.services import risk as risk_service

    client, keys, env = api
    version = risk_service.published_version()
    t = risk_service.SCORES
    blocked = query_records(
        sa.select(t.c.customer_id).where(t.c.model_version == version, t.c.band == "E").limit(1),
        env.bank_env.database_url,
    )
    if not blocked:
        pytest.skip("no customer in band E in the test bank")
    answer = client.get(
        f"{API}/customers/{blocked[0]['customer_id']}/recommendations?n=12", headers=_h(keys["marketing"])
    )
    body = answer.get_json()
    assert body["rules"]["credit_blocked"] is True
    credit = set(recsys_service.served().credit_families)
    assert credit and not {r["family"] for r in body["recommendations"]} & credit


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/customers/999999999/recommendations", 404, "customer_id"),
        ("/customers/abc/recommendations", 422, "customer_id"),
        ("/customers/1/recommendations?n=0", 422, "n"),
        ("/customers/1/recommendations?n=99", 422, "n"),
        ("/customers/1/recommendations?n=x", 422, "n"),
        ("/customers/1/recommendations?model=nope", 422, "model"),
        ("/customers/1/recommendations?what=1", 422, "what"),
        ("/customers/999999999/segment", 404, "customer_id"),
    ],
)
def test_bad_customer_requests_name_the_field(api, path, status, field) -> None:
    client, keys, _env = api
    answer = client.get(API + path, headers=_h(keys["marketing"]))
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert field in _fields(answer)


def test_segment_is_the_served_segment(api) -> None:
    from dashapp.services import segments as segments_service

    client, keys, _env = api
    body = client.get(f"{API}/customers/7/segment", headers=_h(keys["marketing"])).get_json()
    card = segments_service.customer_segment(7)
    assert body["segment"] == card["segment"] and body["name"] == card["name"]
    assert body["model_version"] == segments_service.published().version


# --- events --------------------------------------------------------------------------------------------------------


def _interactions(env) -> int:
    from bankdata import table_counts

    return table_counts(env.bank_env.database_url)["interactions"]


def test_events_are_stored_once_and_a_retry_is_all_duplicates(api) -> None:
    client, keys, env = api
    tag = secrets.token_hex(4)
    batch = {
        "events": [
            {
                "event_id": f"{tag}-{i}",
                "customer_id": 11 + i,
                "product_id": 1 + i % 3,
                "ts": "2025-06-01T10:00:00Z",
                "event": "view",
            }
            for i in range(5)
        ]
    }
    before = _interactions(env)
    first = client.post(f"{API}/events", json=batch, headers=_h(keys["marketing"]))
    assert first.status_code == 200 and first.get_json() | {"duplicate_ids": []} == {
        "accepted": 5,
        "duplicates": 0,
        "duplicate_ids": [],
    }
    again = client.post(f"{API}/events", json=batch, headers=_h(keys["marketing"])).get_json()
    assert again["accepted"] == 0 and again["duplicates"] == 5
    assert _interactions(env) == before + 5
    changed = {"events": [{**batch["events"][0], "event": "click"}]}
    answer = client.post(f"{API}/events", json=changed, headers=_h(keys["marketing"]))
    assert answer.status_code == 422 and _fields(answer) == {"events[].event_id"}


def test_a_batch_with_one_bad_event_stores_nothing(api) -> None:
    client, keys, env = api
    tag = secrets.token_hex(4)
    good = {
        "event_id": f"{tag}-good",
        "customer_id": 12,
        "product_id": 2,
        "ts": "2025-06-01",
        "event": "click",
    }
    values = [
        {**good, "event_id": f"{tag}-1", "event": "buy"},
        {**good, "event_id": f"{tag}-2", "ts": "yesterday"},
    ]
    unknown = [
        {**good, "event_id": f"{tag}-3", "customer_id": 99_999_999},
        {**good, "event_id": f"{tag}-4", "product_id": 99_999},
    ]
    before = _interactions(env)
    for bad, expected in (
        (values, {"events[].event": [2], "events[].ts": [3]}),
        (unknown, {"events[].customer_id": [2], "events[].product_id": [3]}),
    ):
        answer = client.post(f"{API}/events", json={"events": [good, *bad]}, headers=_h(keys["marketing"]))
        assert answer.status_code == 422
        assert {e["field"]: e["rows"] for e in answer.get_json()["errors"]} == expected
    assert _interactions(env) == before
    ok = client.post(f"{API}/events", json={"events": [good]}, headers=_h(keys["marketing"])).get_json()
    assert ok["accepted"] == 1  # the good event of the refused batches was not stored


def test_event_shape_errors_name_the_field(api) -> None:
    client, keys, _env = api
    for event, field in [
        ({"customer_id": 1, "product_id": 1, "ts": "2025-01-01", "event": "view"}, "events[0].event_id"),
        (
            {"event_id": "x", "customer_id": True, "product_id": 1, "ts": "2025-01-01", "event": "view"},
            "events[0].customer_id",
        ),
        (
            {
                "event_id": "x",
                "customer_id": 1,
                "product_id": 1,
                "ts": "2025-01-01",
                "event": "view",
                "type": "repayment",
            },
            "events[0].type",
        ),
    ]:
        answer = client.post(f"{API}/events", json={"events": [event]}, headers=_h(keys["marketing"]))
        assert answer.status_code == 422 and field in _fields(answer), answer.get_data(as_text=True)


def test_a_purchase_event_changes_the_recommendations(api) -> None:
    client, keys, _env = api
    path = f"{API}/customers/21/recommendations?n=3"
    before = client.get(path, headers=_h(keys["marketing"])).get_json()
    top = before["recommendations"][0]["product_id"]
    event = {
        "event_id": f"buy-{secrets.token_hex(4)}",
        "customer_id": 21,
        "product_id": top,
        "ts": "2025-06-02T09:00:00",
        "event": "purchase",
    }
    assert (
        client.post(f"{API}/events", json={"events": [event]}, headers=_h(keys["admin"])).status_code == 200
    )
    after = client.get(path, headers=_h(keys["marketing"])).get_json()
    assert top in after["rules"]["held_products_excluded"]
    assert top not in {r["product_id"] for r in after["recommendations"]}


# --- the API itself ------------------------------------------------------------------------------------------------


def test_health_and_unknown_paths(api) -> None:
    client, _keys, _env = api
    health = client.get(f"{API}/health")
    assert health.status_code == 200 and set(health.get_json()["served"]) == {"risk", "segments", "recsys"}
    assert client.get(f"{API}/nothing").status_code == 404
    assert client.get("/api/v2/anything").get_json()["error"] == "not_found"  # JSON, never the app's page
    wrong = client.get(f"{API}/risk/score")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_is_a_3_1_document_whose_references_resolve(api) -> None:
    from dashapp.api.routes import ENDPOINTS

    client, _keys, _env = api
    doc = client.get(f"{API}/openapi.json").get_json()
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    served = {p.removeprefix(API).replace("<customer_id>", "{customer_id}") for p in ENDPOINTS}
    assert set(doc["paths"]) == served
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert method in {"get", "post"} and "200" in op["responses"], path
    assert {"features", "ref"} <= set(schemas["Applicant"]["properties"])
    assert schemas["Event"]["properties"]["event_id"]["maxLength"] == 100


# --- the docs' examples ---------------------------------------------------------------------------------------------


def _curl_lines() -> list[list[str]]:
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    block = re.search(r"## Examples\n.*?```bash\n(.*?)```", text, re.S)
    assert block, "docs/api.md has no curl examples"
    return [shlex.split(line) for line in block.group(1).splitlines() if line.startswith("curl ")]


def test_the_docs_curl_examples_answer(api) -> None:
    """Each curl line of docs/api.md ("Examples"), sent through the test client with real keys, answers 200."""
    client, keys, _env = api
    lines = _curl_lines()
    assert len(lines) >= 5
    for words in lines:
        method, headers, data, url = "GET", {}, None, None
        words = iter(words[1:])
        for word in words:
            if word == "-X":
                method = next(words)
            elif word == "-H":
                name, _, value = next(words).partition(": ")
                headers[name] = value.replace("$RISK_KEY", keys["risk"]).replace(
                    "$MARKETING_KEY", keys["marketing"]
                )
            elif word == "-d":
                data = next(words)
            elif word.startswith("http"):
                url = word
        assert url is not None
        path = "/" + url.split("/", 3)[3]
        answer = client.open(path, method=method, headers=headers, data=data)
        assert answer.status_code == 200, f"{method} {path}: {answer.get_data(as_text=True)[:300]}"
