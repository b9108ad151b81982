"""The browser gets Plotly's cartesian bundle (``assets/vendor``, a third of the full bundle's size), so every chart
the app draws must be a trace type that bundle has."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs_version

from tests.app.helpers import CALLBACK, router

BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "vendor" / "plotly-cartesian.min.js"
PAGES = ["/", "/risk", "/segments", "/recommendations", "/monitoring", "/models", "/customer?id=1"]


def bundle_traces() -> set[str]:
    """The trace types the vendored bundle registers."""
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', BUNDLE.read_text(encoding="utf-8")))


def _trace_types(node: Any) -> Iterator[str]:
    """The ``type`` of every trace of every ``dcc.Graph`` in a serialised layout."""
    if isinstance(node, list):
        for child in node:
            yield from _trace_types(child)
    elif isinstance(node, dict):
        if node.get("type") == "Graph":
            for trace in (node["props"].get("figure") or {}).get("data", []):
                yield trace.get("type", "scatter")
        for value in node.get("props", node).values():
            yield from _trace_types(value)


def test_the_bundle_is_plotly_js_of_the_major_version_plotly_writes_for() -> None:
    head = BUNDLE.read_text(encoding="utf-8")[:200]
    bundled = re.search(r"plotly\.js \(cartesian - minified\) v(\d+)\.", head)
    assert bundled, "assets/vendor/plotly-cartesian.min.js is not plotly.js's cartesian bundle"
    assert bundled.group(1) == get_plotlyjs_version().split(".")[0]
    assert {"scatter", "bar", "box", "heatmap"} <= bundle_traces()


def test_the_page_loads_the_cartesian_bundle_not_the_full_one(as_user) -> None:
    html = as_user("risk").get("/risk").get_data(as_text=True)
    assert "assets/vendor/plotly-cartesian.min.js" in html
    assert "plotly.min.js" not in html.replace("plotly-cartesian.min.js", "")


@pytest.mark.parametrize("path", PAGES)
def test_every_chart_a_page_draws_is_in_the_bundle(trained_env, as_user, path: str) -> None:
    page, _, search = path.partition("?")
    answer = as_user("admin").post(CALLBACK, json=router(page, f"?{search}" if search else ""))
    assert answer.status_code == 200
    types = set(_trace_types(answer.get_json()["response"]["_pages_content"]["children"]))
    assert types - bundle_traces() == set(), (
        f"{path} draws traces the browser cannot: {types - bundle_traces()}"
    )


def test_the_applicant_waterfall_is_drawn_with_bars(trained_env) -> None:
    from dashapp.figures import risk as figs
    from dashapp.services import risk as svc

    e = svc.explain(svc.applicant_features(int(svc.applicant_page(0, 1, [], {})[0][0]["customer_id"])))
    fig = figs.waterfall_figure(e)
    assert {t.type for t in fig.data} <= bundle_traces()
    bar = fig.data[0]
    ends = [b + x for b, x in zip(bar.base[1:-1], bar.x[1:-1], strict=True)]
    assert ends[-1] == pytest.approx(e.pd)  # the steps walk from the average applicant to this one
    assert bar.base[1] == pytest.approx(e.base_pd)
