"""Monitoring (``/monitoring``): the back-test of the risk model on real outcomes (the default tab:
predicted vs realised default rate by band with traffic lights, by month with ROC-AUC and PSI), the what-if
drift of a generated later month (PSI per feature and of the score, characteristic stability, alerts when
PSI > 0.25) and fairness by gender and age band at a cut-off.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashapp.components import error_card, figure_card, no_data_card, not_ready_card, page_header
from dashapp.components.backtest import band_table
from dashapp.components.sliders import value_slider
from dashapp.figures import backtest as bt_figs
from dashapp.figures import governance as figs
from dashapp.figures.theme import empty_figure
from dashapp.pagecache import cached_page
from dashapp.services import backtest as bt_svc
from dashapp.services import governance as svc
from dashapp.services import risk as risk_service
from dashapp.services import validation
from dashapp.services.bank import DataUnavailable
from dashapp.services.served import NotTrained

dash.register_page(
    __name__,
    path="/monitoring",
    name="Monitoring",
    title="Ledgerlight · monitoring",
    order=40,
    description="Back-test on real outcomes, fairness by protected group, PSI drift and "
    "characteristic stability of the risk model.",
)

ATTRIBUTES = ("age_band", "gender")  # the demo bank's protected attributes (gender, age in bands)
LIGHT_ROW_PX = 36  # a traffic-light row holds two lines of text (realised, then "vs" predicted)


def _slider(slider_id: str, low: float, high: float, value: float, marks: dict, step: float) -> dcc.Slider:
    return value_slider(slider_id, low, high, value, step=step, marks=marks)


def _step(grid: list[float]) -> float:
    """The even spacing of a published grid (the slider snaps to its points)."""
    gaps = sorted({round(b - a, 4) for a, b in zip(grid, grid[1:], strict=False)})
    return gaps[0] if gaps else 1.0


@cached_page(stamp=bt_svc.stamp)
def layout(**_query: str) -> html.Div:
    """The back-test (default tab) and the what-if drift of a generated month (second tab), then fairness, all
    from published or stored evidence."""
    header = page_header(
        "Model monitoring",
        "Back-test on real outcomes, what-if drift of a generated month "
        "and fairness at the cut-off, for the risk model.",
        how_to="monitoring",
    )
    try:
        report = risk_service.served().report
        fair = svc.fairness()
        cutoffs, drifts = svc.fairness_grid(), svc.drift_grid()
        backtest = bt_svc.backtest()
    except NotTrained as exc:
        return html.Div([header, not_ready_card("Default risk model", exc.command, str(exc))])
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    except ValueError as exc:  # published, but the data holds no protected attribute
        return html.Div([header, error_card(str(exc))])
    tabs = dbc.Tabs(
        [
            dbc.Tab(
                _backtest_section(backtest),
                label="Back-test (real outcomes)",
                tab_id="monitoring-tab-backtest",
                id="monitoring-tab-backtest-label",
            ),
            dbc.Tab(
                _what_if_section(report, drifts),
                label="What-if (generated month)",
                tab_id="monitoring-tab-whatif",
                id="monitoring-tab-whatif-label",
            ),
        ],
        id="monitoring-tabs",
        active_tab="monitoring-tab-backtest",
        class_name="mb-3",
    )
    return html.Div([header, tabs, *_fairness_section(fair, cutoffs)])


def _backtest_section(doc: dict | None) -> html.Div:
    """The stored back-test: a summary line, the traffic-light table by band and the charts by month."""
    if doc is None:
        empty = dbc.Alert(
            dcc.Markdown(bt_svc.HOW_TO, className="mb-0"), color="info", id="monitoring-backtest-empty"
        )
        return html.Div(empty, className="pt-3")
    o, truth = doc["overall"], bool(doc.get("has_true_pd"))
    auc = "–" if o["roc_auc"] is None else f"{o['roc_auc']:.3f}"
    summary = (
        f"{doc['model']}/{doc['version']}, trained on {doc['training_loans']:,} loans issued up to "
        f"{doc['trained_through']}, scored on the {doc['later_loans']:,} loans issued since "
        f"({doc['first_month']} to {doc['last_month']}): mean PD {o['mean_pd']:.2%}, "
        f"realised {o['realised']:.2%}"
        + (f", true PD {o['true_pd']:.2%}" if truth and o.get("true_pd") is not None else "")
        + f"; ROC-AUC {auc}; score PSI {o['psi']:.3f} ({o['psi_status']}). "
        f"Computed {doc['computed_at']}."
    )
    table = band_table(doc["bands"], has_true_pd=truth, table_id="monitoring-backtest-table")
    rates = bt_figs.rates_figure(doc["months"], has_true_pd=truth)
    rates_subtitle = "predicted (mean PD) vs realised" + (", true PD" if truth else "")
    return html.Div(
        [
            html.P(summary, className="small text-muted mt-3", id="monitoring-backtest-summary"),
            dbc.Card(
                [
                    dbc.CardHeader("Predicted vs realised default rate by risk band"),
                    dbc.CardBody([table, html.Small(doc["rule"], className="text-muted")]),
                ],
                className="ll-card mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Default rate by issued month",
                            "monitoring-backtest-rates",
                            rates,
                            subtitle=rates_subtitle,
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        figure_card(
                            "ROC-AUC and score PSI by month",
                            "monitoring-backtest-auc",
                            bt_figs.auc_psi_figure(doc["months"]),
                            subtitle="PSI of the PD against the training loans; alert above 0.25",
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            figure_card(
                "Traffic lights by month and band",
                "monitoring-backtest-lights",
                bt_figs.lights_figure(doc["month_bands"]),
                subtitle="the same one-sided binomial test for each band's loans of each month",
                height=max(240, LIGHT_ROW_PX * len(doc["months"]) + 90),
            ),
        ],
        className="mb-4",
    )


def _fairness_section(fair: dict, cutoffs: dict) -> list:
    """The cut-off slider, the fairness charts and their flags."""
    *fair_figures, fair_flags = _fairness_view(cutoffs["trained"])
    thresholds = cutoffs["thresholds"]
    low, high = min(thresholds), max(thresholds)
    return [
        html.H5("Fairness at the cut-off", className="mb-3", id="monitoring-fairness-title"),
        dbc.Card(
            dbc.CardBody(
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Decline when PD ≥", html_for="monitoring-threshold"),
                                _slider(
                                    "monitoring-threshold",
                                    low,
                                    high,
                                    cutoffs["trained"],
                                    {v: f"{v:.0%}" for v in (0, 0.1, 0.2, 0.3, 0.4, 0.6) if low <= v <= high},
                                    _step(thresholds),
                                ),
                            ],
                            md=8,
                        ),
                        dbc.Col(
                            html.Small(
                                f"Scores: {fair['scores']} PDs of {fair['rows']:,} loans. Protected attributes "
                                f"are never model features. Cut-offs in steps of {_step(thresholds) * 100:g} points (the "
                                f"training cut-off, {cutoffs['trained']:.1%}, too).",
                                className="text-muted",
                            ),
                            md=4,
                        ),
                    ]
                )
            ),
            className="ll-card mb-3",
        ),
        dbc.Row(
            [
                dbc.Col(
                    figure_card(
                        f"Fairness by {a}", f"monitoring-fair-{a}", fig, subtitle="approval, TPR, FPR"
                    ),
                    lg=6,
                )
                for a, fig in zip(ATTRIBUTES, fair_figures, strict=True)
            ],
            className="g-3 mb-2",
        ),
        html.Div(fair_flags, id="monitoring-fair-flags", className="mb-4 small"),
    ]


def _what_if_section(report: dict, drifts: dict) -> html.Div:
    """The generated later month: drift sliders, alerts, PSI and score charts, characteristic stability."""
    if drifts.get("unavailable"):
        return html.Div(
            dbc.Alert(drifts["unavailable"], color="info", id="monitoring-drift-unavailable"),
            className="pt-3",
        )
    alerts, psi, score = _drift_view(0.0, 0.0)
    stability = _stability_view(report["features"][0], 0.0, 0.0)
    shifts, pd_shifts = drifts["shift"], drifts["pd_shift"]
    later = (
        f"The later month is generated for {drifts['later_customers']:,} new customers (drawn with the bank's "
        f"persona mix, tilted by the population drift) and compared with a random sample of "
        f"{drifts['expected_loans']:,} of the {drifts['training_loans']:,} training loans; every report was "
        "computed when the model was published."
    )
    return html.Div(
        [
            dbc.Card(
                dbc.CardBody(
                    [
                        dbc.Row(
                            [
                                dbc.Col(
                                    [
                                        dbc.Label(
                                            "Population drift of the later month", html_for="monitoring-shift"
                                        ),
                                        _slider(
                                            "monitoring-shift",
                                            min(shifts),
                                            max(shifts),
                                            0.0,
                                            {v: f"{v:g}" for v in shifts},
                                            _step(shifts),
                                        ),
                                    ],
                                    md=6,
                                ),
                                dbc.Col(
                                    [
                                        dbc.Label("Concept drift (log-odds)", html_for="monitoring-pd-shift"),
                                        _slider(
                                            "monitoring-pd-shift",
                                            min(pd_shifts),
                                            max(pd_shifts),
                                            0.0,
                                            {v: f"{v:g}" for v in pd_shifts},
                                            _step(pd_shifts),
                                        ),
                                    ],
                                    md=6,
                                ),
                            ]
                        ),
                        html.Small(later, className="text-muted", id="monitoring-batch-note"),
                    ]
                ),
                className="ll-card mb-3 mt-3",
            ),
            dcc.Loading(html.Div(alerts, id="monitoring-alerts", className="mb-3")),
            dbc.Row(
                [
                    dbc.Col(figure_card("PSI per feature", "monitoring-psi", psi, height=380), lg=6),
                    dbc.Col(
                        figure_card(
                            "Score distribution (PD deciles of training)",
                            "monitoring-score",
                            score,
                            height=380,
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            figure_card(
                "Characteristic stability",
                "monitoring-stability",
                stability,
                controls=dcc.Dropdown(
                    id="monitoring-feature",
                    options=report["features"],
                    value=report["features"][0],
                    clearable=False,
                    className="mb-2",
                ),
            ),
        ],
        className="mb-4",
    )


def _shifts(shift: object, pd_shift: object) -> tuple[float, float]:
    return (
        validation.number(shift, "population drift", lo=svc.SHIFT_RANGE[0], hi=svc.SHIFT_RANGE[1]),
        validation.number(pd_shift, "concept drift", lo=svc.PD_SHIFT_RANGE[0], hi=svc.PD_SHIFT_RANGE[1]),
    )


def _fairness_view(threshold: float) -> tuple:
    """The fairness charts (one per attribute) and the flags line at a cut-off."""
    try:
        fair = svc.fairness(threshold)
    except (ValueError, NotTrained) as exc:
        return *(empty_figure("Cannot compute") for _ in ATTRIBUTES), error_card(str(exc))
    attrs = fair["attributes"]
    figures = [
        figs.fairness_figure(attrs[a]) if a in attrs else empty_figure(f"No {a} in the data")
        for a in ATTRIBUTES
    ]
    flagged = [f"{a}: {', '.join(v['flagged'])}" for a, v in attrs.items() if v["flagged"]]
    text = (
        ("Disparate-impact ratio below 0.8 for " + "; ".join(flagged))
        if flagged
        else "No group's approval rate is below 0.8 of its reference group's."
    )
    gaps = ", ".join(
        f"{a} {v['max_abs_eo_gap']:.2f}" for a, v in attrs.items() if v["max_abs_eo_gap"] is not None
    )
    return *figures, html.Span([text, html.Br(), f"Largest equal-opportunity gap (TPR): {gaps}"])


def _drift_view(shift: float, pd_shift: float) -> tuple:
    """The alert, the PSI chart and the score chart of a later month with this drift."""
    try:
        rep = svc.drift(shift, pd_shift)
    except (ValueError, NotTrained) as exc:
        return error_card(str(exc)), empty_figure("Cannot compute"), empty_figure("Cannot compute")
    truth = svc.true_default_rate(shift, pd_shift)
    summary = (
        f"{rep.rows[1]:,} new loans vs {rep.rows[0]:,} training loans; score PSI {rep.score_psi:.3f}; "
        f"mean PD {rep.mean_pd[0]:.1%} → {rep.mean_pd[1]:.1%}"
    )
    if truth is not None:
        summary += (
            f"; true default rate of the later month {truth:.1%} (concept drift moves it, not the PSI: "
            "only outcomes reveal it)"
        )
    alerts = (
        dbc.Alert(
            [html.Strong("PSI > 0.25: "), "; ".join(rep.alerts), html.Br(), summary],
            color="danger",
            id="monitoring-alert",
        )
        if rep.alerts
        else dbc.Alert(["Stable: no PSI above 0.25. ", summary], color="success", id="monitoring-alert")
    )
    return alerts, figs.psi_figure(rep.features), figs.score_bins_figure(rep.score_bins)


def _stability_view(feature: str, shift: float, pd_shift: float):
    """One feature's characteristic stability chart for this drift."""
    try:
        return figs.stability_figure(svc.drift(shift, pd_shift).stability, feature)
    except (ValueError, NotTrained) as exc:
        return empty_figure(str(exc))


@callback(
    [Output(f"monitoring-fair-{a}", "figure") for a in ATTRIBUTES]
    + [Output("monitoring-fair-flags", "children")],
    Input("monitoring-threshold", "value"),
    prevent_initial_call=True,
)
def update_fairness(threshold: float):
    """Fairness tables at the chosen cut-off (the demo bank's attributes: age band and gender)."""
    return _fairness_view(validation.number(threshold, "cut-off", lo=0, hi=1))


@callback(
    Output("monitoring-alerts", "children"),
    Output("monitoring-psi", "figure"),
    Output("monitoring-score", "figure"),
    Input("monitoring-shift", "value"),
    Input("monitoring-pd-shift", "value"),
    prevent_initial_call=True,
)
def update_drift(shift: float, pd_shift: float):
    """PSI of a generated later month with the chosen drift."""
    return _drift_view(*_shifts(shift, pd_shift))


@callback(
    Output("monitoring-stability", "figure"),
    Input("monitoring-feature", "value"),
    Input("monitoring-shift", "value"),
    Input("monitoring-pd-shift", "value"),
    prevent_initial_call=True,
)
def update_stability(feature: str, shift: float, pd_shift: float):
    """One feature's characteristic stability for the chosen drift."""
    feature = validation.choice(feature, "feature", risk_service.served().report["features"])
    return _stability_view(feature, *_shifts(shift, pd_shift))
