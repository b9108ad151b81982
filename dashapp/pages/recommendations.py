"""Recommendations: one customer's products from every model, campaign lists per product, model comparison.

Thin: every value comes from ``dashapp.services.recsys`` (published rows, queried per request); the campaign grid
pages on the server (dash-ag-grid infinite row model: sorting and filtering done by the SQL query).
"""

from __future__ import annotations

import functools
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp.components import error_card, figure_card, no_data_card, not_ready_card, page_header, safe_csv
from dashapp.components.campaign_create import CreateCampaign, sync_audience
from dashapp.components.customer_link import customer_link, register_customer_link
from dashapp.components.recs_metrics import recs_metrics_table
from dashapp.components.row_blocks import EMPTY_BLOCK, rows_block
from dashapp.figures import recsys as figs
from dashapp.pagecache import cached_page
from dashapp.services import customer as customer_svc
from dashapp.services import ids, validation
from dashapp.services import recsys as svc
from dashapp.services.bank import DataUnavailable
from dashapp.services.served import NotTrained

dash.register_page(
    __name__,
    path="/recommendations",
    name="Recommendations",
    title="Ledgerlight · recommendations",
    order=30,
    description="Next products for a customer, campaign lists per product, model comparison.",
)

TITLE = "Product recommendations"
SUBTITLE = (
    "What to offer each customer next, from every served model side by side (the best on held-out "
    "interactions first); who to target for a product; how the models compare on held-out interactions."
)


def _customer_options(suggested: list[customer_svc.Suggestion]) -> list[dict[str, object]]:
    """The suggested customers first, then the first ids of the search."""
    first: list[dict[str, object]] = [
        {"label": f"Customer {s.customer_id}", "value": s.customer_id} for s in suggested
    ]
    taken = {s.customer_id for s in suggested}
    return first + [o for o in svc.customer_options() if o["value"] not in taken]


def _customer_panel(suggested: list[customer_svc.Suggestion], profile: list[Any]) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Customer"),
            dbc.CardBody(
                [
                    dbc.Label("Search by customer id", className="small mb-0"),
                    dcc.Dropdown(
                        id="recs-customer",
                        options=_customer_options(suggested),
                        value=suggested[0].customer_id if suggested else None,
                        placeholder="type a customer id",
                        clearable=False,
                    ),
                    html.Div(
                        f"Opened on a suggested customer ({suggested[0].reason}); type any id to change."
                        if suggested
                        else "Type a customer id to see their next products.",
                        className="small text-muted",
                        id="recs-customer-hint",
                    ),
                    dbc.Label("How many products", className="small mb-0 mt-2"),
                    dcc.Slider(
                        id="recs-n",
                        min=1,
                        max=8,
                        step=1,
                        value=DEFAULT_N,
                        marks=None,
                        tooltip={"placement": "bottom", "always_visible": True},
                    ),
                    html.Div(profile, id="recs-profile", className="small mt-3"),
                ]
            ),
        ],
        className="ll-card h-100",
    )


def _campaign_grid(key: str) -> html.Div:
    """The campaign grid; a new ``key`` mounts a fresh grid, whose first ``getRowsRequest`` loads the new list."""
    grid = dag.AgGrid(
        id="recs-campaign-grid",
        rowModelType="infinite",
        columnDefs=[
            {"field": c, "filter": "agNumberColumnFilter" if kind == "number" else "agTextColumnFilter"}
            for c, kind in svc.campaign_filters().items()
        ],
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
        },
        style={"height": "420px"},
    )
    return html.Div(grid, key=key)


def _campaign_panel(product: int | None) -> dbc.Card:
    models, best = svc.model_options()
    return dbc.Card(
        [
            dbc.CardHeader("Campaign list: who is most likely to take a product"),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                dcc.Dropdown(
                                    id="recs-product",
                                    options=svc.product_options(),
                                    value=product,
                                    placeholder="product",
                                    clearable=False,
                                ),
                                md=5,
                            ),
                            dbc.Col(
                                dcc.Dropdown(
                                    id="recs-campaign-model", options=models, value=best, clearable=False
                                ),
                                md=3,
                            ),
                            dbc.Col(
                                dbc.Input(
                                    id="recs-campaign-n",
                                    type="number",
                                    min=1,
                                    max=svc.MAX_CAMPAIGN,
                                    value=200,
                                ),
                                md=2,
                            ),
                            dbc.Col(
                                dbc.Button("Export CSV", id="recs-export", color="primary", size="sm"), md=2
                            ),
                        ],
                        className="g-2 mb-2",
                    ),
                    CreateCampaign("recommendations", inline=True),
                    html.Div(id="recs-campaign-note", className="small text-muted mb-2"),
                    html.Div(_campaign_grid("none"), id="recs-campaign-holder"),
                    dcc.Download(id="recs-download"),
                    customer_link("recs-campaign-grid"),
                ]
            ),
        ],
        className="ll-card",
    )


DEFAULT_N = 5  # products per list on the first view (the slider's value)


def _no_customer() -> html.P:
    return html.P(
        "Type a customer id in the search box on the left to see their next products.", className="text-muted"
    )


@cached_page
def layout(**_query: str) -> html.Div:
    """Customer panel and side-by-side lists, campaign list with export, model comparison."""
    header = page_header(TITLE, SUBTITLE, how_to="recommendations")
    try:
        svc.served()
        suggested = customer_svc.suggested_customers()
        first = suggested[0].customer_id if suggested else None
        lists, profile = _customer_lists(first, DEFAULT_N) if first is not None else (_no_customer(), [])
        customer_panel = _customer_panel(suggested, profile)
        campaign_panel = _campaign_panel(svc.default_product())
        metrics, k = svc.comparison(), svc.metrics_k()
    except NotTrained as exc:
        return html.Div([header, not_ready_card("Product recommendations", exc.command, str(exc))])
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    return html.Div(
        [
            header,
            dbc.Row(
                [
                    dbc.Col(customer_panel, lg=3),
                    dbc.Col(html.Div(lists, id="recs-lists"), lg=9),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(dbc.Col(campaign_panel), className="g-3 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Model comparison",
                            "recs-comparison",
                            figs.comparison_figure(metrics, k),
                            subtitle=f"Held-out interactions (per-user 75/25 split), top {k}",
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [dbc.CardHeader("Metrics"), dbc.CardBody(recs_metrics_table(metrics, k))],
                            className="ll-card h-100",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3",
            ),
        ]
    )


def _list_card(model: str, frame: pd.DataFrame, best: bool, width: int) -> dbc.Col:
    rows = [
        html.Tr(
            [
                html.Td(int(r.rank)),
                html.Td(r.name),
                html.Td(f"{r.score:.3f}"),
                html.Td(r.reason, className="text-muted"),
            ]
        )
        for r in frame.itertuples(index=False)
    ]
    body = dbc.Table(
        [
            html.Thead(html.Tr([html.Th("#"), html.Th("Product"), html.Th("Score"), html.Th("Why")])),
            html.Tbody(rows),
        ],
        size="sm",
        class_name="small mb-0",
        id=f"recs-list-{model}",
    )
    if frame.empty:
        body = html.P("Nothing left to offer.", className="text-muted small", id=f"recs-list-{model}")
    header = [svc.MODEL_LABELS.get(model, model)]
    if best:
        header.append(
            dbc.Badge(
                "best",
                color="success",
                className="ms-2",
                id="recs-best-badge",
                title="best nDCG on held-out interactions",
            )
        )
    return dbc.Col(
        dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className="ll-card h-100"), lg=width
    )


def _profile(view: svc.CustomerView) -> list[Any]:
    facts = [f"{k}: {v:,.0f}" if isinstance(v, float) else f"{k}: {v}" for k, v in view.profile.items()]
    held = ", ".join(view.held["name"]) or "nothing yet (cold start)"
    out: list[Any] = [html.Div(f) for f in facts] + [html.Div([html.B("Holds: "), held], id="recs-held")]
    if view.credit_blocked:
        out.append(
            dbc.Badge("not eligible for credit offers (credit policy)", color="warning", className="mt-2")
        )
    return out


@callback(
    Output("recs-customer", "options"),
    Input("recs-customer", "search_value"),
    State("recs-customer", "value"),
)
def search_customers(search, value):
    """Offer the customer ids that start with what was typed (keeping the current choice)."""
    search = validation.text(search, "customer search", max_len=40, default="")
    value = None if value is None else ids.customer_ref(value)
    if not search:
        return no_update
    options = svc.customer_options(search)
    if value is not None and all(o["value"] != value for o in options):
        options.insert(0, {"label": f"Customer {value}", "value": value})
    return options


@callback(
    Output("recs-lists", "children"),
    Output("recs-profile", "children"),
    Input("recs-customer", "value"),
    Input("recs-n", "value"),
    prevent_initial_call=True,
)
def show_customer(customer_id, n):
    """Every model's top-n for the chosen customer, with reasons."""
    if customer_id is None:
        return no_update, no_update
    return _customer_lists(customer_id, n)


def _customer_lists(customer_id: Any, n: Any) -> tuple[Any, list[Any]]:
    """Every model's top-n for one customer (the best model first) and their profile; an error card for a bad id."""
    customer_id = ids.customer_ref(customer_id)  # the bank's id: 17, or C-00017 for a bank with text ids
    n = validation.whole_number(n, "how many products", lo=1, hi=svc.MAX_LIST, default=DEFAULT_N)
    try:
        view = svc.customer_view(ids.customer(customer_id), n)
    except (ValueError, NotTrained) as exc:
        return error_card(str(exc)), []
    best = svc.best_model()
    order = sorted(view.recommendations, key=lambda m: m != best)  # the best model first, then page order
    width = 4 if len(order) <= 3 else 6  # four lists: two by two, so the reasons stay readable
    cards = [_list_card(m, view.recommendations[m], m == best, width) for m in order]
    return dbc.Row(cards, className="g-3"), _profile(view)


@callback(
    Output("recs-campaign-holder", "children"),
    Input("recs-product", "value"),
    Input("recs-campaign-model", "value"),
    Input("recs-campaign-n", "value"),
    prevent_initial_call=True,
)
def reset_campaign(product_id, model, n):
    """A fresh grid for a new product, model or size (it then asks for its first rows)."""
    return _campaign_grid(f"{product_id!s:.20}-{model!s:.20}-{n!s:.20}")


@callback(
    Output("recs-campaign-grid", "getRowsResponse"),
    Output("recs-campaign-note", "children"),
    Input("recs-campaign-grid", "getRowsRequest"),
    State("recs-product", "value"),
    State("recs-campaign-model", "value"),
    State("recs-campaign-n", "value"),
    prevent_initial_call=True,
)
def campaign_rows(request, product_id, model, n):
    """One block of the campaign list for a product (sorted and filtered by the query), and how many there are."""
    if request is None:
        return no_update, no_update
    if product_id is None or not n:
        return EMPTY_BLOCK, "Pick a product and a list size above to see who is most likely to take it."
    try:
        product_id, n, model = svc.campaign_request(product_id, n, model)
    except ValueError as exc:
        return EMPTY_BLOCK, str(exc)
    block = rows_block(request, functools.partial(svc.campaign_page, product_id, n, model))
    return block, f"{block['rowCount']:,} customers, best first"


@callback(
    Output("recs-download", "data"),
    Input("recs-export", "n_clicks"),
    State("recs-product", "value"),
    State("recs-campaign-model", "value"),
    State("recs-campaign-n", "value"),
    prevent_initial_call=True,
)
def export_campaign(_clicks, product_id, model, n):
    """Download the campaign list (formula-safe CSV)."""
    if product_id is None or not n:
        return no_update
    product_id, n, model = svc.campaign_request(product_id, n, model)
    frame = svc.campaign_export(product_id, n, model)
    return safe_csv(frame, svc.campaign_file_name(product_id))


register_customer_link(
    "recs-campaign-grid", __name__
)  # a customer id in the campaign list opens the Customer page
# the "Create campaign" component takes the list shown: product, model and size (checked on the server)
sync_audience(
    "recommendations",
    {
        "product": ("recs-product", "value"),
        "model": ("recs-campaign-model", "value"),
        "n": ("recs-campaign-n", "value"),
    },
)
