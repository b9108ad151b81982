"""A page's first view arrives with the page: every chart of Risk, Segments and Monitoring is drawn in the layout
the router sends, so the browser shows no empty chart and sends no initial callback for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.app.helpers import CALLBACK, router, single

GRID_OUTPUTS = [
    {"id": "recs-campaign-grid", "property": "getRowsResponse"},
    {"id": "recs-campaign-note", "property": "children"},
]


def _campaign_rows_request(product: Any, model: Any, size: Any) -> dict[str, Any]:
    """The campaign grid's first rows request (what it sends as it mounts) with the page's product, model and size."""
    request = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
    body = single(
        "..recs-campaign-grid.getRowsResponse...recs-campaign-note.children..",
        [("recs-campaign-grid", "getRowsRequest", request)],
        [
            ("recs-product", "value", product),
            ("recs-campaign-model", "value", model),
            ("recs-campaign-n", "value", size),
        ],
    )
    body["outputs"] = GRID_OUTPUTS
    return body


def _graphs(node: Any) -> Iterator[dict[str, Any]]:
    """Every ``dcc.Graph`` in a serialised layout."""
    if isinstance(node, list):
        for child in node:
            yield from _graphs(child)
    elif isinstance(node, dict):
        if node.get("type") == "Graph":
            yield node["props"]
        for value in node.get("props", {}).values() if "props" in node else node.values():
            yield from _graphs(value)


@pytest.mark.parametrize("path", ["/risk", "/segments", "/monitoring"])
def test_every_chart_of_the_first_view_is_in_the_layout(trained_env, as_user, path: str) -> None:
    answer = as_user("admin").post(CALLBACK, json=router(path))
    assert answer.status_code == 200
    graphs = list(_graphs(answer.get_json()["response"]["_pages_content"]["children"]))
    assert len(graphs) >= 3, f"{path}: {len(graphs)} charts"
    empty = [g["id"] for g in graphs if not (g.get("figure") or {}).get("data")]
    assert empty == [], f"{path} lays out empty charts: {empty}"


# --- first views that open on something: Recommendations and Customer 360 -----------------------------------------


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every component (``{"type", "namespace", "props"}``) of a serialised layout."""
    if isinstance(node, list):
        for child in node:
            yield from _nodes(child)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
            yield from _nodes(node["props"])
        else:
            for value in node.values():
                yield from _nodes(value)


def _layout(client, path: str, search: str = "") -> list[dict[str, Any]]:
    answer = client.post(CALLBACK, json=router(path, search))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return list(_nodes(answer.get_json()["response"]["_pages_content"]["children"]))


def _by_id(nodes: list[dict[str, Any]], component_id: str) -> dict[str, Any]:
    found = [n["props"] for n in nodes if n["props"].get("id") == component_id]
    assert found, f"no component with id {component_id!r}"
    return found[0]


def _texts(node: Any) -> str:
    """All the text under a serialised component."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return " ".join(_texts(c) for c in node)
    if isinstance(node, dict):
        return (
            _texts(node.get("props", {}).get("children")) if "props" in node else _texts(node.get("children"))
        )
    return ""


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_recommendations_opens_on_a_suggested_customer_and_a_filled_campaign_grid(
    trained_env, as_user, role: str
) -> None:
    from dashapp.services import customer as customer_svc
    from dashapp.services import recsys as svc

    client = as_user(role)
    nodes = _layout(client, "/recommendations")
    first = customer_svc.suggested_customers()[0]
    customer = _by_id(nodes, "recs-customer")
    assert customer["value"] == first.customer_id
    assert customer["options"][0]["value"] == first.customer_id
    best = svc.best_model()
    best_list = _by_id(nodes, f"recs-list-{best}")  # the customer's lists are drawn in the layout
    expected = svc.customer_view(first.internal_id, 5).recommendations[best]["name"].tolist()
    assert expected and all(name in _texts(best_list) for name in expected)
    assert "Holds:" in _texts(_by_id(nodes, "recs-profile"))
    assert "Pick a customer" not in _texts(_by_id(nodes, "recs-lists"))
    product = _by_id(nodes, "recs-product")["value"]
    assert product == svc.default_product() and product is not None
    size = _by_id(nodes, "recs-campaign-n")["value"]
    model = _by_id(nodes, "recs-campaign-model")["value"]
    # the grid's first request (sent as it mounts) with the layout's defaults: rows, not "No Rows To Show"
    answer = client.post(CALLBACK, json=_campaign_rows_request(product, model, size))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    response = answer.get_json()["response"]
    rows = response["recs-campaign-grid"]["getRowsResponse"]["rowData"]
    assert (
        rows
        and [r["customer_id"] for r in rows]
        == svc.campaign(product, size, model)["customer_id"].tolist()[: len(rows)]
    )
    assert "customers, best first" in response["recs-campaign-note"]["children"]


def test_the_campaign_note_says_what_to_do_without_a_product(trained_env, as_user) -> None:

    response = (
        as_user("marketing")
        .post(CALLBACK, json=_campaign_rows_request(None, "als", 50))
        .get_json()["response"]
    )
    assert response["recs-campaign-grid"]["getRowsResponse"]["rowData"] == []
    assert response["recs-campaign-note"]["children"].startswith("Pick a product")


@pytest.mark.parametrize("role", ["risk", "marketing", "admin"])
def test_customer_360_opens_on_suggested_customers_that_link_to_their_page(
    trained_env, as_user, role: str
) -> None:
    from dashapp.services import customer as customer_svc

    client = as_user(role)
    nodes = _layout(client, "/customer")
    _by_id(nodes, "customer-suggestions")
    suggested = customer_svc.suggested_customers()
    assert len(suggested) == customer_svc.SUGGESTED
    links = [
        n["props"]["href"]
        for n in nodes
        if n["type"] == "A" and "/customer?id=" in str(n["props"].get("href"))
    ]
    assert links == [f"/customer?id={s.customer_id}" for s in suggested]
    opened = _layout(client, "/customer", "?" + links[0].split("?", 1)[1])
    assert _texts(_by_id(opened, "customer-title")) == f"Customer {suggested[0].customer_id}"


def test_suggested_customers_are_the_highest_incomes_read_from_the_index(trained_env, monkeypatch) -> None:
    from dashapp.services import customer as customer_svc
    from dashapp.services import segments as segments_service
    from dashapp.services.served import NotTrained

    customers = trained_env.bank_env.bank.customers
    suggested = customer_svc.suggested_customers(3)
    top = customers.nlargest(3, "income")
    assert [s.internal_id for s in suggested] == top["customer_id"].astype(int).tolist()
    assert all(s.reason == "highest income" and "segment" in s.facts for s in suggested)

    def untrained(_limit: int) -> list:
        raise NotTrained("segments", "ledgerlight train segments")

    monkeypatch.setattr(segments_service, "top_customers", untrained)
    fallback = customer_svc.suggested_customers(3)
    assert [s.internal_id for s in fallback] == sorted(customers["customer_id"].astype(int))[:3]
    assert {s.reason for s in fallback} == {"first customers"}
