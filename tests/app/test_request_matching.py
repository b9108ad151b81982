"""The pure parts of the request checks: strict JSON, matching a request to its registered callback, the values
helpers, and messages without server paths. No database."""

from __future__ import annotations

import pytest

from dashapp.auth.callbacks import RequestRefused, match_request, strict_loads
from dashapp.services import validation
from dashapp.services.messages import public_message

PATTERN = '{"feature":["ALL"],"type":"whatif"}'
CALLBACK_MAP = {
    "a.children": {
        "inputs": [{"id": "x", "property": "value"}, {"id": "y", "property": "value"}],
        "state": [{"id": "s", "property": "data"}],
        "callback": print,
    },
    "..out.figure...note.children..": {
        "inputs": [{"id": PATTERN, "property": "value"}],
        "state": [{"id": PATTERN, "property": "id"}],
        "callback": print,
    },
    "toggle.is_open": {"inputs": [{"id": "t", "property": "n_clicks"}], "state": []},
}


def plain(**changes) -> dict:
    body = {
        "output": "a.children",
        "outputs": {"id": "a", "property": "children"},
        "inputs": [
            {"id": "x", "property": "value", "value": 1},
            {"id": "y", "property": "value", "value": 2},
        ],
        "state": [{"id": "s", "property": "data", "value": None}],
        "changedPropIds": ["x.value"],
    }
    return {**body, **changes}


def pattern(ids: list[dict], state_ids: list[dict] | None = None) -> dict:
    state_ids = ids if state_ids is None else state_ids
    return {
        "output": "..out.figure...note.children..",
        "outputs": [{"id": "out", "property": "figure"}, {"id": "note", "property": "children"}],
        "inputs": [[{"id": i, "property": "value", "value": 3} for i in ids]],
        "state": [[{"id": i, "property": "id", "value": i} for i in state_ids]],
        "changedPropIds": [],
    }


def refused(body) -> str:
    with pytest.raises(RequestRefused) as caught:
        match_request(body, CALLBACK_MAP)
    assert caught.value.status == 400
    return caught.value.reason


def test_the_genuine_requests_match() -> None:
    assert match_request(plain(), CALLBACK_MAP).key == "a.children"
    ids = [{"type": "whatif", "feature": "amount"}, {"type": "whatif", "feature": "term"}]
    assert match_request(pattern(ids), CALLBACK_MAP).inputs[0].is_multi
    assert match_request(pattern([]), CALLBACK_MAP)  # no component matches: fine


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (
            {
                "inputs": [
                    {"id": "X", "property": "value", "value": 1},
                    {"id": "y", "property": "value", "value": 2},
                ]
            },
            "id",
        ),
        (
            {
                "inputs": [
                    {"id": "y", "property": "value", "value": 2},
                    {"id": "x", "property": "value", "value": 1},
                ]
            },
            "id",
        ),
        ({"inputs": [{"id": "x", "property": "value", "value": 1}]}, "expected 2"),
        (
            {
                "inputs": [
                    {"id": "x", "property": "children", "value": 1},
                    {"id": "y", "property": "value", "value": 2},
                ]
            },
            "property",
        ),
        (
            {
                "inputs": [
                    {"id": {"type": ["ALL"]}, "property": "value", "value": 1},
                    {"id": "y", "property": "value", "value": 2},
                ]
            },
            "id",
        ),
        ({"state": []}, "expected 1"),
        ({"outputs": {"id": "b", "property": "children"}}, "id"),
        ({"changedPropIds": ["s.data"]}, "changedPropIds"),
        ({"extra": 1}, "unexpected field"),
        ({"output": "nothing.here"}, "no callback"),
        ({"output": "toggle.is_open"}, "runs in the browser"),
    ],
)
def test_any_difference_from_the_registered_callback_is_refused(change, why) -> None:
    assert why in refused(plain(**change))


@pytest.mark.parametrize(
    "ids",
    [
        [{"type": "whatif", "feature": ["ALL"]}],  # a wildcard where a value belongs
        [{"type": "other", "feature": "amount"}],  # a fixed key changed
        [{"type": "whatif", "feature": "amount", "extra": 1}],  # another key
        [{"type": "whatif", "feature": "amount"}, {"type": "whatif", "feature": "amount"}],  # twice
        [{"type": "whatif", "feature": True}],
    ],
)
def test_pattern_ids_must_fit_their_pattern(ids) -> None:
    refused(pattern(ids))


def test_one_pattern_names_the_same_components_everywhere() -> None:
    a, b = {"type": "whatif", "feature": "amount"}, {"type": "whatif", "feature": "term"}
    assert "differ" in refused(pattern([a, b], [a]))
    body = pattern([a])
    body["state"][0][0]["value"] = b  # an id property whose value is another id
    assert "id itself" in refused(body)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("NaN", "finite"),
        ("[Infinity]", "finite"),
        ("1e999", "finite"),
        ("[" * 50 + "]" * 50, "deep"),
        ("[" * 100_000 + "]" * 100_000, "deep"),
        ('"' + "x" * 10_001 + '"', "characters"),
    ],
)
def test_strict_json_refuses_what_json_should_not_carry(text, why) -> None:
    with pytest.raises(ValueError, match=why):
        strict_loads(text)
    assert strict_loads('{"a": [1, 2.5, "x", null]}') == {"a": [1, 2.5, "x", None]}


def test_validation_names_the_field_and_keeps_types_apart() -> None:
    assert validation.customer_id("42") == 42 == validation.customer_id(42.0)
    for bad in ("²", "1 OR 1=1", "9" * 16, -1, True, [1], None):
        with pytest.raises(validation.InputError, match="customer id"):
            validation.customer_id(bad)
    with pytest.raises(validation.InputError, match="not one of"):
        validation.choice(1, "model", ["1", "mf"])
    with pytest.raises(validation.InputError, match="cut-off: must be at most 1"):
        validation.number(1.5, "cut-off", lo=0, hi=1)
    assert validation.number(None, "cost", default=0.0) == 0.0
    assert validation.number_range([1, 2], "age") == (1.0, 2.0)
    with pytest.raises(validation.InputError, match="age"):
        validation.number_range([2, 1], "age")


def test_messages_lose_the_servers_folders_but_keep_page_addresses(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "ckpt"))
    text = public_message(f"risk/1: no such version in {tmp_path / 'ckpt'}; see /etc/passwd and /home/x/y")
    assert str(tmp_path) not in text and "/etc" not in text and "/home" not in text
    assert "the model store" in text
    assert (
        public_message("role risk may not use the /segments page")
        == "role risk may not use the /segments page"
    )


def test_the_server_has_one_way_into_the_callbacks(dash_app) -> None:
    """A new route (Dash's MCP server, callback APIs, websockets) would be a way around the request checks."""
    routes = {str(rule) for rule in dash_app.server.url_map.iter_rules()}
    assert routes == {
        "/",
        "/<path:path>",
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
        "/_dash-dependencies",
        "/_dash-layout",
        "/_dash-update-component",
        "/_favicon.ico",
        "/_reload-hash",
        "/assets/<path:filename>",
        "/healthz",
        "/help/img/<path:name>",
        "/login",
        "/logout",
        "/static/<path:filename>",
        # the JSON API: every route checks its own API key and role (tests/app/test_api.py)
        "/api/",
        "/api/<path:rest>",
        "/api/v1/customers/<customer_id>/recommendations",
        "/api/v1/customers/<customer_id>/segment",
        "/api/v1/events",
        "/api/v1/health",
        "/api/v1/openapi.json",
        "/api/v1/risk/score",
    }
