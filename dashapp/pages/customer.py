"""Customer 360 (``/customer?id=...``): profile, transactions over time, risk score with reasons and recourse, segment
and its profile, held and next-best products, in one view. Reached by clicking a customer id in any grid.

Risk and admin users see the score, reasons and recourse; a marketing user sees the rest.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html
from dash.dash_table.DataTable import DataTable  # the class (the package re-exports it untyped)

import risk
from bankdata import category_label, feature_label, format_value
from dashapp import policy
from dashapp.auth import signed_in_role
from dashapp.components import error_card, figure_card, kpi_tile, no_data_card, page_header
from dashapp.components.recourse import recourse_block
from dashapp.figures import customer as figs
from dashapp.policy import Capability
from dashapp.services import customer as svc
from dashapp.services import ids
from dashapp.services.bank import DataUnavailable

dash.register_page(
    __name__,
    path="/customer",
    name="Customer",
    title="Ledgerlight · customer",
    nav=False,
    query_params={"id": ids.customer_ref},
    description="One customer's profile, transactions, risk, segment and products.",
)


#: the page's own font: DataTable sets monospace on its cells, so ``inherit`` there still read as monospace
TABLE_FONT = "var(--bs-body-font-family)"


def _search(value: Any = "") -> html.Form:
    return html.Form(
        dbc.InputGroup(
            [
                dbc.InputGroupText("customer id"),
                dbc.Input(
                    name="id",
                    id="customer-search",
                    type="text",
                    value=value,
                    maxLength=100,
                    placeholder="e.g. 17 or C-00017",
                ),
                dbc.Button("Open", type="submit", color="primary"),
            ],
            size="sm",
        ),
        action="/customer",
        method="get",
        className="mb-3",
        style={"maxWidth": "360px"},
    )


#: text columns whose values are stored codes (``debt_consolidation``), shown through the label map
CATEGORY_COLUMNS = frozenset(
    {"purpose", "employment", "region", "gender", "family", "category", "channel", "direction"}
)
#: the segment card's medians, in this order
SEGMENT_MEDIANS = ("age", "income", "monetary", "frequency", "recency_days", "n_products")


def _fmt(key: str, value: Any) -> str:
    """A profile value as a person reads it (:func:`bankdata.format_value`): ``46 years``, ``45,000``."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return format_value(key, value)


def _cell(column: str, value: Any) -> Any:
    """A table cell: numbers by meaning (ids as they are, NaN empty), codes in words, timestamps as dates."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and math.isnan(value):
        return None
    if column.endswith("_id") or column == "rank":
        return value
    if isinstance(value, str):
        return category_label(value) if column in CATEGORY_COLUMNS else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_value(column, value)
    return value


def segment_medians(seg: dict[str, Any]) -> list[str]:
    """The segment card's lines: ``Age: 46 years (segment median)``, ``Income: 45,000 (segment median)``..."""
    return [f"{feature_label(k)}: {_fmt(k, seg[k])} (segment median)" for k in SEGMENT_MEDIANS if k in seg]


def _table(frame: pd.DataFrame, table_id: str) -> DataTable | html.P:
    if frame is None or frame.empty:
        return html.P("None", className="text-muted small mb-0", id=table_id)
    rows = [{c: _cell(str(c), v) for c, v in row.items()} for row in frame.to_dict("records")]
    return DataTable(
        rows,
        [{"name": feature_label(str(c)), "id": c} for c in frame.columns],
        id=table_id,
        style_table={"overflowX": "auto"},
        page_size=8,
        style_cell={
            "fontSize": "0.85rem",
            "fontFamily": TABLE_FONT,
            "textAlign": "left",
            "whiteSpace": "normal",
            "height": "auto",
            "padding": "4px 6px",
        },
        style_header={"fontWeight": "600"},
        # a date broke after its second hyphen in a narrow column
        style_cell_conditional=[
            {"if": {"column_id": c}, "whiteSpace": "nowrap"}
            for c in frame.columns
            if c.endswith("_at") or c == "ts"
        ],
    )


def _risk_card(view: svc.Customer360) -> dbc.Card:
    part = view.risk
    if part is None:
        text = view.missing.get("risk", "This customer has no loan to score.")
        return dbc.Card(
            [dbc.CardHeader("Default risk"), dbc.CardBody(html.P(text, className="small mb-0"))],
            className="ll-card h-100",
            id="customer-risk",
        )
    e = part.explanation
    declined = e.pd >= part.threshold
    body: list[Any] = [
        html.Div(
            [
                html.Span(f"PD {e.pd:.1%}", id="customer-pd", className="fs-4 fw-semibold me-3"),
                dbc.Badge(
                    f"band {e.band} ({risk.BAND_NAMES[e.band]})",
                    id="customer-band",
                    color="secondary",
                    className="me-2",
                ),
                dbc.Badge("DECLINE" if declined else "APPROVE", color="danger" if declined else "success"),
            ]
        ),
        html.Small(
            f"cut-off: decline when PD ≥ {part.threshold:.1%}; latest loan {part.loan.get('loan_id')}",
            className="text-muted",
        ),
        html.Ul(
            [html.Li(r) for r in e.reasons] or [html.Li("Nothing raised the risk")],
            id="customer-reasons",
            className="small mt-2",
        ),
    ]
    if part.recourse is not None:
        body.append(recourse_block(part.recourse, "customer-recourse"))
    return dbc.Card(
        [dbc.CardHeader("Default risk"), dbc.CardBody(body)], className="ll-card h-100", id="customer-risk"
    )


def _segment_card(view: svc.Customer360) -> dbc.Card:
    seg = view.segment
    if seg is None:
        body: Any = html.P(
            view.missing.get("segment", "Not in the trained segmentation."), className="small mb-0"
        )
    else:
        medians = [html.Li(line) for line in segment_medians(seg)]
        share = f" · {seg['share']:.0%} of customers" if "share" in seg else ""
        body = [
            html.H5(f"{seg['segment']}: {seg['name']}", id="customer-segment"),
            html.P(f"{seg.get('distinctive', '')}{share}", className="small text-muted"),
            html.Ul(medians, className="small"),
        ]
    return dbc.Card([dbc.CardHeader("Segment"), dbc.CardBody(body)], className="ll-card h-100")


def _products_card(view: svc.Customer360) -> dbc.Card:
    if view.held is None or view.next_best is None:  # the service sets both or neither
        body: Any = html.P(view.missing.get("products", ""), className="small mb-0")
    else:
        nb = view.next_best.loc[
            :, [c for c in ("rank", "name", "family", "reason") if c in view.next_best.columns]
        ]
        note = (
            " Credit products are not offered to this customer (credit policy)."
            if view.credit_blocked
            else ""
        )
        body = [
            html.H6("Held"),
            _table(view.held.loc[:, ["name", "family"]], "customer-held"),
            html.H6(
                [
                    "Next best ",
                    html.Small(
                        f"({view.next_best_label}, best on held-out interactions)",
                        className="text-muted",
                        id="customer-next-best-model",
                    ),
                ],
                className="mt-3",
            ),
            _table(nb, "customer-next-best"),
            html.Small(note, className="text-muted"),
        ]
    return dbc.Card([dbc.CardHeader("Products"), dbc.CardBody(body)], className="ll-card h-100")


def _suggestions(role: str | None) -> Any:
    """A short list of customers to open (links), or what to do when there is none to suggest."""
    try:
        suggested = svc.suggested_customers()
    except DataUnavailable as exc:
        return no_data_card(str(exc))
    hint = html.P(
        "Type a customer id above and press Open, or click a customer id in any grid.",
        className="small text-muted mb-0",
    )
    if not suggested:
        return html.P(
            "No customers yet: load the bank's data, then come back here.", id="customer-suggestions"
        )
    shown = set(policy.visible_columns(role, ["segment", "income", "balance"]))
    labels = {"segment": "{}", "income": "income {:,.0f}", "balance": "balance {:,.0f}"}
    items = [
        dbc.ListGroupItem(
            [
                html.A(
                    f"Customer {s.customer_id}",
                    href=dash.get_relative_path(f"/customer?{urlencode({'id': s.customer_id})}"),
                    className="fw-semibold",
                ),
                html.Div(
                    " · ".join(labels[k].format(v) for k, v in s.facts.items() if k in shown),
                    className="small text-muted",
                ),
            ],
            id=f"customer-suggestion-{i}",
        )
        for i, s in enumerate(suggested)
    ]
    return dbc.Card(
        [
            dbc.CardHeader(f"Suggested customers ({suggested[0].reason})"),
            dbc.CardBody([dbc.ListGroup(items, flush=True, className="mb-2"), hint]),
        ],
        className="ll-card",
        id="customer-suggestions",
        style={"maxWidth": "640px"},
    )


def layout(id: str | None = None, **_query: str) -> html.Div:  # noqa: A002 - the URL's ?id=
    """The customer's page, or the search box when no id is given."""
    header = page_header("Customer 360", "One customer's whole picture.", how_to="customer")
    if id is None:
        return html.Div([header, _search(), _suggestions(signed_in_role())])
    role = signed_in_role()
    try:
        view = svc.customer_360(svc.parse_customer_id(id), role)
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    except ValueError as exc:
        return html.Div([header, _search(id), error_card(str(exc))])
    show_risk = policy.may(role, Capability.SCORES)
    p = view.profile
    tiles = [
        dbc.Col(
            kpi_tile(feature_label(key), _fmt(key, p[key]), tile_id=f"customer-{key}"), xs=6, md=3, xl=True
        )
        for key in ("age", "region", "income", "employment", "tenure_months", "balance")
        if key in p
    ]
    width = 4 if show_risk else 6  # without the risk card, segment and products share the row
    risk_col = dbc.Col(_risk_card(view), lg=4) if show_risk else None
    return html.Div(
        [
            header,
            _search(view.customer_id),
            html.H4(f"Customer {view.customer_id}", id="customer-title", className="mb-3"),
            dbc.Row(tiles, className="g-3 mb-3"),
            dbc.Row(
                [
                    c
                    for c in (
                        risk_col,
                        dbc.Col(_segment_card(view), lg=width),
                        dbc.Col(_products_card(view), lg=width),
                    )
                    if c
                ],
                className="g-3 mb-3",
            ),
            # one row each: the loans table has up to nine columns, which scrolled sideways in a third of the width
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Money in and out per month",
                            "customer-monthly",
                            figs.monthly_figure(view.monthly),
                        ),
                        lg=12,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [dbc.CardHeader("Loans"), dbc.CardBody(_table(view.loans, "customer-loans"))],
                            className="ll-card h-100",
                        ),
                        lg=12,
                    ),
                ],
                className="g-3",
            ),
        ]
    )
