"""Segments: customer segments to filter, understand, rename and export, path ``/segments``."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from bankdata import category_label, feature_label, format_value
from dashapp import policy
from dashapp.auth import signed_in, signed_in_role
from dashapp.components import figure_card, kpi_tile, not_ready_card, page_header, safe_csv
from dashapp.components.campaign_create import CreateCampaign, sync_audience
from dashapp.figures import segments as figs
from dashapp.figures.theme import empty_figure
from dashapp.pagecache import cached_page
from dashapp.policy import Capability
from dashapp.services import campaigns as campaigns_svc
from dashapp.services import segments as svc
from dashapp.services import validation
from dashapp.services.messages import public_message
from dashapp.services.served import NotTrained

dash.register_page(
    __name__,
    path="/segments",
    name="Segments",
    title="Ledgerlight · segments",
    order=20,
    description="Customer segments: filter, compare, rename and export.",
)

TITLE = "Customer segments"
SUBTITLE = (
    "Behavioural segments from transactions and profiles: filter them, compare them, name them, export them."
)
TRAIN = "ledgerlight segments train"
RISK_FILTER = "segments-filter-risk"
FILTERS = (
    "segments-filter-segment",
    "segments-filter-age",
    "segments-filter-income",
    "segments-filter-region",
    "segments-filter-product",
    "segments-filter-risk",
)


def _fmt(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _kpis(pub: svc.Published) -> dbc.Row:
    m, ev = pub.metrics, pub.explained
    tiles = [
        kpi_tile(
            "Segments",
            str(m.get("k", len(pub.segments))),
            "k chosen from the evidence below",
            tile_id="segments-kpi-k",
        ),
        kpi_tile(
            "Customers",
            f"{pub.n_customers:,}",
            f"model version {pub.version}",
            tile_id="segments-kpi-customers",
        ),
        kpi_tile(
            "Silhouette",
            _fmt(m.get("silhouette")),
            "-1 to 1, higher is better",
            tile_id="segments-kpi-silhouette",
        ),
        kpi_tile(
            "Davies-Bouldin", _fmt(m.get("davies_bouldin")), "lower is better", tile_id="segments-kpi-dbi"
        ),
        kpi_tile(
            "PCA view", f"{sum(ev):.0%}", "of the variance shown by the 2D map", tile_id="segments-kpi-pca"
        ),
    ]
    if "ari_personas" in m:
        tiles.append(
            kpi_tile(
                "Agreement with true personas",
                _fmt(m["ari_personas"]),
                "adjusted Rand index (demo bank)",
                tile_id="segments-kpi-ari",
            )
        )
    return dbc.Row([dbc.Col(t) for t in tiles], className="g-3 mb-3 row-cols-1 row-cols-sm-3 row-cols-xl-6")


def _range(label: str, input_id: str, bounds: tuple[float, float] | None, step: float) -> html.Div:
    if bounds is None:
        return html.Div(dcc.RangeSlider(id=input_id, min=0, max=1, value=None, disabled=True), hidden=True)
    lo, hi = bounds
    return html.Div(
        [
            dbc.Label(label, className="small mb-0"),
            dcc.RangeSlider(
                id=input_id,
                min=lo,
                max=hi,
                step=step,
                value=[lo, hi],
                marks=None,
                tooltip={"placement": "bottom", "always_visible": False},
                allowCross=False,
            ),
        ],
        className="mb-2",
    )


def _worded(values: list[str]) -> list[dict[str, str]]:
    """Dropdown options of stored codes, shown in words (:func:`bankdata.category_label`)."""
    return [{"label": category_label(v), "value": v} for v in values]


def _dropdown(
    label: str, input_id: str, options: list[Any], *, hidden: bool = False, hint: str | None = None
) -> html.Div:
    body: list[Any] = [
        dbc.Label(label, className="small mb-0"),
        dcc.Dropdown(id=input_id, options=options, multi=True, placeholder="all"),
    ]
    if hint:
        body.append(html.Small(hint, className="text-muted"))
    return html.Div(body, className="mb-2", hidden=hidden, id=f"{input_id}-wrap")


def _risk_filter(opts: svc.FilterOptions, role: str | None) -> html.Div:
    """Admins keep customers by risk band; other roles may only leave out those not eligible for credit offers."""
    if policy.may(role, Capability.SELECT_BY_RISK_BAND):
        return _dropdown(
            "Risk band (borrowers)", RISK_FILTER, opts.risk_bands or [], hidden=opts.risk_bands is None
        )
    option = {"label": " Leave out customers not eligible for credit offers", "value": svc.EXCLUDE_INELIGIBLE}
    return html.Div(
        dcc.Checklist(id=RISK_FILTER, options=[option], value=[], className="small"),
        className="mb-2",
        hidden=opts.risk_bands is None,
        id=f"{RISK_FILTER}-wrap",
    )


def _filters(
    opts: svc.FilterOptions, role: str | None, count: str, products: list[dict[str, Any]]
) -> dbc.Card:
    risk_hint = (
        None if opts.risk_bands is not None else "train the risk model to filter by credit eligibility"
    )
    return dbc.Card(
        [
            dbc.CardHeader("Filters"),
            dbc.CardBody(
                [
                    _dropdown("Segment", "segments-filter-segment", opts.segments),
                    _range("Age", "segments-filter-age", opts.age, 1),
                    _range("Income", "segments-filter-income", opts.income, 1000),
                    _dropdown("Region", "segments-filter-region", opts.regions, hidden=not opts.regions),
                    _dropdown(
                        "Product held (any of)",
                        "segments-filter-product",
                        _worded(opts.products),
                        hidden=not opts.products,
                    ),
                    _risk_filter(opts, role),
                    html.Small(risk_hint, className="text-muted d-block mb-2") if risk_hint else None,
                    html.Div(count, id="segments-count", className="fw-semibold my-2"),
                    dbc.Button(
                        "Export filtered customers (CSV)", id="segments-export", color="primary", size="sm"
                    ),
                    html.Small(
                        f"A download holds up to {svc.EXPORT_MAX_ROWS:,} customers.",
                        className="text-muted d-block",
                    ),
                    html.Div(id="segments-export-feedback", className="small text-danger mt-1"),
                    dcc.Download(id="segments-download"),
                    CreateCampaign("segments", product_options=products),
                ]
            ),
        ],
        className="ll-card h-100",
    )


def _rename_card(opts: svc.FilterOptions) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Rename a segment"),
            dbc.CardBody(
                [
                    dcc.Dropdown(
                        id="segments-rename-segment",
                        options=opts.segments,
                        placeholder="segment",
                        className="mb-2",
                    ),
                    dbc.Input(
                        id="segments-rename-name", placeholder="new name", maxLength=60, className="mb-2"
                    ),
                    dbc.Button("Save name", id="segments-rename-button", size="sm", color="secondary"),
                    html.Div(id="segments-rename-feedback", className="small mt-2"),
                ]
            ),
        ],
        className="ll-card h-100",
    )


def _rule_text(selection: dict[str, Any], chosen: int, stable_ari: float | None, with_gap: bool) -> str:
    """The rule that chose k, in plain words (the stored rule where it is not a gap rule)."""
    rule = str(selection.get("rule", ""))
    stable = f"stable (bootstrap ARI at least {stable_ari:.2f})" if stable_ari is not None else "stable"
    grey = " Grey: ks below the stability line (dashed), which cannot be chosen."
    if with_gap and "within one standard error" in rule:
        text = (
            f"k = {chosen} is the smallest {stable} k whose gap statistic is within one standard error of the "
            "next k's: one more segment would not explain clearly more than noise would."
        )
    elif with_gap and "largest gap statistic" in rule:
        text = (
            f"k = {chosen} has the largest gap statistic of the {stable} ks: the gap rose over the whole range, "
            "so no k was within one standard error of the next k's."
        )
    else:
        return f"k = {chosen}. Rule: {rule}" if rule else f"k = {chosen}"
    if "no k was stable" in rule:
        return text + " No k was stable, so all were considered."
    return text + grey


def _evidence(pub: svc.Published) -> html.Div:
    table = pd.DataFrame(pub.selection.get("table", []))
    chosen, elbow_k = int(pub.selection.get("k", len(pub.segments))), pub.selection.get("elbow_k")
    stable_ari = pub.stable_ari
    subtitle = _rule_text(pub.selection, chosen, stable_ari, figs.has_gap(table))
    return html.Div(
        [
            dbc.Row(
                dbc.Col(
                    figure_card(
                        "Choosing k: the gap statistic among stable k",
                        "segments-k-evidence",
                        figs.k_evidence_figure(table, chosen, stable_ari),
                        subtitle=subtitle,
                        height=400,
                    )
                ),
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Silhouette and Davies-Bouldin (reported, not used to choose k)",
                            "segments-k-scores",
                            figs.k_scores_figure(table, chosen),
                            subtitle="Both favour the coarsest split of overlapping groups",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        figure_card(
                            "Elbow (diagnostic, not used to choose k)",
                            "segments-elbow",
                            figs.elbow_figure(table, elbow_k),
                            subtitle="Within-segment spread falls as k grows; the bend is shown for reference",
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
        ]
    )


def _names_stamp() -> tuple[tuple[int, str], ...] | None:
    """The segment names as users named them: a rename rebuilds the cached page (no served version changes)."""
    try:
        return tuple(svc.segment_names().items())
    except NotTrained:
        return None


@cached_page(stamp=_names_stamp)
def layout(**_query: str) -> html.Div:
    """Filters, PCA map, sizes, profile cards, means heat map, boxplots, k evidence; or the "not trained" card."""
    header = page_header(TITLE, SUBTITLE, how_to="segments")
    try:
        pub = svc.published()
        opts = svc.filter_options()
    except NotTrained as exc:
        return html.Div([header, not_ready_card("Customer segments", TRAIN, str(exc))])
    box_feature = (
        svc.DEFAULT_BOX_FEATURE if svc.DEFAULT_BOX_FEATURE in opts.box_features else opts.box_features[0]
    )
    box_control = dcc.Dropdown(
        id="segments-box-feature",
        options=[{"label": feature_label(f), "value": f} for f in opts.box_features],
        value=box_feature,
        clearable=False,
        className="mb-2",
    )
    # the unfiltered view is drawn here, so the first view needs no callback (and no empty chart drawn first)
    scatter, sizes, heatmap, boxes, cards, count = _view(svc.SegmentFilter(), box_feature)
    return html.Div(
        [
            header,
            dcc.Store(id="segments-names-changed", data=0),
            _kpis(pub),
            dbc.Row(
                [
                    dbc.Col(_filters(opts, signed_in_role(), count, campaigns_svc.product_options()), lg=3),
                    dbc.Col(
                        figure_card(
                            "Segment map",
                            "segments-scatter",
                            scatter,
                            subtitle="Customers on the first two principal components (sampled when large)",
                            height=420,
                        ),
                        lg=5,
                    ),
                    dbc.Col(
                        figure_card(
                            "Segment sizes",
                            "segments-sizes",
                            sizes,
                            subtitle="Matching the filters, against all",
                            height=420,
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            html.Div(
                cards, id="segments-cards", className="row g-3 mb-3 row-cols-1 row-cols-md-2 row-cols-xl-3"
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Segment means",
                            "segments-heatmap",
                            heatmap,
                            subtitle="Standard deviations from the whole base",
                            height=620,
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        figure_card(
                            "Distribution by segment",
                            "segments-boxes",
                            boxes,
                            controls=box_control,
                            height=560,
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mb-3",
            ),
            _evidence(pub),
            dbc.Row(dbc.Col(_rename_card(opts), lg=4), className="g-3"),
        ]
    )


def _profile_card(row: dict[str, Any]) -> html.Div:
    facts = [
        f"{row['customers']:,} customers ({row['share']:.0%} of the selection)",
        f"{row['revenue_share']:.0%} of the selection's spending",
    ]
    for col in ("age", "income", "monetary", "n_products"):
        if col in row and not pd.isna(row[col]):
            facts.append(f"Median {feature_label(col).lower()}: {format_value(col, row[col])}")
    colour = figs.segment_colour(int(row["segment"]))
    return html.Div(
        dbc.Card(
            dbc.CardBody(
                [
                    html.H6(row["name"], className="mb-1", style={"color": colour}),
                    html.Ul([html.Li(f) for f in facts], className="small mb-1 ps-3"),
                    html.Small(f"Stands out: {row['distinctive']}", className="text-muted"),
                ]
            ),
            className="ll-card h-100",
            style={"borderTop": f"4px solid {colour}"},
        ),
        className="col segments-card",
    )


@callback(
    Output("segments-scatter", "figure"),
    Output("segments-sizes", "figure"),
    Output("segments-heatmap", "figure"),
    Output("segments-boxes", "figure"),
    Output("segments-cards", "children"),
    Output("segments-count", "children"),
    *[Input(i, "value") for i in FILTERS],
    Input("segments-box-feature", "value"),
    Input("segments-names-changed", "data"),
    prevent_initial_call=True,  # the layout holds the unfiltered view
)
def update_view(segment, age, income, region, product, risk, box_feature, _names_changed):
    """Redraw every filter-driven chart and card."""
    flt = svc.SegmentFilter.from_inputs(segment, age, income, region, product, risk, role=signed_in_role())
    box_feature = validation.text(
        box_feature, "boxplot feature", max_len=200, default=svc.DEFAULT_BOX_FEATURE
    )
    return _view(flt, box_feature)


def _view(flt: svc.SegmentFilter, box_feature: str) -> tuple[Any, ...]:
    """The four charts, the profile cards and the count line of one filter (the callback's outputs, in order)."""
    try:
        view = svc.segment_view(flt, box_feature)
    except (NotTrained, ValueError) as exc:
        blank = empty_figure(public_message(exc))
        return blank, blank, blank, blank, [], public_message(exc)
    f = figs.view_figures(view)
    cards = [_profile_card(row) for row in view.cards.to_dict("records")]
    return f.scatter, f.sizes, f.heatmap, f.boxes, cards, _count_text(view)


def _count_text(view: svc.SegmentView) -> str:
    """ "N of M customers match", and where the medians and boxes come from when they are sampled."""
    if view.estimated:
        return (
            f"About {view.n_customers:,} of {view.n_total:,} customers match (estimated from a uniform sample; "
            f"means, medians and boxes from {view.sample_rows:,} matching customers; the export is exact)"
        )
    text = f"{view.n_customers:,} of {view.n_total:,} customers match"
    if view.sampled:
        text += f" · means, medians and boxes from a random sample of {view.sample_rows:,} customers"
    return text


# the "Create campaign" component reads the current filter (copied in the browser, checked on the server)
sync_audience("segments", dict(zip(campaigns_svc.SEGMENT_KEYS, ((i, "value") for i in FILTERS), strict=True)))


@callback(
    Output("segments-download", "data"),
    Input("segments-export", "n_clicks"),
    *[State(i, "value") for i in FILTERS],
    prevent_initial_call=True,
)
def export_csv(_clicks, segment, age, income, region, product, risk):
    """Send the filtered customer list (computed on the server) as CSV; too many customers: say so instead."""
    role = signed_in_role()
    flt = svc.SegmentFilter.from_inputs(segment, age, income, region, product, risk, role=role)
    try:
        frame = svc.export_frame(flt, role)
    except svc.ExportTooLarge as exc:
        dash.set_props("segments-export-feedback", {"children": str(exc)})
        return no_update
    dash.set_props("segments-export-feedback", {"children": ""})
    return safe_csv(frame, "ledgerlight-segments.csv")


def _user() -> str:
    user = signed_in()
    return user.id if user is not None else "anonymous"


@callback(
    Output("segments-rename-feedback", "children"),
    Output("segments-names-changed", "data"),
    Output("segments-filter-segment", "options"),
    Output("segments-rename-segment", "options"),
    Input("segments-rename-button", "n_clicks"),
    State("segments-rename-segment", "value"),
    State("segments-rename-name", "value"),
    State("segments-names-changed", "data"),
    prevent_initial_call=True,
)
def rename(_clicks, segment, name, changed):
    """Store the new name in the database and refresh the names everywhere on the page."""
    changed = validation.whole_number(changed, "names changed", lo=0, default=0)
    if segment is None:
        return "Pick a segment first.", no_update, no_update, no_update
    segment = validation.whole_number(segment, "segment", lo=0, hi=10_000)
    name = validation.text(name, "segment name", max_len=200, default="")
    try:
        names = svc.rename_segment(segment, name, _user())
    except validation.InputError as exc:
        if exc.field != "segment name":
            raise
        return str(exc), no_update, no_update, no_update
    options = [{"label": f"{s}: {n}", "value": s} for s, n in names.items()]
    return f"Segment {segment} is now \u201c{names[segment]}\u201d.", changed + 1, options, options
