"""Cached page layouts: built once per role and served stamp, never for a state card or a request with query
arguments, figures frozen to plain dicts; a promotion or a reload (a new stamp) rebuilds."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from dash import dcc, html

from dashapp import pagecache
from dashapp.components import not_ready_card


@pytest.fixture()
def stamp(monkeypatch) -> dict[str, object]:
    """The served stamp and the signed-in role, as the test sets them."""
    state: dict[str, object] = {"stamp": ("db", "v1"), "role": "risk"}
    monkeypatch.setattr(pagecache, "served_stamp", lambda: state["stamp"])
    monkeypatch.setattr("dashapp.auth.signed_in_role", lambda: state["role"])
    return state


def _page(calls: list[str], *, ready: bool = True):
    @pagecache.cached_page
    def layout(**query):
        calls.append(str(query))
        if not ready:
            return html.Div(not_ready_card("Default risk model", "ledgerlight risk train"))
        return html.Div([html.H1("Risk"), dcc.Graph(id="g", figure=go.Figure(go.Bar(x=[1, 2], y=[3, 4])))])

    return layout


def test_a_page_is_built_once_per_role_and_stamp(stamp) -> None:
    calls: list[str] = []
    layout = _page(calls)
    first = layout()
    assert layout() is first and len(calls) == 1
    stamp["role"] = "admin"
    assert layout() is not first and len(calls) == 2
    stamp["stamp"] = ("db", "v2")  # a promotion or a reload
    layout()
    assert len(calls) == 3


def test_a_page_stamp_of_its_own_rebuilds_it(stamp) -> None:
    calls: list[str] = []
    names = {"names": ("Savers",)}

    @pagecache.cached_page(stamp=lambda: names["names"])
    def layout(**query):
        calls.append(str(query))
        return html.Div(", ".join(names["names"]))

    assert layout() is layout() and len(calls) == 1
    names["names"] = ("Young savers",)  # a user renamed a segment: no served version changed
    assert layout().children == "Young savers" and len(calls) == 2


def test_the_cached_figures_are_plain_dicts(stamp) -> None:
    graph = _page([])().children[1]
    assert isinstance(graph.figure, dict) and graph.figure["data"][0]["type"] == "bar"
    assert list(graph.figure["data"][0]["y"]) == [3, 4]


def test_a_state_card_is_never_cached(stamp) -> None:
    calls: list[str] = []
    layout = _page(calls, ready=False)
    layout()
    layout()
    assert len(calls) == 2  # training may not change the stamp: the next view must look again


def test_a_request_with_query_arguments_is_built_afresh(stamp) -> None:
    calls: list[str] = []
    layout = _page(calls)
    layout(customer_id="7")
    layout(customer_id="7")
    assert len(calls) == 2


def test_the_cache_is_bounded_and_cleared_with_the_services(stamp) -> None:
    from dashapp.services import clear_caches

    calls: list[str] = []
    layout = _page(calls)
    for n in range(pagecache.PAGE_ENTRIES + 3):
        stamp["stamp"] = ("db", f"v{n}")
        layout()
    stamp["stamp"] = ("db", "v0")  # fell out of the cache
    layout()
    assert len(calls) == pagecache.PAGE_ENTRIES + 4
    clear_caches()
    layout()
    assert len(calls) == pagecache.PAGE_ENTRIES + 5


def test_the_stamp_follows_promotion_and_reload(trained_env, monkeypatch) -> None:
    """The real stamp: the summary's refresh time and every model's served version."""
    from dashapp.services import overview

    first = pagecache.served_stamp()
    assert first[0][2] is not None and first[1][0] is not None  # a summary, a served risk model
    monkeypatch.setattr(overview, "summary_refreshed_at", lambda url: None)
    assert pagecache.served_stamp() != first
