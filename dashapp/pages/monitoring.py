"""Monitoring (``/monitoring``): fairness of the risk model by gender and age band at a cut-off, and drift of a later
month (PSI per feature and of the score, characteristic stability, alerts when PSI > 0.25).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from bankdata import ArtifactError
from dashapp.components import error_card, figure_card, no_data_card, not_ready_card, page_header
from dashapp.figures import governance as figs
from dashapp.figures.theme import empty_figure
from dashapp.services import governance as svc
from dashapp.services import risk as risk_service
from dashapp.services import validation
from dashapp.services.bank import DataUnavailable

dash.register_page(__name__, path="/monitoring", name="Monitoring", title="Ledgerlight · monitoring", order=40,
                   description="Fairness by protected group, PSI drift and characteristic stability of the risk model.")

ATTRIBUTES = ("age_band", "gender")  # the demo bank's protected attributes (gender, age in bands)


def _slider(slider_id: str, low: float, high: float, value: float, marks: dict) -> dcc.Slider:
    return dcc.Slider(id=slider_id, min=low, max=high, step=0.05, value=value, marks=marks,
                      tooltip={"placement": "bottom", "always_visible": True})


def layout(**_query: str) -> html.Div:
    """Fairness controls and charts, then drift controls, the alert list and the PSI charts."""
    header = page_header("Model monitoring", "Fairness at the cut-off and drift of a later month, for the risk model.")
    try:
        report = risk_service.get_portfolio().report
        fair = svc.fairness()
    except ArtifactError as exc:
        return html.Div([header, not_ready_card("Default risk model", risk_service.TRAIN_COMMAND, str(exc))])
    except DataUnavailable as exc:
        return html.Div([header, no_data_card(str(exc))])
    return html.Div([
        header,
        dbc.Card(dbc.CardBody(dbc.Row([
            dbc.Col([dbc.Label("Decline when PD ≥", html_for="monitoring-threshold"),
                     _slider("monitoring-threshold", 0.0, 0.6, round(report["threshold"], 2),
                             {v: f"{v:.0%}" for v in (0, 0.1, 0.2, 0.3, 0.4, 0.6)})], md=8),
            dbc.Col(html.Small(f"Scores: {fair['scores']} PDs of {fair['rows']:,} loans. Protected attributes "
                               "are never model features.", className="text-muted"), md=4)])), className="ll-card mb-3"),
        dbc.Row([dbc.Col(figure_card(f"Fairness by {a}", f"monitoring-fair-{a}", subtitle="approval, TPR, FPR"), lg=6)
                 for a in ATTRIBUTES], className="g-3 mb-2"),
        html.Div(id="monitoring-fair-flags", className="mb-4 small"),
        dbc.Card(dbc.CardBody(dbc.Row([
            dbc.Col([dbc.Label("Population drift of the later month", html_for="monitoring-shift"),
                     _slider("monitoring-shift", -1.0, 2.0, 0.0, {v: f"{v:g}" for v in (-1, 0, 1, 2)})], md=6),
            dbc.Col([dbc.Label("Concept drift (log-odds)", html_for="monitoring-pd-shift"),
                     _slider("monitoring-pd-shift", -1.0, 2.0, 0.0, {v: f"{v:g}" for v in (-1, 0, 1, 2)})], md=6),
        ])), className="ll-card mb-3"),
        dcc.Loading(html.Div(id="monitoring-alerts", className="mb-3")),
        dbc.Row([dbc.Col(figure_card("PSI per feature", "monitoring-psi", height=380), lg=6),
                 dbc.Col(figure_card("Score distribution (PD deciles of training)", "monitoring-score", height=380),
                         lg=6)], className="g-3 mb-3"),
        figure_card("Characteristic stability", "monitoring-stability",
                    controls=dcc.Dropdown(id="monitoring-feature", options=report["features"],
                                          value=report["features"][0], clearable=False, className="mb-2")),
    ])


def _shifts(shift: object, pd_shift: object) -> tuple[float, float]:
    low, high = svc.SHIFT_RANGE
    return (validation.number(shift, "population drift", lo=low, hi=high),
            validation.number(pd_shift, "concept drift", lo=low, hi=high))


@callback([Output(f"monitoring-fair-{a}", "figure") for a in ATTRIBUTES]
          + [Output("monitoring-fair-flags", "children")], Input("monitoring-threshold", "value"))
def update_fairness(threshold: float):
    """Fairness tables at the chosen cut-off (the demo bank's attributes: age band and gender)."""
    threshold = validation.number(threshold, "cut-off", lo=0, hi=1)
    try:
        fair = svc.fairness(threshold)
    except ValueError as exc:
        return empty_figure("Cannot compute"), empty_figure("Cannot compute"), error_card(str(exc))
    attrs = fair["attributes"]
    figures = [figs.fairness_figure(attrs[a]) if a in attrs else empty_figure(f"No {a} in the data")
               for a in ATTRIBUTES]
    flagged = [f"{a}: {', '.join(v['flagged'])}" for a, v in attrs.items() if v["flagged"]]
    text = ("Disparate-impact ratio below 0.8 for " + "; ".join(flagged)) if flagged else \
        "No group's approval rate is below 0.8 of its reference group's."
    gaps = ", ".join(f"{a} {v['max_abs_eo_gap']:.2f}" for a, v in attrs.items() if v["max_abs_eo_gap"] is not None)
    return *figures, html.Span([text, html.Br(), f"Largest equal-opportunity gap (TPR): {gaps}"])


@callback(Output("monitoring-alerts", "children"), Output("monitoring-psi", "figure"), Output("monitoring-score", "figure"),
          Input("monitoring-shift", "value"), Input("monitoring-pd-shift", "value"))
def update_drift(shift: float, pd_shift: float):
    """PSI of a generated later month with the chosen drift."""
    shift, pd_shift = _shifts(shift, pd_shift)
    try:
        rep = svc.drift(shift, pd_shift)
    except ValueError as exc:
        return error_card(str(exc)), empty_figure("Cannot compute"), empty_figure("Cannot compute")
    summary = (f"{rep.rows[1]:,} new loans vs {rep.rows[0]:,} training loans; score PSI {rep.score_psi:.3f}; "
               f"mean PD {rep.mean_pd[0]:.1%} → {rep.mean_pd[1]:.1%}")
    alerts = (dbc.Alert([html.Strong("PSI > 0.25: "), "; ".join(rep.alerts), html.Br(), summary], color="danger",
                        id="monitoring-alert")
              if rep.alerts else dbc.Alert(["Stable: no PSI above 0.25. ", summary], color="success", id="monitoring-alert"))
    return alerts, figs.psi_figure(rep.features), figs.score_bins_figure(rep.score_bins)


@callback(Output("monitoring-stability", "figure"), Input("monitoring-feature", "value"),
          Input("monitoring-shift", "value"), Input("monitoring-pd-shift", "value"))
def update_stability(feature: str, shift: float, pd_shift: float):
    """One feature's characteristic stability for the chosen drift."""
    shift, pd_shift = _shifts(shift, pd_shift)
    feature = validation.choice(feature, "feature", risk_service.get_portfolio().report["features"])
    try:
        return figs.stability_figure(svc.drift(shift, pd_shift).stability, feature)
    except ValueError as exc:
        return empty_figure(str(exc))
