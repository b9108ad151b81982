"""Help: the project's docs (``docs/*.md``), listed and rendered in the app."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.components import page_header
from dashapp.services import docs, validation


def _doc_param(value: str) -> str:
    return validation.text(value, "doc", max_len=80)


dash.register_page(
    __name__,
    path="/help",
    name="Help",
    title="Ledgerlight · help",
    order=99,
    query_params={"doc": _doc_param},
)

INTRO = """
Ledgerlight is a bank's analytics workbench on a synthetic demo bank: **default risk** with SHAP explanations,
**customer segments** and **product recommendations**. Start with `make run` (generates the demo bank, trains what is
missing and serves the app on http://127.0.0.1:8050). `/healthz` reports the database and the trained model versions.
Pick a document on the left.
"""


def layout(doc: str | None = None, **_query: str) -> html.Div:
    """The list of docs and the chosen one (``/help?doc=app``), or a short introduction."""
    available = docs.list_docs()
    chosen = docs.get_doc(doc) if doc else None
    links = [
        dbc.ListGroupItem(
            d.title,
            href=dash.get_relative_path(f"/help?doc={d.slug}"),
            active=chosen is not None and d.slug == chosen.slug,
        )
        for d in available
    ]
    if doc and chosen is None:
        body = dbc.Alert(f"No document called {doc!r}.", color="warning")
    else:
        body = dcc.Markdown(chosen.text if chosen else INTRO, className="ll-doc")
    return html.Div(
        [
            page_header("Help", "How Ledgerlight works and how to run it."),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.ListGroup(links or [dbc.ListGroupItem("No docs found")], id="help-docs"),
                        lg=3,
                        className="mb-3",
                    ),
                    dbc.Col(dbc.Card(dbc.CardBody(body), className="ll-card"), lg=9),
                ]
            ),
        ]
    )
