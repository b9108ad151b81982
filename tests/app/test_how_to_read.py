"""Every page opens with one "How to read this page" panel (closed, linking to its full guide) for every role that
may open it, and the Help page shows the role's page guides and hides developer docs from risk and marketing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from plotly.utils import PlotlyJSONEncoder

from dashapp import policy
from dashapp.components.how_to_read import HowToRead
from dashapp.components.how_to_read_text import PAGES
from dashapp.services import docs
from tests.app.helpers import CALLBACK, router

ROLES = ("risk", "marketing", "admin")


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
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


def _ids(nodes: list[dict[str, Any]]) -> set[str]:
    return {str(n["props"]["id"]) for n in nodes if "id" in n["props"]}


def _hrefs(nodes: list[dict[str, Any]]) -> list[str]:
    return [str(n["props"]["href"]) for n in nodes if n["props"].get("href")]


def test_every_guide_has_three_to_six_plain_bullets_and_a_real_doc() -> None:
    slugs = {d.slug for d in docs.list_docs()}
    assert set(PAGES) == {
        "overview",
        "risk",
        "applicant",
        "monitoring",
        "models",
        "segments",
        "recommendations",
        "campaigns",
        "customer",
        "admin",
    }
    for key, guide in PAGES.items():
        assert 3 <= len(guide.bullets) <= 6, key
        assert guide.doc in slugs, f"{key}: no docs/{guide.doc}.md"
        assert all("`" not in b and "_" not in b for b in guide.bullets), f"{key}: code in a bullet"


def test_the_panel_is_closed_by_default_and_links_its_full_guide(dash_app) -> None:
    panel = json.loads(json.dumps(HowToRead("segments"), cls=PlotlyJSONEncoder))
    assert panel["props"]["open"] is False and panel["props"]["id"] == "how-to-read-segments"
    nodes = list(_nodes(panel))
    assert "/help?doc=segmentation" in _hrefs(nodes)
    with pytest.raises(KeyError):
        HowToRead("nowhere")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_the_role_may_open_carries_its_panel(trained_env, as_user, role: str) -> None:
    client = as_user(role)
    opened = [(k, g) for k, g in PAGES.items() if policy.may_open_page(role, g.path)]
    assert opened
    for key, guide in opened:
        nodes = _layout(client, guide.path)
        panels = [n for n in nodes if str(n["props"].get("id", "")).startswith("how-to-read-")]
        assert [p["props"]["id"] for p in panels] == [f"how-to-read-{key}"], f"{role} on {guide.path}"
        assert panels[0]["props"]["open"] is False
        assert f"/help?doc={guide.doc}" in _hrefs(nodes), f"{role} on {guide.path}"


@pytest.mark.parametrize("role", ["risk", "marketing"])
def test_help_shows_the_roles_guides_and_hides_developer_docs(trained_env, as_user, role: str) -> None:
    client = as_user(role)
    nodes = _layout(client, "/help")
    ids = _ids(nodes)
    assert "help-docs" in ids and "help-developer-docs" not in ids
    expected = {f"help-guide-{k}" for k, g in PAGES.items() if policy.may_open_page(role, g.path)}
    assert {i for i in ids if i.startswith("help-guide-")} == expected
    hrefs = _hrefs(nodes)
    for slug in ("contracts", "cli", "api", "deploy"):
        assert f"/help?doc={slug}" not in hrefs, f"{role} is listed {slug}"
        refused = _layout(client, "/help", f"?doc={slug}")
        assert any(n["type"] == "Alert" for n in refused), f"{role} opened {slug}"
    assert "/help?doc=risk" in hrefs and "/help?doc=segmentation" in hrefs
    shown = _layout(client, "/help", "?doc=explanations")
    assert any(n["type"] == "Markdown" for n in shown)


def test_help_lists_every_doc_to_admin(trained_env, as_user) -> None:
    client = as_user("admin")
    nodes = _layout(client, "/help")
    assert {"help-docs", "help-developer-docs"} <= _ids(nodes)
    assert {f"help-guide-{k}" for k in PAGES} <= _ids(nodes)
    hrefs = _hrefs(nodes)
    assert all(f"/help?doc={d.slug}" in hrefs for d in docs.list_docs())
    contracts = _layout(client, "/help", "?doc=contracts")
    assert any(n["type"] == "Markdown" and "Contracts" in str(n["props"]["children"]) for n in contracts)
    assert docs.docs_for("risk") and not any(docs.is_developer_doc(d) for d in docs.docs_for("risk"))
