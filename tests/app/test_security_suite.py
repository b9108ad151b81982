"""The security suite: every callback the server registered, for every role and signed out, sent as the browser
sends it and in tampered variants (renamed, reordered, missing, extra and wildcard ids; other properties; hostile
values: wrong types, huge numbers, long strings, NaN, Infinity, deep JSON).

It asserts, for every request: never a 500; a role that may not use the callback's page gets 403 and none of the
answer; a tampered shape gets 400; signed out gets 401; and every refusal leaves one audit row. A callback added
later is covered without touching this file, because the cases come from ``app.callback_map``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bankdata import engine_for
from dashapp.auth.callbacks import RegisteredCallback, registered_callback
from dashapp.auth.rules import callback_page, is_router, may_open
from tests.app.helpers import CALLBACK, sign_in

ROLES = ("risk", "marketing", "admin")
HOSTILE_VALUES: tuple[Any, ...] = (
    {"a": 1},
    [1, [2]],
    "1 OR 1=1",
    "x" * 20_000,
    1e308,
    -1e308,
    -1,
    True,
    10**30,
    "../../etc/passwd",
)
RAW_VARIANTS = {"NaN": "NaN", "Infinity": "Infinity", "overflow": "1e999"}


# ------------------------------------------------------------------------------------------------ the registry


@pytest.fixture(scope="module")
def clients(dash_app, trained_env, app_users) -> dict[str | None, Any]:
    """A test client per role, signed in through the real form, and one signed out (``None``)."""
    made: dict[str | None, Any] = {}
    for role in ROLES:
        client = dash_app.server.test_client()
        assert sign_in(client, role, app_users[role]).status_code == 302
        client.get("/")
        made[role] = client
    made[None] = dash_app.server.test_client()
    return made


@pytest.fixture(scope="module")
def server_callbacks(dash_app, clients) -> list[RegisteredCallback]:
    """Every callback that runs on the server (clientside ones are refused: see test_auth)."""
    found = []
    for key, entry in dash_app.callback_map.items():
        if entry.get("callback") is not None:
            found.append(registered_callback({"output": key}, dash_app.callback_map))
    assert len(found) >= 20, "the registry looks incomplete"
    return found


def _concrete(dep, fill: Any = "x") -> dict[str, Any] | str:
    if not dep.is_pattern:
        return dep.id
    return {k: (fill if isinstance(v, list) else v) for k, v in dep.id.items()}


def _item(dep, value: Any = None, *, with_value: bool = True) -> Any:
    if dep.is_multi:
        return []  # no component matches the pattern: a valid, empty list
    item: dict[str, Any] = {"id": _concrete(dep), "property": dep.property}
    if with_value:
        item["value"] = item["id"] if dep.property == "id" else value
    return item


def genuine(cb: RegisteredCallback) -> dict[str, Any]:
    """The request as the browser would send it, every plain value None (the router asks for ``/``)."""
    outputs = [_item(d, with_value=False) for d in cb.outputs]
    body = {
        "output": cb.key,
        "outputs": outputs if cb.multi_output else outputs[0],
        "inputs": [_item(d) for d in cb.inputs],
        "state": [_item(d) for d in cb.state],
        "changedPropIds": [f"{d.id}.{d.property}" for d in cb.inputs[:1] if not d.is_pattern],
    }
    if is_router(cb):
        body["inputs"][0]["value"], body["inputs"][1]["value"] = "/", ""
    return body


def _plain_positions(body: dict, section: str) -> list[int]:
    return [i for i, item in enumerate(body[section]) if isinstance(item, dict)]


def tampered(cb: RegisteredCallback) -> Iterator[tuple[str, dict[str, Any]]]:
    """Variants whose shape differs from the registered callback: each must be refused with 400."""
    base = genuine(cb)
    first = _plain_positions(base, "inputs")
    if first:
        i = first[0]
        renamed = copy.deepcopy(base)
        renamed["inputs"][i]["id"] = (
            renamed["inputs"][i]["id"] + "X"
            if isinstance(renamed["inputs"][i]["id"], str)
            else {**renamed["inputs"][i]["id"], "type": "other"}
        )
        yield "renamed input", renamed
        other_prop = copy.deepcopy(base)
        other_prop["inputs"][i]["property"] = "children"
        yield "other property", other_prop
        wildcard = copy.deepcopy(base)
        wildcard["inputs"][i]["id"] = {"type": ["ALL"]}
        yield "wildcard id", wildcard
        extra = copy.deepcopy(base)
        extra["inputs"].append({"id": "extra-input", "property": "value", "value": 1})
        yield "extra input", extra
    if len(base["inputs"]) >= 2 and base["inputs"][0] != base["inputs"][-1]:
        reordered = copy.deepcopy(base)
        reordered["inputs"].reverse()
        yield "reordered inputs", reordered
    missing = copy.deepcopy(base)
    missing["inputs"] = missing["inputs"][:-1]
    yield "missing input", missing
    renamed_out = copy.deepcopy(base)
    out = renamed_out["outputs"][0] if cb.multi_output else renamed_out["outputs"]
    if isinstance(out, dict):
        out["id"] = "someone-else" if isinstance(out["id"], str) else {**out["id"], "type": "other"}
        yield "renamed output", renamed_out
    bogus_changed = copy.deepcopy(base)
    bogus_changed["changedPropIds"] = ["_pages_location.pathname" if not is_router(cb) else "x.value"]
    yield "changed prop that is no input", bogus_changed
    extra_key = copy.deepcopy(base)
    extra_key["callback_context"] = {"role": "admin"}
    yield "extra field", extra_key
    if any(d.is_multi for d in cb.inputs):
        filled = copy.deepcopy(base)
        for i, d in enumerate(cb.inputs):
            if d.is_multi:
                filled["inputs"][i] = [{"id": {k: ["ALL"] for k in d.id}, "property": d.property, "value": 1}]
        yield "literal wildcard in a pattern list", filled


def hostile(cb: RegisteredCallback) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """Variants with the registered shape and hostile values (JSON bodies, or raw text for NaN and friends)."""
    base = genuine(cb)
    for section in ("inputs", "state"):
        for i in _plain_positions(base, section):
            if base[section][i]["property"] == "id":
                continue
            for value in HOSTILE_VALUES:
                body = copy.deepcopy(base)
                body[section][i]["value"] = value
                yield f"{section}[{i}]={str(value)[:20]}", body
            for name, literal in RAW_VARIANTS.items():
                body = copy.deepcopy(base)
                body[section][i]["value"] = 123456.789
                yield f"{section}[{i}]={name}", json.dumps(body).replace("123456.789", literal)
    deep = json.dumps(base)[:-1] + ', "deep": ' + "[" * 5_000 + "]" * 5_000 + "}"
    yield "deep JSON", deep


# ------------------------------------------------------------------------------------------------ checks


def audit_rows() -> int:
    with engine_for().connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() or 0)


def post(client, body: dict | str):
    if isinstance(body, str):
        return client.post(CALLBACK, data=body, content_type="application/json")
    return client.post(CALLBACK, json=body)


def allowed(role: str | None, cb: RegisteredCallback) -> bool:
    """Whether the policy lets ``role`` run ``cb`` (the router: its page ``/``, open to everyone)."""
    from dash import page_registry

    return role is not None and (is_router(cb) or may_open(role, callback_page(cb, page_registry)))


def check(response, role: str | None, cb: RegisteredCallback, what: str, rows_before: int) -> None:
    status = response.status_code
    where = f"{cb.key[:60]} · {what} · {role}: {status} {response.get_data(as_text=True)[:160]}"
    assert status < 500, where
    if 400 <= status < 500:
        body = response.get_json(silent=True) or {}
        assert "response" not in body, where
        assert audit_rows() == rows_before + 1, f"no audit row for the refusal: {where}"


def _is_background(cb: RegisteredCallback) -> bool:
    return bool(cb.entry.get("background"))


def test_signed_out_every_callback_is_refused(clients, server_callbacks) -> None:
    for cb in server_callbacks:
        before = audit_rows()
        response = post(clients[None], genuine(cb))
        assert response.status_code == 401, cb.key
        check(response, None, cb, "signed out", before)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_runs_only_the_callbacks_of_its_pages(clients, server_callbacks, role) -> None:
    ran = 0
    for cb in server_callbacks:
        may = allowed(role, cb)
        if may and _is_background(cb):
            continue  # a background job would start; its shape and role are still checked below
        before = audit_rows()
        response = post(clients[role], genuine(cb))
        check(response, role, cb, "genuine", before)
        if may:  # 403 here: a capability of the page the role lacks (admins promote and retrain models)
            assert response.status_code in (200, 204, 400, 403), (
                f"{cb.key} for {role}: {response.status_code}"
            )
            ran += response.status_code in (200, 204)
        else:
            assert response.status_code == 403, f"{cb.key} for {role}: {response.status_code}"
    assert ran >= 3


@pytest.mark.parametrize("role", ROLES)
def test_tampered_shapes_are_refused_before_any_page_code(clients, server_callbacks, role) -> None:
    for cb in server_callbacks:
        for what, body in tampered(cb):
            before = audit_rows()
            response = post(clients[role], body)
            check(response, role, cb, what, before)
            assert response.status_code == 400, f"{cb.key} · {what} · {role}: {response.status_code}"


@pytest.mark.parametrize("role", ROLES)
def test_hostile_values_never_break_the_server_or_cross_roles(clients, server_callbacks, role) -> None:
    statuses: dict[int, int] = {}
    for cb in server_callbacks:
        if _is_background(cb) and allowed(role, cb):
            continue
        for what, body in hostile(cb):
            before = audit_rows()
            response = post(clients[role], body)
            check(response, role, cb, what, before)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if not allowed(role, cb):
                assert response.status_code in (400, 403), (
                    f"{cb.key} · {what} · {role}: {response.status_code}"
                )
    assert statuses.get(400, 0) > 100, statuses  # the suite did reach the checks
    assert role == "admin" or statuses.get(403, 0) > 10, statuses
    assert statuses.get(200, 0) + statuses.get(204, 0) > 10, statuses  # and some values were fine to answer


def test_the_router_serves_every_page_only_to_its_roles(clients, dash_app) -> None:
    from dash import page_registry

    from dashapp.policy import may_open_page
    from tests.app.helpers import router

    for page in page_registry.values():
        for role in ROLES:
            before = audit_rows()
            response = post(clients[role], router(page["path"]))
            expected = 200 if may_open_page(role, page["path"]) else 403
            assert response.status_code == expected, (page["path"], role, response.status_code)
            if expected == 403:
                assert "response" not in response.get_json() and audit_rows() == before + 1
