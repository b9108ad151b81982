"""Models (``/models``): every saved version per model with its status (served, candidate, ...), its model card
(downloadable as HTML), and, for admins, promote a version with a stated reason and retrain in the background with
a progress bar (the page stays usable; a retrain saves a candidate).
"""

from __future__ import annotations

import uuid
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import diskcache
from dash import DiskcacheManager, Input, Output, State, callback, dcc, html, no_update

from bankdata import ArtifactError, get_settings
from dashapp import policy
from dashapp.auth import signed_in, signed_in_role
from dashapp.components import error_card, page_header
from dashapp.components.comparison import comparison_view
from dashapp.figures.governance import challenger_calibration_figure
from dashapp.policy import Capability
from dashapp.services import challenger, freshness, validation
from dashapp.services import models as svc
from dashapp.services.messages import public_message

dash.register_page(
    __name__,
    path="/models",
    name="Models",
    title="Ledgerlight · models",
    order=50,
    description="Saved model versions, model cards, promotion and background retraining.",
)

# Background jobs and their progress live on disk under the data folder, shared by every gunicorn worker.
JOBS = diskcache.Cache(str(get_settings().data_dir / "cache" / "background"))
MANAGER = DiskcacheManager(JOBS)
TICKET_SECONDS = 60


def _rows() -> list[dict]:
    return svc.versions().drop(columns="latest").to_dict("records")


def _freshness() -> dbc.Card:
    """The served versions' freshness (trained, events folded and waiting, retrain flag): one service call."""
    frame = freshness.freshness().fillna("")
    labels = [
        "Model",
        "Served version",
        "Trained (UTC)",
        "Events last folded",
        "Folded",
        "Waiting",
        "Not foldable",
        "Purchases since trained",
        "Full retrain",
    ]
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th(c) for c in labels])),
            html.Tbody([html.Tr([html.Td(v) for v in row]) for row in frame.itertuples(index=False)]),
        ],
        size="sm",
        bordered=True,
        className="small mb-0",
        id="models-freshness-table",
        responsive=True,  # scrolls inside its card on a phone instead of widening the page
    )
    return dbc.Card(
        [
            dbc.CardHeader("Freshness of the served versions"),
            dbc.CardBody(
                [
                    table,
                    html.P(
                        [
                            "API events are folded into the recommender by ",
                            html.Code("ledgerlight events worker"),
                            "; the other models change only by a retrain and a promotion.",
                        ],
                        className="small text-muted mt-2 mb-0",
                    ),
                ]
            ),
        ],
        className="ll-card mb-3",
        id="models-freshness",
    )


def _card_body(sections: list[dict]) -> list:
    out: list[Any] = []
    for sec in sections:
        out.append(html.H6(sec["title"], className="mt-3"))
        if sec["rows"]:
            out.append(
                dbc.Table(
                    [
                        html.Thead(html.Tr([html.Th(c) for c in sec["columns"]])),
                        html.Tbody([html.Tr([html.Td(c) for c in row]) for row in sec["rows"]]),
                    ],
                    size="sm",
                    bordered=True,
                    className="small",
                    responsive=True,  # a long fingerprint or list scrolls inside the card on a phone
                )
            )
        if sec["note"]:
            out.append(html.P(sec["note"], className="small text-muted"))
    return out


def layout(**_query: str) -> html.Div:
    """Versions grid, admin actions and the selected version's card."""
    header = page_header(
        "Models",
        "Saved versions, model cards, promotion and retraining. Training saves a "
        "candidate; the app serves a new version only once an admin promotes it.",
        how_to="models",
    )
    rows = _rows()
    if not rows:
        return html.Div(
            [
                header,
                dbc.Alert(
                    ["No model is trained yet: run ", html.Code("ledgerlight train all"), "."],
                    color="info",
                    id="models-none",
                ),
            ]
        )
    admin = policy.may(signed_in_role(), Capability.PROMOTE_MODELS)
    actions = (
        dbc.Card(
            [
                dbc.CardHeader("Admin"),
                dbc.CardBody(
                    [
                        dbc.Label(
                            "Reason for promoting (audited)",
                            html_for="models-promote-reason",
                            className="small mb-1",
                        ),
                        dbc.Textarea(
                            id="models-promote-reason",
                            rows=2,
                            maxLength=500,
                            className="mb-2",
                            placeholder="e.g. quarterly retrain on new outcomes, signed off by model risk",
                        ),
                        dbc.Button(
                            "Promote selected version",
                            id="models-promote",
                            color="primary",
                            size="sm",
                            className="me-2",
                        ),
                        html.Div(id="models-promote-result", className="small mt-1", role="status"),
                        html.Hr(),
                        dbc.InputGroup(
                            [
                                dbc.Select(
                                    id="models-retrain-model", options=list(svc.TRAINERS), value="segments"
                                ),
                                dbc.Button("Retrain", id="models-retrain", color="secondary"),
                            ],
                            size="sm",
                            className="mb-2",
                        ),
                        dbc.Progress(
                            id="models-progress",
                            value=0,
                            max=3,
                            striped=True,
                            animated=True,
                            className="mb-1",
                        ),
                        html.Div(id="models-retrain-result", className="small"),
                        dcc.Store(id="models-ticket"),
                    ]
                ),
            ],
            className="ll-card h-100",
        )
        if admin
        else html.Div()
    )
    first = rows[0]
    return html.Div(
        [
            header,
            dbc.Row(
                [
                    dbc.Col(
                        dag.AgGrid(
                            id="models-grid",
                            rowData=rows,
                            columnDefs=[{"field": c} for c in rows[0]],
                            defaultColDef={"resizable": True, "sortable": True, "filter": True, "flex": 1},
                            dashGridOptions={
                                "rowSelection": {"mode": "singleRow", "enableClickSelection": True}
                            },
                            getRowId="params.data.model + '/' + params.data.version",
                            selectedRows=[first],
                            style={"height": "320px"},
                        ),
                        lg=8,
                    ),
                    dbc.Col(actions, lg=4),
                ],
                className="g-3 mb-3",
            ),
            _freshness(),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            "Compared with the served version ",
                            dbc.Button(
                                "Compare selected version", id="models-compare", size="sm", color="link"
                            ),
                        ]
                    ),
                    dbc.CardBody(
                        html.Div(
                            html.P(
                                "Select a candidate, then compare it with the served version on the "
                                "same held-out rows before promoting it.",
                                className="small mb-0",
                            ),
                            id="models-compare-result",
                            role="status",
                        )
                    ),
                ],
                className="ll-card mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            "Model card ",
                            dbc.Button("Download HTML", id="models-download-button", size="sm", color="link"),
                        ]
                    ),
                    dbc.CardBody(id="models-card"),
                ],
                className="ll-card",
            ),
            dcc.Download(id="models-download"),
        ]
    )


def _selected(rows: object) -> tuple[str, str] | None:
    """The grid's selected (model, version), checked against the saved versions; None when nothing is selected."""
    picked = validation.items(rows, "selected rows", max_len=1)
    if not picked:
        return None
    row = validation.record(picked[0], "selected row", ["model", "version"])
    return svc.saved_version(row["model"], row["version"])


@callback(Output("models-card", "children"), Input("models-grid", "selectedRows"))
def show_card(rows: list[dict] | None):
    """The selected version's card."""
    picked = _selected(rows)
    if picked is None:
        return html.P("Pick a version.")
    try:
        sections, _ = svc.card(*picked)
    except ArtifactError as exc:
        return error_card(str(exc))
    return html.Div(_card_body(sections), id="models-card-body")


@callback(
    Output("models-compare-result", "children"),
    Input("models-compare", "n_clicks"),
    State("models-grid", "selectedRows"),
    prevent_initial_call=True,
)
def compare(_n: int, rows: list[dict] | None):
    """The selected version next to the served one (champion / challenger), before anyone promotes it."""
    picked = _selected(rows)
    if picked is None:
        return "Pick a version first."
    try:
        report = challenger.compare_with_served(*picked)
    except validation.InputError as exc:
        return dbc.Alert(exc.reason, color="warning", className="py-1 px-2 mb-0")
    except ArtifactError as exc:
        return error_card(public_message(exc))
    figure = challenger_calibration_figure(report["calibration"]) if "calibration" in report else None
    return comparison_view(report, figure)


@callback(
    Output("models-download", "data"),
    Input("models-download-button", "n_clicks"),
    State("models-grid", "selectedRows"),
    prevent_initial_call=True,
)
def download_card(_n: int, rows: list[dict] | None):
    """The selected version's card as one HTML file."""
    picked = _selected(rows)
    if picked is None:
        return no_update
    _, page = svc.card(*picked)
    return {"content": page, "filename": f"model-card-{picked[0]}-{picked[1]}.html", "type": "text/html"}


@callback(
    Output("models-promote-result", "children"),
    Output("models-grid", "rowData"),
    Input("models-promote", "n_clicks"),
    State("models-grid", "selectedRows"),
    State("models-promote-reason", "value"),
    prevent_initial_call=True,
)
def promote(_n: int, rows: list[dict] | None, reason: str | None):
    """Serve the selected version (admins only, with a reason; the services pick it up on their next request)."""
    policy.require(signed_in_role(), Capability.PROMOTE_MODELS, "promote a model version")
    picked = _selected(rows)
    if picked is None:
        return "Pick a version first.", no_update
    user = signed_in()
    try:
        svc.promote(*picked, role=signed_in_role(), user=user.id if user else "unknown", reason=reason)
    except validation.InputError as exc:
        return dbc.Alert(exc.reason, color="warning", className="py-1 px-2 mb-0"), no_update
    except ArtifactError as exc:
        return public_message(exc), no_update
    return f"{picked[0]}/{picked[1]} is served now (audited with your reason).", _rows()


@callback(
    Output("models-ticket", "data"),
    Output("models-retrain-result", "children", allow_duplicate=True),
    Input("models-retrain", "n_clicks"),
    State("models-retrain-model", "value"),
    prevent_initial_call=True,
)
def request_retrain(_n: int, model: str):
    """Check the role in the request, then hand the background job a one-time ticket."""
    policy.require(signed_in_role(), Capability.RETRAIN_MODELS, "retrain a model")
    model = validation.choice(model, "model", list(svc.TRAINERS))
    ticket = uuid.uuid4().hex
    JOBS.set(f"retrain:{ticket}", model, expire=TICKET_SECONDS)
    return {"ticket": ticket, "model": model}, f"Retraining {model}…"


@callback(
    Output("models-retrain-result", "children"),
    Input("models-ticket", "data"),
    background=True,
    manager=MANAGER,
    progress=[Output("models-progress", "value"), Output("models-progress", "label")],
    running=[(Output("models-retrain", "disabled"), True, False)],
    prevent_initial_call=True,
)
def run_retrain(set_progress, ticket: dict | None):
    """The retrain job (a separate process): refuses a ticket it did not issue, reports each step."""
    if (
        not isinstance(ticket, dict)
        or not isinstance(ticket.get("ticket"), str)
        or JOBS.pop(f"retrain:{ticket['ticket']}") != ticket.get("model")
    ):
        return "Refused: no valid retrain request."
    try:
        version = svc.retrain(ticket["model"], lambda step, steps, label: set_progress((step, label)))
    except (ArtifactError, ValueError, RuntimeError) as exc:
        return f"Retraining failed: {exc}"
    state = (
        "served (its first version)"
        if svc.is_served(ticket["model"], version)
        else "a candidate: select it, compare, and promote it with a reason"
    )
    return f"Saved {ticket['model']}/{version}, {state}; reload to see it."
