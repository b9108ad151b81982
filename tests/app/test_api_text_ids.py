"""The JSON API on a bank loaded with its own text ids: paths, answers and events use the bank's ids, never the
internal ones."""

from __future__ import annotations

import secrets

import pytest

from tests.app.test_text_ids import text_bank  # noqa: F401 - the module's trained text-id bank (a fixture)
from tests.text_id_bank import customer_text, product_texts

API = "/api/v1"


@pytest.fixture(scope="module")
def shop(text_bank, dash_app):  # noqa: F811 - the imported fixture
    from dashapp.api.keys import create_key

    key = create_key(f"text-{secrets.token_hex(3)}", "marketing", rate_per_s=500, burst=500)
    return dash_app.server.test_client(), {"X-API-Key": key}, text_bank


def test_customers_are_named_by_the_banks_text_ids(shop) -> None:
    client, headers, bank = shop
    texts = set(product_texts(bank.products).values())
    answer = client.get(f"{API}/customers/{customer_text(17)}/recommendations?n=3", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["customer_id"] == customer_text(17)
    assert {r["product_id"] for r in body["recommendations"]} <= texts
    assert set(body["rules"]["held_products_excluded"]) <= texts
    segment = client.get(f"{API}/customers/{customer_text(17)}/segment", headers=headers).get_json()
    assert segment["customer_id"] == customer_text(17)
    assert client.get(f"{API}/customers/17/segment", headers=headers).status_code == 404  # an internal id


def test_events_take_the_banks_text_ids(shop) -> None:
    client, headers, bank = shop
    product = next(iter(product_texts(bank.products).values()))
    event = {
        "event_id": f"t-{secrets.token_hex(4)}",
        "customer_id": customer_text(18),
        "product_id": product,
        "ts": "2025-03-01T08:00:00",
        "event": "view",
    }
    ok = client.post(f"{API}/events", json={"events": [event]}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["accepted"] == 1, ok.get_data(as_text=True)
    unknown = {**event, "event_id": f"t-{secrets.token_hex(4)}", "customer_id": "C-99999"}
    wrong_kind = {**event, "event_id": f"t-{secrets.token_hex(4)}", "customer_id": 18}
    for bad in (unknown, wrong_kind):
        answer = client.post(f"{API}/events", json={"events": [bad]}, headers=headers)
        assert answer.status_code == 422
        assert [e["field"] for e in answer.get_json()["errors"]] == ["events[].customer_id"]
