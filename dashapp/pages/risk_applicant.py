"""Risk applicant: pick a borrower, see the score, the decision at a cut-off, the SHAP waterfall, reason codes and a
what-if panel that re-scores edited values. Path ``/risk/applicant``.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html

import risk
from bankdata import DataValidationError, category_label, feature_label
from dashapp.auth import signed_in, signed_in_role
from dashapp.components import error_card, figure_card, no_data_card, not_ready_card, page_header
from dashapp.components.customer_link import customer_link, register_customer_link
from dashapp.components.recourse import recourse_block
from dashapp.components.row_blocks import EMPTY_BLOCK, rows_block
from dashapp.components.sliders import PROBABILITY_MARKS, value_range_slider, value_slider
from dashapp.figures import explain as explain_figs
from dashapp.figures import risk as figs
from dashapp.figures.theme import empty_figure
from dashapp.pagecache import cached_page
from dashapp.services import audit, validation
from dashapp.services import decisions as decisions_svc
from dashapp.services import risk as svc
from dashapp.services import risk_insights as insights_svc
from dashapp.services.bank import DataUnavailable
from dashapp.services.ids import customer_ref
from dashapp.services.served import NotTrained
from risk import GRID_COLUMNS, SORTABLE, plain_name

dash.register_page(
    __name__,
    path="/risk/applicant",
    name="Applicant",
    title="Ledgerlight · applicant",
    order=11,
    query_params={"customer_id": customer_ref},
    description="One applicant's default risk, decision, SHAP waterfall and contributions, ICE curves, "
    "reasons and what-if.",
)

PAGE_SIZE = 20
BLOCK_SIZE = 100  # rows per server request (the service allows at most svc.MAX_PAGE)


def _what_if_inputs(spec: risk.FeatureSpec) -> list:
    fields = []
    for col in spec.features:
        control_id = {"type": "risk-whatif", "feature": col}
        if col in spec.categorical:
            options = [{"label": category_label(v), "value": v} for v in spec.categorical[col]]
            control = dcc.Dropdown(id=control_id, options=options, clearable=False)
        else:
            control = dbc.Input(id=control_id, type="number", debounce=True, size="sm")
        fields.append(
            dbc.Col([dbc.Label(plain_name(col), className="small mb-0"), control], md=6, className="mb-2")
        )
    return [dbc.Row(fields, className="g-2")]


def _column(column: str) -> dict:
    """A grid column: sortable and filtered on the server when the service allows it."""
    kind = svc.filter_kinds().get(column)
    label = feature_label(column)
    out: dict = {"field": column, "headerName": label, "headerTooltip": label, "sortable": column in SORTABLE}
    if kind == "number":
        out |= {
            "filter": "agNumberColumnFilter",
            "filterParams": {
                "filterOptions": list(svc.NUMBER_TYPES),
                "maxNumConditions": 2,
                "debounceMs": 400,
            },
        }
    elif kind == "text":
        out |= {
            "filter": "agTextColumnFilter",
            "filterParams": {"filterOptions": list(svc.TEXT_TYPES), "maxNumConditions": 2, "debounceMs": 400},
        }
    else:
        out |= {"filter": False, "minWidth": 260, "tooltipField": column}
    return out


CONTRIBUTION_COLUMNS = [
    {"field": "name", "headerName": "feature", "minWidth": 150},
    {"field": "value", "headerName": "value", "minWidth": 200, "tooltipField": "value"},
    {
        "field": "shap",
        "headerName": "SHAP",
        "type": "numericColumn",
        "sort": "desc",
        "minWidth": 90,
        "headerTooltip": "the feature's push on the log-odds of default",
    },
    {
        "field": "pd_points",
        "headerName": "PD points",
        "type": "numericColumn",
        "minWidth": 100,
        "headerTooltip": "the push in percentage points of PD (the waterfall's bars)",
    },
    {"field": "direction", "headerName": "direction", "minWidth": 110},
]


def _contributions_grid() -> dag.AgGrid:
    """The applicant's SHAP contributions, one row per feature, sorted in the browser (15-odd rows)."""
    return dag.AgGrid(
        id="risk-contrib-grid",
        columnDefs=CONTRIBUTION_COLUMNS,
        rowData=[],
        defaultColDef={"sortable": True, "resizable": True, "flex": 1, "filter": False},
        getRowId="params.data.feature",
        dashGridOptions={"tooltipShowDelay": 300, "domLayout": "normal"},
        style={"height": "420px"},
    )


def _pd_range() -> html.Div:
    """The PD range the grid shows (applied as the grid's server-side ``pd`` filter)."""
    return html.Div(
        [
            dbc.Label("PD between", html_for="risk-pd-range", className="small mb-0"),
            value_range_slider("risk-pd-range", 0, 1, [0, 1], step=0.01, marks=PROBABILITY_MARKS),
        ],
        className="mb-2",
    )


def _record_block() -> html.Div:
    """Record the borrower's decision (computed by the server at the training cut-off) and, when declined, the
    adverse-action notice."""
    notices = html.Div(
        [
            dbc.Button(
                "Notice (HTML)",
                id="risk-notice-html",
                size="sm",
                color="secondary",
                outline=True,
                className="me-2",
            ),
            dbc.Button("Notice (PDF)", id="risk-notice-pdf", size="sm", color="secondary", outline=True),
        ],
        id="risk-notice-buttons",
        hidden=True,
        className="mt-2",
    )
    return html.Div(
        [
            html.Hr(className="my-2"),
            dbc.Button("Record decision", id="risk-record", size="sm", color="primary"),
            html.Small(
                " the borrower's latest loan, at the model's training cut-off", className="text-muted"
            ),
            html.Div(id="risk-record-result", className="small mt-2"),
            notices,
            dcc.Store(id="risk-record-id"),
            dcc.Download(id="risk-notice-download"),
        ],
        className="mt-3",
    )


@cached_page
def layout(customer_id: str | None = None, **_query: str) -> html.Div:
    """The applicant grid (rows paged by the server), the score panel and the what-if panel."""
    header = page_header(
        "Default risk: applicant",
        "Pick a borrower; edit the values on the right to see what changes.",
        how_to="applicant",
    )
    try:
        p = svc.served()
        svc.published_version()
        first = None if customer_id else svc.applicant_page(0, 1, [], {})[0]
    except NotTrained as exc:
        return html.Div([header, not_ready_card("Default risk model", exc.command, str(exc))])
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    selected = customer_ref(customer_id) if customer_id else (first[0]["customer_id"] if first else None)
    grid = dag.AgGrid(
        id="risk-grid",
        rowModelType="infinite",
        columnDefs=[_column(c) for c in GRID_COLUMNS],
        defaultColDef={"resizable": True, "flex": 1, "minWidth": 90, "floatingFilter": True},
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            "cacheBlockSize": BLOCK_SIZE,
            "maxBlocksInCache": 10,
            "infiniteInitialRowCount": BLOCK_SIZE,
            "tooltipShowDelay": 300,
            "suppressMultiSort": True,
        },
        getRowId="params.data.customer_id + ''",  # a string, as AG Grid requires (warning #25)
        style={"height": "420px"},
    )
    return html.Div(
        [
            header,
            dcc.Store(id="risk-applicant", data=selected),
            customer_link("risk-grid"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Borrowers (latest loan; sorted and filtered by the server)"),
                                dbc.CardBody(
                                    [
                                        dbc.InputGroup(
                                            [
                                                dbc.InputGroupText("customer id"),
                                                dbc.Input(
                                                    id="risk-search",
                                                    type="text",
                                                    debounce=True,
                                                    placeholder="search",
                                                ),
                                            ],
                                            size="sm",
                                            className="mb-2",
                                        ),
                                        _pd_range(),
                                        grid,
                                    ]
                                ),
                            ],
                            className="ll-card h-100",
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Decision"),
                                dbc.CardBody(
                                    [
                                        dbc.Label("Decline when PD ≥", html_for="risk-app-threshold"),
                                        value_slider(
                                            "risk-app-threshold",
                                            0,
                                            1,
                                            round(p.threshold, 3),
                                            step=0.005,
                                            marks=PROBABILITY_MARKS,
                                        ),
                                        html.Div(id="risk-decision", className="mt-3"),
                                        html.Ul(id="risk-reasons", className="mt-2 small"),
                                        html.Div(id="risk-recourse"),
                                        _record_block(),
                                    ]
                                ),
                            ],
                            className="ll-card h-100",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card("Why this score (SHAP, probability terms)", "risk-waterfall", height=520),
                        lg=7,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [dbc.CardHeader("What if"), dbc.CardBody(_what_if_inputs(p.model.spec))],
                            className="ll-card h-100",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [dbc.CardHeader("Contributions (sortable)"), dbc.CardBody(_contributions_grid())],
                            className="ll-card h-100",
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        figure_card(
                            "How the PD moves with one feature (ICE and portfolio PDP)",
                            "risk-ice",
                            height=380,
                            controls=dcc.Dropdown(
                                id="risk-ice-feature",
                                options=_feature_options(p.model.spec),
                                value=p.model.spec.features[0],
                                clearable=False,
                            ),
                        ),
                        lg=5,
                    ),
                ],
                className="g-3",
            ),
        ]
    )


def _feature_options(spec: risk.FeatureSpec) -> list[dict[str, str]]:
    return [{"label": plain_name(f), "value": f} for f in spec.features]


@callback(
    Output("risk-grid", "filterModel"),
    Input("risk-pd-range", "value"),
    State("risk-grid", "filterModel"),
    prevent_initial_call=True,
)
def filter_by_pd(pd_range: list | None, current: dict | None):
    """Show the borrowers whose published PD is in the chosen range (the grid's ``pd`` filter, applied and checked
    again by the server when the grid asks for rows); the other columns' filters stay."""
    low, high = validation.number_range(pd_range, "PD range", lo=0, hi=1) or (0.0, 1.0)
    others = {k: v for k, v in current.items() if k != "pd"} if isinstance(current, dict) else {}
    return others | insights_svc.pd_range_filter(low, high)


@callback(Output("risk-grid", "getRowsResponse"), Input("risk-grid", "getRowsRequest"))
def grid_rows(request: dict | None):
    """One block of the borrowers grid, sorted and filtered by the database (the grid never holds all of them)."""
    if request is None:
        return dash.no_update
    try:
        return rows_block(request, svc.applicant_page)
    except NotTrained:
        return EMPTY_BLOCK


@callback(
    Output("risk-applicant", "data"),
    Input("risk-grid", "selectedRows"),
    Input("risk-search", "value"),
    prevent_initial_call=True,
)
def pick_applicant(selected: list[dict] | None, searched: int | str | None):
    """The borrower picked in the grid or typed in the search box (the bank's id: ``17`` or ``C-00017``)."""
    if dash.ctx.triggered_id == "risk-search":
        return customer_ref(searched) if searched not in (None, "") else dash.no_update
    rows = validation.items(selected, "selected rows", max_len=1)
    if not rows:
        return dash.no_update
    return customer_ref(validation.record(rows[0], "selected row", ["customer_id"])["customer_id"])


def _features(ids: list[dict]) -> list[str]:
    known = svc.get_model().spec.features
    return [validation.choice(i["feature"], "what-if field", known) for i in ids]


@callback(
    Output({"type": "risk-whatif", "feature": ALL}, "value"),
    Input("risk-applicant", "data"),
    State({"type": "risk-whatif", "feature": ALL}, "id"),
)
def fill_what_if(customer_id: int | str, ids: list[dict]):
    """Load the borrower's values into the what-if panel."""
    features = _features(ids)
    if customer_id is None:
        return [dash.no_update] * len(ids)
    values = svc.applicant_features(customer_ref(customer_id))
    return [values[f] for f in features]


@callback(
    Output("risk-waterfall", "figure"),
    Output("risk-decision", "children"),
    Output("risk-reasons", "children"),
    Input({"type": "risk-whatif", "feature": ALL}, "value"),
    Input("risk-app-threshold", "value"),
    State({"type": "risk-whatif", "feature": ALL}, "id"),
)
def score_applicant(values: list, threshold: float, ids: list[dict]):
    """Score the (possibly edited) applicant: waterfall, decision at the cut-off and reason codes."""
    features, threshold = _features(ids), validation.number(threshold, "cut-off", lo=0, hi=1)
    if not ids or any(v is None for v in values):
        return empty_figure("Pick a borrower"), "", []
    if dash.ctx.triggered_id == "risk-app-threshold":
        audit.served("change_cutoff", "applicant cut-off", {"risk-app-threshold": threshold})
    try:
        e = svc.explain(dict(zip(features, values, strict=True)))
    except (DataValidationError, ValueError) as exc:
        return empty_figure("Cannot score these values"), error_card(str(exc)), []
    declined = e.pd >= threshold
    decision = html.Div(
        [
            html.Span(f"PD {e.pd:.1%}", id="risk-pd", className="fs-4 fw-semibold me-3"),
            dbc.Badge(f"band {e.band} ({risk.BAND_NAMES[e.band]})", color="secondary", className="me-2"),
            dbc.Badge(
                "DECLINE" if declined else "APPROVE",
                id="risk-decision-badge",
                color="danger" if declined else "success",
            ),
        ]
    )
    return (
        figs.waterfall_figure(e),
        decision,
        [html.Li(r) for r in e.reasons] or [html.Li("Nothing raised the risk")],
    )


@callback(
    Output("risk-contrib-grid", "rowData"),
    Input({"type": "risk-whatif", "feature": ALL}, "value"),
    State({"type": "risk-whatif", "feature": ALL}, "id"),
)
def show_contributions(values: list, ids: list[dict]):
    """The (possibly edited) applicant's SHAP contributions as table rows (the grid sorts them in the browser)."""
    features = _features(ids)
    if not ids or any(v is None for v in values):
        return []
    try:
        return insights_svc.contribution_rows(svc.explain(dict(zip(features, values, strict=True))))
    except (DataValidationError, ValueError):
        return []


@callback(
    Output("risk-ice", "figure"),
    Input({"type": "risk-whatif", "feature": ALL}, "value"),
    Input("risk-ice-feature", "value"),
    State({"type": "risk-whatif", "feature": ALL}, "id"),
)
def show_ice(values: list, feature: str, ids: list[dict]):
    """How the (possibly edited) applicant's PD moves as one feature varies, beside the portfolio's average."""
    features = _features(ids)
    if not ids or any(v is None for v in values):
        return empty_figure("Pick a borrower")
    try:
        curve = insights_svc.ice(dict(zip(features, values, strict=True)), feature)
    except (DataValidationError, ValueError) as exc:
        return empty_figure(f"Cannot score these values: {exc}"[:120])
    return explain_figs.ice_figure(
        curve.feature, curve.labels, curve.ice, curve.pdp, curve.current, curve.categorical
    )


register_customer_link("risk-grid", __name__)


@callback(
    Output("risk-recourse", "children"),
    Input({"type": "risk-whatif", "feature": ALL}, "value"),
    Input("risk-app-threshold", "value"),
    State({"type": "risk-whatif", "feature": ALL}, "id"),
)
def show_recourse(values: list, threshold: float, ids: list[dict]):
    """For a declined applicant: the smallest changes to amount, term, debt-to-income or balance that approve them."""
    features, threshold = _features(ids), validation.number(threshold, "cut-off", lo=0, hi=1)
    if not ids or any(v is None for v in values) or not threshold:
        return ""
    try:
        rec = svc.recourse(dict(zip(features, values, strict=True)), threshold)
    except (DataValidationError, ValueError):
        return ""
    return recourse_block(rec, "risk-recourse-text")


@callback(
    Output("risk-record-result", "children"),
    Output("risk-record-id", "data"),
    Output("risk-notice-buttons", "hidden"),
    Input("risk-record", "n_clicks"),
    Input("risk-applicant", "data"),
    prevent_initial_call=True,
)
def record_decision(_n: int | None, customer_id: int | None):
    """Record the picked borrower's decision: the server scores their database row with the served model."""
    if dash.ctx.triggered_id != "risk-record" or customer_id is None:
        return "", None, True
    user = signed_in()
    try:
        rec = decisions_svc.record_decision(
            customer_id, role=signed_in_role(), user=user.id if user else "unknown"
        )
    except risk.InvalidApplicant as exc:
        return error_card(f"Not recorded: {exc}"), None, True
    text = (
        f"Recorded as decision {rec.id}: {rec.decision.upper()} at PD {rec.pd:.1%} (cut-off {rec.cutoff:.1%}, "
        f"model {rec.model}/{rec.model_version})."
    )
    return html.Span(text, id="risk-record-text"), rec.id, not rec.declined


@callback(
    Output("risk-notice-download", "data"),
    Input("risk-notice-html", "n_clicks"),
    Input("risk-notice-pdf", "n_clicks"),
    State("risk-record-id", "data"),
    prevent_initial_call=True,
)
def download_notice(_html: int | None, _pdf: int | None, record_id: int | None):
    """The adverse-action notice of the recorded, declined decision (read back from the database)."""
    if record_id is None:
        return dash.no_update
    fmt = "pdf" if dash.ctx.triggered_id == "risk-notice-pdf" else "html"
    content, name, media = decisions_svc.notice(record_id, fmt, role=signed_in_role())
    return dcc.send_bytes(content, name, type=media)
