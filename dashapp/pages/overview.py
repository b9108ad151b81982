"""Overview: the portfolio at a glance (KPI tiles and five charts), path ``/``."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, html

from dashapp.components import figure_card, kpi_tile, no_data_card, page_header
from dashapp.figures import overview as figs
from dashapp.figures.theme import empty_figure
from dashapp.pagecache import cached_page
from dashapp.services import overview as svc
from dashapp.services import validation
from dashapp.services.bank import DataUnavailable

dash.register_page(
    __name__,
    path="/",
    name="Overview",
    title="Ledgerlight · overview",
    order=0,
    description="The portfolio at a glance: customers, balances, loans, products and activity.",
)

TITLE = "Portfolio overview"
SUBTITLE = "Customers, balances, loans, product holdings and transaction activity of the bank."


def _money(value: float) -> str:
    for threshold, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:,.1f}{suffix}"
    return f"{value:,.0f}"


def _kpi_row(k: svc.Kpis) -> dbc.Row:
    month = k.last_month.strftime("%B %Y") if not pd.isna(k.last_month) else "no transactions"
    tiles = [
        kpi_tile("Customers", f"{k.customers:,}", "in the portfolio", tile_id="kpi-customers"),
        kpi_tile(
            "Total balances",
            _money(k.total_balance),
            "current balances, all customers",
            tile_id="kpi-balances",
        ),
        kpi_tile("Loans", f"{k.loans:,}", f"{k.default_rate:.1%} defaulted", tile_id="kpi-loans"),
        kpi_tile("Products held", f"{k.avg_products:.2f}", "on average per customer", tile_id="kpi-products"),
        kpi_tile(
            "Transactions",
            f"{k.transactions_last_month:,}",
            f"{month} · {_money(k.volume_last_month)} moved",
            tile_id="kpi-transactions",
        ),
    ]
    return dbc.Row(
        [dbc.Col(t) for t in tiles],
        className="g-3 mb-3 row-cols-1 row-cols-sm-2 row-cols-xl-5",
        id="overview-kpis",
    )


def _breakdown_control() -> dbc.RadioItems:
    return dbc.RadioItems(
        id="overview-default-by",
        options=[{"label": label, "value": key} for key, label in svc.DEFAULT_BREAKDOWNS.items()],
        value="purpose",
        inline=True,
        className="mb-2 small",
    )


@cached_page
def layout(**_query: str) -> html.Div:
    """KPI tiles and charts of the whole portfolio, or the "no data yet" card."""
    header = page_header(TITLE, SUBTITLE, how_to="overview")
    try:
        data = svc.get_overview()
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    return html.Div(
        [
            header,
            _kpi_row(data.kpis),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Monthly transaction volume",
                            "overview-monthly",
                            figs.monthly_volume_figure(data.monthly),
                            subtitle="Spending and income per month: note the seasonality",
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        figure_card(
                            "Product uptake",
                            "overview-uptake",
                            figs.uptake_figure(data.uptake),
                            subtitle="Share of customers holding each product family",
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Default rate",
                            "overview-defaults",
                            figs.default_rate_figure(
                                data.defaults["purpose"], svc.DEFAULT_BREAKDOWNS["purpose"]
                            ),
                            subtitle="Observed defaults among issued loans",
                            controls=_breakdown_control(),
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        figure_card(
                            "Income distribution",
                            "overview-income",
                            figs.income_figure(data.income),
                            subtitle="Annual income of customers",
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        figure_card(
                            "Customers by region",
                            "overview-regions",
                            figs.regions_figure(data.regions),
                            subtitle="Hover for the region's balances",
                        ),
                        lg=4,
                    ),
                ],
                className="g-3",
            ),
        ]
    )


@callback(
    Output("overview-defaults", "figure"), Input("overview-default-by", "value"), prevent_initial_call=True
)
def update_default_rates(by: str):
    """Redraw the default-rate chart for the chosen breakdown."""
    by = validation.choice(by, "breakdown", svc.DEFAULT_BREAKDOWNS)
    try:
        rates = svc.default_rates_for(by)
    except (DataUnavailable, ValueError) as exc:
        return empty_figure(str(exc))
    return figs.default_rate_figure(rates, svc.DEFAULT_BREAKDOWNS[by])
