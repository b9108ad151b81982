"""The page shown for an unknown address (Dash Pages uses the module named ``not_found_404``)."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashapp.components import page_header

dash.register_page(__name__, path="/404", name="Not found", title="Ledgerlight · page not found", nav=False)


def layout(**_query: str) -> html.Div:
    """A short "page not found" message with a link back to the Overview."""
    return html.Div(
        [
            page_header("Page not found", "There is no page at this address."),
            dcc.Link("Back to the Overview", href=dash.get_relative_path("/"), id="not-found-home"),
        ],
        id="not-found",
    )
