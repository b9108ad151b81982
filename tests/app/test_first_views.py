"""A page's first view arrives with the page: every chart of Risk, Segments and Monitoring is drawn in the layout
the router sends, so the browser shows no empty chart and sends no initial callback for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.app.helpers import CALLBACK, router


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
