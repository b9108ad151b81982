"""Campaigns: what a campaign did against its holdout, path ``/campaigns`` (``?campaign=ID`` opens one).

Thin: every value comes from ``dashapp.services.campaigns`` and every chart from ``dashapp.figures.campaigns``.
Campaigns are created on the Segments and Recommendations pages (``dashapp.components.campaign_create``).
"""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashapp.auth import signed_in_role
from dashapp.components import error_card, figure_card, kpi_tile, no_data_card, page_header, safe_csv
from dashapp.figures import campaigns as figs
from dashapp.services import campaign_responses as responses_svc
from dashapp.services import campaigns as svc
from dashapp.services import validation
from dashapp.services.bank import DataUnavailable
from dashapp.services.messages import public_message

dash.register_page(
    __name__,
    path="/campaigns",
    name="Campaigns",
    title="Ledgerlight · campaigns",
    order=35,
    query_params={"campaign": svc.campaign_id},
    description="Campaigns measured against their holdout: take-up, uplift, Qini, cost.",
)

TITLE = "Campaigns"
SUBTITLE = (
    "Every campaign keeps a random holdout: take-up of the contacted against the held out, the uplift with "
    "its 95% interval overall and per segment, the Qini curve of the ranking used, and what it cost."
)
EMPTY = "Create a campaign from the Segments filters or a product's campaign list"
MAX_UPLOAD_BYTES = 50_000_000
UPLOAD_STYLE = {
    "border": "1px dashed #8a99ad",
    "borderRadius": "6px",
    "padding": "14px",
    "textAlign": "center",
    "cursor": "pointer",
    "background": "#f8fafc",
}
NUMBER = {"whiteSpace": "nowrap"}


def _pct(value: float | None, digits: int = 1) -> str:
    return (
        "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}%}"
    )


def _pts(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f} pts"


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _empty_state() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5("No campaigns yet", className="card-title"),
                html.P(
                    [
                        EMPTY,
                        ": on ",
                        dcc.Link("Segments", href="/segments"),
                        " (the current filter, with a product) or ",
                        dcc.Link("Recommendations", href="/recommendations"),
                        " (the top of a product's list). ",
                        "Each keeps a random control group to measure it by.",
                    ],
                    className="mb-0",
                ),
            ]
        ),
        className="ll-card ll-notice my-3",
        id="campaigns-empty",
    )


def _controls(options: list[dict[str, Any]], chosen: int) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Campaign", className="small mb-0", html_for="campaigns-picker"),
                            dcc.Dropdown(
                                id="campaigns-picker", options=options, value=chosen, clearable=False
                            ),
                        ],
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Cost per contact", className="small mb-0", html_for="campaigns-cost"),
                            dbc.Input(
                                id="campaigns-cost",
                                type="number",
                                min=0,
                                step="any",
                                placeholder="e.g. 2.5",
                                debounce=True,
                            ),
                        ],
                        xs=6,
                        lg=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Margin per sale", className="small mb-0", html_for="campaigns-margin"),
                            dbc.Input(
                                id="campaigns-margin",
                                type="number",
                                min=0,
                                step="any",
                                placeholder="e.g. 120",
                                debounce=True,
                            ),
                        ],
                        xs=6,
                        lg=3,
                    ),
                ],
                className="g-2",
            )
        ),
        className="ll-card mb-3",
    )


def _actions(fairness: Any) -> dbc.Row:
    export = dbc.Card(
        [
            dbc.CardHeader("Contact list"),
            dbc.CardBody(
                [
                    html.Div(fairness, id="campaigns-fairness"),
                    dbc.Button(
                        "Export treated customers (CSV)", id="campaigns-export", color="primary", size="sm"
                    ),
                    html.Small(
                        " The holdout is never exported: it is kept to measure the campaign.",
                        className="text-muted d-block mt-1",
                    ),
                    dcc.Download(id="campaigns-download"),
                ]
            ),
        ],
        className="ll-card h-100",
    )
    responses = dbc.Card(
        [
            dbc.CardHeader("Responses: who took the product up"),
            dbc.CardBody(
                [
                    dcc.Upload(
                        id="campaigns-upload",
                        max_size=MAX_UPLOAD_BYTES,
                        accept=".csv,text/csv",
                        multiple=False,
                        style=UPLOAD_STYLE,
                        children=html.Div(
                            [
                                "Drop a CSV here or ",
                                html.A("choose a file", className="ll-link"),
                                html.Small(
                                    " columns customer_id, responded_at (ISO date) and optionally product",
                                    className="text-muted d-block",
                                ),
                            ]
                        ),
                    ),  # fmt: skip
                    dbc.Button(
                        "Record responses from new holdings",
                        id="campaigns-holdings",
                        color="secondary",
                        size="sm",
                        outline=True,
                        className="mt-2",
                    ),
                    html.Div(id="campaigns-responses-feedback", className="small mt-2", role="status"),
                ]
            ),
        ],
        className="ll-card h-100",
    )
    return dbc.Row([dbc.Col(export, lg=6), dbc.Col(responses, lg=6)], className="g-3 mb-3")


def layout(campaign: int | None = None, **_query: str) -> html.Div:
    """The picker (newest first, or ``?campaign=ID``), the measurement, the contact list and responses."""
    header = page_header(TITLE, SUBTITLE, how_to="campaigns")
    asked = None if campaign is None else svc.campaign_id(campaign)
    try:
        options = svc.campaign_options(include=asked)
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    if not options:
        return html.Div([header, _empty_state()])
    known = [int(o["value"]) for o in options]
    chosen = asked if asked in known else known[0]  # no such campaign: the newest
    body, fairness = _view(chosen, None, None)
    return html.Div(
        [
            header,
            dcc.Store(id="campaigns-refresh", data=0),
            _controls(options, chosen),
            html.Div(body, id="campaigns-body"),
            _actions(fairness),
        ]
    )


def _header_card(view: svc.CampaignView) -> dbc.Card:
    c, a = view.campaign, view.campaign.audience
    if c.source == "segments":
        what = "Segments filter: " + _filter_text(a.get("filter") or {})
    elif c.source == "recommendations":
        what = (
            f"top {a.get('n', '?'):,} of the {a.get('model', '?')} campaign list"
            if isinstance(a.get("n"), int)
            else "a campaign list"
        )
    else:
        what = f"from the command line ({c.source})"
    versions = ", ".join(f"{k.removesuffix('_version')} {v}" for k, v in sorted(a.items())
                         if k.endswith("_version") and v)  # fmt: skip
    facts = [
        ("Product", f"{view.product.name} ({view.product.family})"),
        ("Audience", what),
        ("Created", f"{c.created_at:%Y-%m-%d %H:%M} UTC by {c.created_by}"),
        (
            "Contacted / held out",
            f"{c.n_treated:,} / {c.n_control:,} ({c.control_share:.0%} held out, seed {c.seed})",
        ),
        ("Response window", f"{c.window_days} days, to {c.window_ends_at:%Y-%m-%d}"),
    ]
    if versions:
        facts.append(("Models served", versions))
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span(c.name, id="campaigns-name"),
                    dbc.Badge(f"#{c.campaign_id}", color="light", text_color="dark", className="ms-2"),
                ]
            ),
            dbc.CardBody(
                html.Dl(
                    [part for k, v in facts for part in (html.Dt(k), html.Dd(v))],
                    className="ll-facts small mb-0",
                )
            ),
        ],
        className="ll-card h-100",
        id="campaigns-header",
    )


def _filter_text(flt: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("segments", "segments"),
        ("regions", "regions"),
        ("products", "holding"),
        ("risk_bands", "risk bands"),
    ):
        if flt.get(key):
            parts.append(f"{label} {', '.join(map(str, flt[key]))}")
    for key in ("age", "income"):
        if flt.get(key):
            lo, hi = flt[key]
            parts.append(f"{key} {lo:,.0f}-{hi:,.0f}")
    if flt.get("exclude_ineligible"):
        parts.append("not eligible for credit left out")
    return "; ".join(parts) or "everybody"


def _kpis(view: svc.CampaignView) -> dbc.Row:
    o = view.report["overall"]
    interval = (
        f"95% CI {_pts(o['uplift_low'])} to {_pts(o['uplift_high'])}"
        if o["uplift_low"] is not None
        else "no interval yet"
    )
    tiles = [
        kpi_tile(
            "Take-up, contacted",
            _pct(o["takeup_treated"]),
            f"{o['responders_treated']:,} of {o['n_treated']:,}",
            tile_id="campaigns-takeup-treated",
        ),
        kpi_tile(
            "Take-up, held out",
            _pct(o["takeup_control"]),
            f"{o['responders_control']:,} of {o['n_control']:,}",
            tile_id="campaigns-takeup-control",
        ),
        kpi_tile("Uplift", _pts(o["uplift"]), interval, tile_id="campaigns-uplift"),
        kpi_tile(
            "Extra customers",
            f"{o['incremental']:,.0f}" if o["incremental"] is not None else "n/a",
            "the take-ups the contact added",
            tile_id="campaigns-incremental",
        ),
    ]
    return dbc.Row([dbc.Col(t) for t in tiles], className="g-3 row-cols-2 row-cols-lg-4")


def _segment_table(view: svc.CampaignView) -> dbc.Card:
    rows = []
    for s in view.report["segments"]:
        note = dbc.Badge("too small to read", color="warning", text_color="dark") if s["small"] else ""
        ci = (
            ""
            if s["uplift_low"] is None
            else f"{s['uplift_low'] * 100:+.1f} to {s['uplift_high'] * 100:+.1f}"
        )
        rows.append(html.Tr([html.Td(s["segment"], style={"minWidth": "10rem"}),
                             *(html.Td(v, style=NUMBER) for v in (f"{s['n_treated']:,}", f"{s['n_control']:,}",
                                                                  _pct(s["takeup_treated"]), _pct(s["takeup_control"]))),
                             html.Td([_pts(s["uplift"]), html.Br(), html.Small(ci, className="text-muted")],
                                     style=NUMBER),
                             html.Td(note, style=NUMBER)]))  # fmt: skip
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Segment",
                    "Contacted",
                    "Held out",
                    "Take-up, contacted",
                    "Take-up, held out",
                    "Uplift (95% CI, pts)",
                    "",
                )
            ]
        )
    )
    table = dbc.Table(
        [head, html.Tbody(rows)], size="sm", hover=True, className="small mb-0", id="campaigns-segments"
    )
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    "Uplift by segment",
                    html.Small("the holdout was drawn within each segment", className="ll-card-subtitle"),
                ]
            ),
            dbc.CardBody(html.Div(table, className="table-responsive")),
        ],
        className="ll-card h-100",
    )


def _qini(view: svc.CampaignView) -> Any:
    report = view.report
    reason = None
    if not report.get("ranked"):
        reason = (
            f"No Qini curve: this audience was not ranked. {view.scored:,} of {view.members:,} members have a "
            "score for the product; a campaign from a product's campaign list is ranked by its model."
        )
    elif not report["responses"]:
        reason = "No Qini curve yet: it is drawn from the responses, and none are recorded."
    if reason is not None:
        return dbc.Card(
            [
                dbc.CardHeader("Qini curve"),
                dbc.CardBody(html.P(reason, className="text-muted mb-0", id="campaigns-qini-reason")),
            ],
            className="ll-card h-100",
        )
    tops = " · ".join(f"top {p}%: {_pts(report.get(f'uplift_top_{p}'))}" for p in (10, 20, 30))
    return figure_card(
        "Qini curve of the ranking used",
        "campaigns-qini",
        figs.qini_figure(report),
        subtitle=f"Uplift {tops}",
        height=340,
    )


def _economics(view: svc.CampaignView) -> Any:
    econ = view.report.get("economics")
    if econ is None:
        return html.Small(
            "Give a cost per contact (and a margin) above for the cost per extra customer.",
            className="text-muted d-block mb-3",
            id="campaigns-economics",
        )
    low, high = econ["cost_per_incremental_range"]
    rng = "" if low is None or high is None else f" (95% range {_money(low)} to {_money(high)})"
    tiles = [
        kpi_tile("Cost of the contacts", _money(econ["cost"]), tile_id="campaigns-cost-total"),
        kpi_tile(
            "Cost per extra customer",
            _money(econ["cost_per_incremental"]),
            ("no extra customers yet" if econ["cost_per_incremental"] is None else rng.strip(" ()")),
            tile_id="campaigns-cost-per",
        ),
    ]
    if "net" in econ:
        tiles.append(
            kpi_tile("Net", _money(econ["net"]), "extra customers x margin - cost", tile_id="campaigns-net")
        )
    return dbc.Row(
        [dbc.Col(t) for t in tiles], className="g-3 mb-3 row-cols-1 row-cols-sm-3", id="campaigns-economics"
    )


def _ratio(ratio: float | None, flag: bool) -> Any:
    if ratio is None or math.isnan(ratio):
        return "n/a"
    return dbc.Badge(f"{ratio:.2f}", color="danger", title="below 0.8") if flag else f"{ratio:.2f}"


def _fairness(view: svc.CampaignView) -> Any:
    if view.fairness is None:
        return html.Small(
            f"{view.product.name} is not a credit product: no fair-offer check needed.",
            className="text-muted d-block mb-2",
            id="campaigns-fair",
        )
    blocks: list[Any] = [
        html.H6("Fair offers (credit product)", className="small fw-semibold mb-1"),
        html.Small(
            "Chosen: the group's customers in the audience. Ratio: the group's rate over the "
            "most favoured group's; red below 0.8 (the four-fifths rule).",
            className="text-muted d-block mb-2",
        ),
    ]
    for f in view.fairness:
        rows = [html.Tr([html.Td(v, style=NUMBER) for v in (
                    f"{r['group']} (small)" if r["small"] else r["group"], f"{r['customers']:,}", f"{r['selected']:,}",
                    _pct(r["rate"]), _ratio(r["ratio"], r["flag"]))])
                for r in f.table.to_dict("records")]  # fmt: skip
        head = html.Thead(html.Tr([html.Th(h, style=NUMBER) for h in (f.attribute.capitalize(), "Customers",
                                                                       "Chosen", "Rate", "Ratio")]))  # fmt: skip
        blocks.append(
            html.Div(
                dbc.Table([head, html.Tbody(rows)], size="sm", className="small mb-2"),
                className="table-responsive",
            )
        )
    flagged = [g for f in view.fairness for g in f.flagged]
    blocks.append(
        dbc.Alert(
            f"Adverse impact flagged for {', '.join(flagged)}: review the audience before export.",
            color="warning",
            className="small py-2",
        )
        if flagged
        else html.Small("No group below 0.8.", className="text-success d-block mb-2")
    )
    return html.Div(blocks, id="campaigns-fair")


def _view(campaign: Any, cost: Any, margin: Any) -> tuple[Any, Any]:
    """The body (header, take-up, segments, Qini, economics) and the fair-offer panel of one campaign."""
    try:
        view = svc.campaign_view(campaign, cost, margin)
    except validation.InputError as exc:
        return error_card(str(exc)), ""
    except DataUnavailable as exc:
        return no_data_card(str(exc)), ""
    responses = view.report["responses"]
    note = (
        html.Small(f"{responses:,} response(s) recorded.", className="text-muted")
        if responses
        else dbc.Alert(
            "No responses recorded yet: upload a file or record them from new holdings below.",
            color="info",
            className="small py-2 mb-0",
        )
    )
    body = html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(_header_card(view), lg=5),
                    dbc.Col([_kpis(view), html.Div(note, className="my-3"), _economics(view)], lg=7),
                ],
                className="g-3 mb-3",
            ),  # fmt: skip
            dbc.Row([dbc.Col(_segment_table(view), lg=7), dbc.Col(_qini(view), lg=5)], className="g-3 mb-3"),
        ]
    )
    return body, _fairness(view)


@callback(
    Output("campaigns-body", "children"),
    Output("campaigns-fairness", "children"),
    Input("campaigns-picker", "value"),
    Input("campaigns-cost", "value"),
    Input("campaigns-margin", "value"),
    Input("campaigns-refresh", "data"),
    prevent_initial_call=True,
)  # the layout holds the first view
def show_campaign(campaign, cost, margin, _refresh):
    """Measure the picked campaign (again after responses were recorded, or with a new cost or margin)."""
    return _view(svc.campaign_id(campaign), cost, margin)


@callback(
    Output("campaigns-download", "data"),
    Input("campaigns-export", "n_clicks"),
    State("campaigns-picker", "value"),
    prevent_initial_call=True,
)
def export_treated(_clicks, campaign):
    """Download whom to contact (the treated, in rank order); the holdout stays out."""
    frame, name = svc.export_treated(svc.campaign_id(campaign), signed_in_role())
    return safe_csv(frame, name)


@callback(
    Output("campaigns-responses-feedback", "children"),
    Output("campaigns-refresh", "data"),
    Input("campaigns-upload", "contents"),
    Input("campaigns-holdings", "n_clicks"),
    State("campaigns-upload", "filename"),
    State("campaigns-picker", "value"),
    State("campaigns-refresh", "data"),
    prevent_initial_call=True,
)
def record_responses(contents, _clicks, filename, campaign, refresh):
    """Record the uploaded file's responses, or the take-ups found in new holdings; then measure again."""
    refresh = validation.whole_number(refresh, "refresh", lo=0, default=0)
    campaign = svc.campaign_id(campaign)
    try:
        if ctx.triggered_id == "campaigns-upload":
            if contents is None:
                return no_update, no_update
            message = responses_svc.record_upload(campaign, contents, filename)
        else:
            message = responses_svc.record_holdings(campaign)
    except ValueError as exc:  # UploadRefused naming the rows, or a file the store refuses: nothing recorded
        return html.Span(public_message(exc), className="text-danger", id="campaigns-upload-error"), no_update
    return html.Span(message, className="text-success"), refresh + 1
