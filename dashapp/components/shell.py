"""The app shell's pieces: the page header, the navbar built from the page registry, and the footer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, clientside_callback, html

from dashapp.components.how_to_read import HowToRead

#: the signed-in user as the navbar shows them: (name, role, csrf token for the sign-out form)
NavUser = tuple[str, str, str]


def page_header(title: str, subtitle: str | None = None, how_to: str | None = None) -> html.Div:
    """The title block at the top of every page; ``how_to``: the page's key for its "How to read this page" panel
    (:class:`~dashapp.components.how_to_read.HowToRead`)."""
    children: list[Any] = [html.H1(title)]
    if subtitle:
        children.append(html.P(subtitle))
    if how_to:
        children.append(HowToRead(how_to))
    return html.Div(children, className="ll-page-header")


def nav_pages(registry: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pages that belong in the navbar, ordered by their ``order``.

    A page is left out when it registers ``nav=False`` or is the 404 page (``not_found_404``).
    Pages without an ``order`` come last, by name.
    """
    shown = [
        p for p in registry if p.get("nav", True) and not str(p.get("module", "")).endswith("not_found_404")
    ]
    return sorted(shown, key=lambda p: (p.get("order") is None, p.get("order") or 0, str(p.get("name", ""))))


def nav_id(page: Mapping[str, Any]) -> str:
    """Element id of a page's navbar link: ``nav-home`` for ``/``, ``nav-risk-portfolio`` for ``/risk/portfolio``."""
    return "nav-" + (str(page["path"]).strip("/").replace("/", "-") or "home")


def user_menu(user: NavUser) -> html.Form:
    """The user's name and role, and a sign-out button (a POST form with the session's CSRF token)."""
    name, role, token = user
    return html.Form(
        [
            html.Span(
                [name, html.Small(f" · {role}", className="opacity-75")],
                id="nav-user",
                className="ll-nav-user",
            ),
            dbc.Input(type="hidden", name="csrf_token", value=token),
            html.Button("Sign out", type="submit", id="nav-logout", className="btn btn-sm btn-outline-light"),
        ],
        method="post",
        action="/logout",
        className="d-flex align-items-center gap-2 ms-lg-3 my-2 my-lg-0",
    )


def navbar(pages: Iterable[Mapping[str, Any]], logo_src: str, user: NavUser | None = None) -> dbc.Navbar:
    """The top navigation bar: logo and name, one link per page (``pages`` already ordered), then the user."""
    links: list[Any] = [
        dbc.NavItem(dbc.NavLink(p["name"], href=p["relative_path"], active="exact", id=nav_id(p)))
        for p in pages
    ]
    if user is not None:
        links.append(user_menu(user))
    brand = html.A(
        [html.Img(src=logo_src, alt=""), html.Span("Ledgerlight")], href="/", className="navbar-brand"
    )
    return dbc.Navbar(
        dbc.Container(
            [
                brand,
                dbc.NavbarToggler(id="navbar-toggler", n_clicks=0),
                dbc.Collapse(
                    dbc.Nav(links, className="ll-nav ms-auto", navbar=True),
                    id="navbar-collapse",
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid="xxl",
        ),
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
            html.Div(
                [
                    html.Span("Ledgerlight · analytics workbench · demo data is synthetic"),
                    html.Span([html.A("Help", href="/help"), " · ", html.A("Health", href="/healthz")]),
                ],
                className="d-flex justify-content-between flex-wrap gap-2",
            ),
            fluid="xxl",
        ),
        className="ll-footer",
    )
