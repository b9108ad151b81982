"""HTTP helpers for the app's tests that use Flask's test client: the real sign-in form, hand-made callback requests
and the audit rows a user left."""

from __future__ import annotations

import re
from typing import Any

from bankdata import read_audit

CALLBACK = "/_dash-update-component"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
WHATIF_OUTPUT = '{"feature":["ALL"],"type":"risk-whatif"}.value'  # the Applicant page's what-if fill


def csrf_from(html: str) -> str:
    """The CSRF token of a server-rendered form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def sign_in(client, name: str, password: str, next_path: str = "/"):
    """POST the real sign-in form (with its token) and return the response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token, "next": next_path}
    )


def router(path: str, search: str = "") -> dict[str, Any]:
    """The Dash Pages router callback that lays out ``path`` (with the query string ``search``)."""
    return {
        "output": ROUTER_OUTPUT,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def single(
    output: str,
    inputs: list[tuple[str, str, Any]],
    state: list[tuple[str, str, Any]] = (),
    changed: list[str] | None = None,
) -> dict[str, Any]:
    """A callback request with one output ``"id.property"`` and plain-id inputs and states ``(id, property, value)``."""
    out_id, out_prop = output.rsplit(".", 1)
    return {
        "output": output,
        "outputs": {"id": out_id, "property": out_prop},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": changed if changed is not None else [f"{inputs[0][0]}.{inputs[0][1]}"],
    }


def audit_rows(user: str) -> list[tuple[str, str]]:
    """(action, target) of every audit row of ``user``, oldest first."""
    log = read_audit(limit=100_000).iloc[::-1]
    return list(log.loc[log["user"] == user, ["action", "target"]].itertuples(index=False, name=None))


def audit_count(action: str | None = None) -> int:
    """How many audit rows there are (of ``action``)."""
    log = read_audit(limit=1_000_000)
    return int(len(log) if action is None else (log["action"] == action).sum())
