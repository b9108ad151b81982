"""The app shell's pieces: the page header, the navbar built from the page registry, and the footer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, clientside_callback, html


def page_header(title: str, subtitle: str | None = None) -> html.Div:
    """The title block at the top of every page."""
    children: list[Any] = [html.H1(title)]
    if subtitle:
        children.append(html.P(subtitle))
    return html.Div(children, className="ll-page-header")


def nav_pages(registry: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pages that belong in the navbar, ordered by their ``order``.

    A page is left out when it registers ``nav=False`` or is the 404 page (``not_found_404``).
    Pages without an ``order`` come last, by name.
    """
    shown = [p for p in registry if p.get("nav", True) and not str(p.get("module", "")).endswith("not_found_404")]
    return sorted(shown, key=lambda p: (p.get("order") is None, p.get("order") or 0, str(p.get("name", ""))))


def nav_id(page: Mapping[str, Any]) -> str:
    """Element id of a page's navbar link: ``nav-home`` for ``/``, ``nav-risk-portfolio`` for ``/risk/portfolio``."""
    return "nav-" + (str(page["path"]).strip("/").replace("/", "-") or "home")


def navbar(pages: Iterable[Mapping[str, Any]], logo_src: str) -> dbc.Navbar:
    """The top navigation bar: logo and name, then one link per page (``pages`` already ordered)."""
    links = [
        dbc.NavItem(dbc.NavLink(p["name"], href=p["relative_path"], active="exact", id=nav_id(p)))
        for p in pages
    ]
    brand = html.A([html.Img(src=logo_src, alt=""), html.Span("Ledgerlight")], href="/", className="navbar-brand")
    return dbc.Navbar(
        dbc.Container([
            brand,
            dbc.NavbarToggler(id="navbar-toggler", n_clicks=0),
            dbc.Collapse(dbc.Nav(links, className="ll-nav ms-auto", navbar=True), id="navbar-collapse",
                         is_open=False, navbar=True),
        ], fluid="xxl"),
        className="ll-navbar",
        dark=True,
        expand="lg",
        id="navbar",
    )


# Narrow screens: the toggler opens and closes the links, in the browser (no request, no server state).
clientside_callback(
    "function (n, isOpen) { return n ? !isOpen : isOpen; }",
    Output("navbar-collapse", "is_open"),
    Input("navbar-toggler", "n_clicks"),
    State("navbar-collapse", "is_open"),
    prevent_initial_call=True,
)


def footer() -> html.Footer:
    """The page footer: what the app is, where its health check and help live."""
    return html.Footer(
        dbc.Container(
            html.Div([
                html.Span("Ledgerlight · analytics workbench · demo data is synthetic"),
                html.Span([html.A("Help", href="/help"), " · ", html.A("Health", href="/healthz")]),
            ], className="d-flex justify-content-between flex-wrap gap-2"),
            fluid="xxl",
        ),
        className="ll-footer",
    )
