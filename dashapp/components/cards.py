"""Cards: KPI tiles, chart cards and the friendly "not ready" / error states."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html
from dash.development.base_component import Component

from dashapp.pagecache import not_cacheable
from dashapp.services.messages import public_message

GRAPH_CONFIG: dcc.Graph.Config = {"displaylogo": False, "displayModeBar": False, "responsive": True}


def kpi_tile(label: str, value: str, hint: str | None = None, *, tile_id: str | None = None) -> dbc.Card:
    """A KPI tile: a small label, a large formatted value and an optional hint line.

    Parameters
    ----------
    label : str
        What the number is ("Customers").
    value : str
        The formatted value ("2,000"); format numbers in the page, not here.
    hint : str, optional
        One short line of context ("12 months of data").
    tile_id : str, optional
        Element id of the tile, for tests and callbacks.
    """
    body = [html.Div(label, className="ll-kpi-label"), html.Div(value, className="ll-kpi-value")]
    if hint:
        body.append(html.Div(hint, className="ll-kpi-hint"))
    extra = {"id": tile_id} if tile_id else {}
    return dbc.Card(dbc.CardBody(body), className="ll-card ll-kpi", **extra)


def figure_card(
    title: str,
    graph_id: str,
    figure: go.Figure | None = None,
    *,
    subtitle: str | None = None,
    controls: Any = None,
    height: int = 320,
) -> dbc.Card:
    """A card holding one chart (``dcc.Graph``), with a title, optional subtitle and optional controls.

    Parameters
    ----------
    title, subtitle : str
        Card header text.
    graph_id : str
        Id of the ``dcc.Graph``; prefix it with the page name (``overview-income``).
    figure : Figure, optional
        The initial figure; leave it out when a callback fills it.
    controls : component, optional
        Inputs shown above the chart (a dropdown, a radio group).
    height : int
        Height of the chart in pixels.
    """
    header: list[Component] = [html.Span(title)]
    if subtitle:
        header.append(html.Small(subtitle, className="ll-card-subtitle"))
    graph = dcc.Graph(
        id=graph_id,
        figure=figure if figure is not None else go.Figure(),
        config=GRAPH_CONFIG,
        style={"height": f"{height}px"},
    )
    body = [controls, graph] if controls is not None else [graph]
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className="ll-card h-100")


def not_ready_card(area: str, command: str, reason: str | None = None) -> dbc.Card:
    """The friendly state of a page whose data or trained model is missing: what to run to fix it.

    Parameters
    ----------
    area : str
        What is missing ("Default risk model").
    command : str
        The command that makes it ("ledgerlight risk train").
    reason : str, optional
        The underlying message (e.g. the ``ArtifactError`` text), shown small.
    """
    not_cacheable()
    body = [
        html.H5(f"{area}: not ready yet", className="card-title"),
        html.P(["Run ", html.Code(command), " and reload this page."], className="mb-1"),
    ]
    if reason:
        body.append(html.P(public_message(reason), className="text-muted small mb-0 ll-reason"))
    return dbc.Card(dbc.CardBody(body), className="ll-card ll-notice my-3")


def no_data_card(reason: str | None = None) -> dbc.Card:
    """The "no data yet" state shared by every page that needs the bank's tables."""
    not_cacheable()
    body = [
        html.H5("No data yet", className="card-title"),
        html.P(
            [
                "Run ",
                html.Code("make run"),
                " or ",
                html.Code("ledgerlight demo generate"),
                " to create the demo bank, then reload this page.",
            ],
            className="mb-1",
        ),
    ]
    if reason:
        body.append(html.P(public_message(reason), className="text-muted small mb-0 ll-reason"))
    return dbc.Card(dbc.CardBody(body), className="ll-card ll-notice my-3", id="no-data-card")


def error_card(message: str) -> dbc.Card:
    """A card for an expected failure (bad input, a corrupt artifact) with a one-line message; never a traceback
    and never a server path."""
    not_cacheable()
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5("Something went wrong", className="card-title"),
                html.P(public_message(message), className="mb-0"),
            ]
        ),
        className="ll-card ll-error my-3",
    )
