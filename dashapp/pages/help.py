"""Help: first how to read each page the signed-in role may open, then the user-facing docs (``docs/*.md``), each
one click away; developer and operator docs (contracts, CLI, API, deployment) are listed to admins only."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import policy
from dashapp.auth import signed_in_role
from dashapp.components import page_header
from dashapp.components.how_to_read import doc_href, guide_bullets
from dashapp.components.how_to_read_text import PAGES, PageGuide
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

INTRO = (
    "Ledgerlight is the bank's analytics workbench: default risk with explanations, customer segments, product "
    "recommendations and campaigns. Below is how to read each page you can open; the full guides are listed on "
    "the left."
)


def _guide_card(key: str, guide: PageGuide) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(html.A(guide.name, href=dash.get_relative_path(guide.path)), className="h6 mb-1"),
                guide_bullets(guide),
                html.A(f"Full guide: {guide.name}", href=doc_href(guide.doc), className="small"),
            ]
        ),
        className="ll-card mb-3",
        id=f"help-guide-{key}",
    )


def _doc_links(available: tuple[docs.Doc, ...], chosen: docs.Doc | None) -> list[dbc.ListGroupItem]:
    return [
        dbc.ListGroupItem(
            d.title,
            href=dash.get_relative_path(f"/help?doc={d.slug}"),
            active=chosen is not None and d.slug == chosen.slug,
        )
        for d in available
    ]


def layout(doc: str | None = None, **_query: str) -> html.Div:
    """How to read the role's pages and the list of docs, or the chosen doc (``/help?doc=app``)."""
    role = signed_in_role()
    available = docs.docs_for(role)
    chosen = docs.get_doc_for(role, doc) if doc else None
    user_docs = [d for d in available if not docs.is_developer_doc(d)]
    developer_docs = [d for d in available if docs.is_developer_doc(d)]
    sidebar: list = [
        html.H2("Guides", className="h6 text-muted"),
        dbc.ListGroup(
            _doc_links(tuple(user_docs), chosen) or [dbc.ListGroupItem("No docs found")], id="help-docs"
        ),
    ]
    if developer_docs:
        sidebar += [
            html.H2("For developers and operators", className="h6 text-muted mt-3"),
            dbc.ListGroup(_doc_links(tuple(developer_docs), chosen), id="help-developer-docs"),
        ]
    if doc and chosen is None:
        body: list = [
            dbc.Alert(
                [
                    f"No document called {doc!r} here. ",
                    html.A("Back to Help", href=dash.get_relative_path("/help")),
                    " or pick a guide on the left.",
                ],
                color="warning",
            )
        ]
    elif chosen is not None:
        body = [
            html.A("← How to read each page", href=dash.get_relative_path("/help"), className="small"),
            dbc.Card(dbc.CardBody(dcc.Markdown(chosen.text, className="ll-doc")), className="ll-card mt-2"),
        ]
    else:
        guides = [_guide_card(k, g) for k, g in PAGES.items() if policy.may_open_page(role, g.path)]
        body = [html.P(INTRO), html.Div(guides, id="help-guides")]
    return html.Div(
        [
            page_header("Help", "How to read each page, and the full guides."),
            dbc.Row(
                [
                    dbc.Col(sidebar, lg=3, className="mb-3"),
                    dbc.Col(body, lg=9),
                ]
            ),
        ]
    )
