"""Risk portfolio: how good and how calibrated the default model is, and what a cut-off costs. Path ``/risk``."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashapp.components import figure_card, kpi_tile, not_ready_card, page_header
from dashapp.components.sliders import PROBABILITY_MARKS, value_slider
from dashapp.figures import explain as explain_figs
from dashapp.figures import report
from dashapp.figures import risk as figs
from dashapp.pagecache import cached_page
from dashapp.services import audit, validation
from dashapp.services import risk as svc
from dashapp.services import risk_insights as insights_svc
from dashapp.services.served import NotTrained
from risk import MODEL_NAME, plain_name

dash.register_page(
    __name__,
    path="/risk",
    name="Risk",
    title="Ledgerlight · risk portfolio",
    order=10,
    description="Default model: metrics of every candidate, ROC/PR/calibration/KS, lift, cut-off, SHAP and "
    "permutation importance.",
)

MAX_COST = 1e9
COST_MISSED_DEFAULT, COST_REJECTED_GOOD = 5, 1  # the cost inputs' starting values
BEESWARM_ROWS = 400
METRICS = ("roc_auc", "pr_auc", "ks", "brier", "brier_raw", "recall", "precision", "f1")


def _metrics_table(report: dict) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th("model + imbalance"), *[html.Th(m) for m in METRICS]]))
    rows = []
    for name, m in report["candidates"].items():
        cells = [html.Td(html.B(name) if name == report["champion"] else name, className="ll-wrap")]
        cells += [html.Td(f"{m[k]['mean']:.3f} ± {m[k]['std']:.3f}") for k in METRICS]
        rows.append(html.Tr(cells))
    # "0.881 ± 0.005" on one line (ll-metrics-table): on a phone it broke into three; the table scrolls instead
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        striped=True,
        hover=True,
        responsive=True,
        id="risk-metrics",
        class_name="ll-metrics-table",
    )


def _cost_controls(threshold: float) -> html.Div:
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Cost of a missed default", html_for="risk-cost-default"),
                            dbc.Input(
                                id="risk-cost-default",
                                type="number",
                                min=0,
                                value=COST_MISSED_DEFAULT,
                                step=0.5,
                            ),
                        ]
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Cost of a rejected good loan", html_for="risk-cost-good"),
                            dbc.Input(
                                id="risk-cost-good", type="number", min=0, value=COST_REJECTED_GOOD, step=0.5
                            ),
                        ]
                    ),
                ],
                className="g-2 mb-2",
            ),
            dbc.Label("Decline when PD ≥", html_for="risk-threshold"),
            value_slider("risk-threshold", 0, 1, round(threshold, 3), step=0.005, marks=PROBABILITY_MARKS),
            dbc.Button(
                "Use the cost-optimal cut-off",
                id="risk-best-threshold",
                size="sm",
                color="secondary",
                className="mt-2",
            ),
        ]
    )


@cached_page
def layout(**_query: str) -> html.Div:
    """Metrics, curves, cut-off and SHAP of the trained model, or the "not trained yet" card."""
    header = page_header(
        "Default risk: portfolio",
        "How well the model ranks and prices risk, and what a cut-off means.",
        how_to="risk",
    )
    try:
        p = svc.get_portfolio()
    except NotTrained as exc:
        return html.Div([header, not_ready_card("Default risk model", exc.command, str(exc))])
    r, champ = p.report, p.calibrated[p.champion]
    treatment = p.champion.partition("+")[2]
    best = {
        n: v for n, v in p.calibrated.items() if n.endswith(f"+{treatment}")
    }  # each family, champion's treatment
    top = p.spec.features[int(p.sample["importance"].argmax())]
    numeric = p.spec.numeric or p.spec.features
    tiles = [
        kpi_tile("Champion", p.champion, f"calibrated ({r['calibration']})", tile_id="risk-kpi-champion"),
        kpi_tile(
            "ROC-AUC",
            f"{r['candidates'][p.champion]['roc_auc']['mean']:.3f}",
            f"{r['folds']}-fold out-of-fold",
        ),
        kpi_tile("Loans", f"{r['rows']:,}", f"{r['default_rate']:.1%} defaulted"),
        kpi_tile(
            "Compared on", f"{r.get('cv_rows', r['rows']):,}", "loans, out-of-fold", tile_id="risk-kpi-cv"
        ),
    ]
    if "oracle" in r:
        tiles.append(
            kpi_tile(
                "Share of the oracle AUC",
                f"{r['oracle']['ratio']:.1%}",
                f"oracle AUC {r['oracle']['oracle_roc_auc']:.3f} from ground truth",
            )
        )
    # every chart is drawn here, so the first view needs no callback (and no empty chart is drawn first)
    gains = insights_svc.gains()
    confusion, cutoff_text = _cutoff(round(r["threshold"], 3), COST_MISSED_DEFAULT, COST_REJECTED_GOOD)
    export = html.Div(
        [
            dbc.Button(
                "Download portfolio (HTML)", id="risk-export-html", size="sm", color="secondary", outline=True
            ),
            html.Small(" the figures of this page in one file that opens offline", className="text-muted"),
            dcc.Download(id="risk-export-download"),
        ],
        className="mb-3",
    )
    return html.Div(
        [
            header,
            export,
            dbc.Row([dbc.Col(t) for t in tiles], className="g-3 mb-3"),
            html.P(r.get("cv_note", ""), className="small text-muted", id="risk-cv-note"),
            dbc.Card(
                [
                    dbc.CardHeader("Every model and imbalance treatment (mean ± std over folds)"),
                    dbc.CardBody(_metrics_table(r)),
                ],
                className="ll-card mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(figure_card("ROC", "risk-roc", figs.roc_figure(p.y, best)), lg=4),
                    dbc.Col(figure_card("Precision-recall", "risk-pr", figs.pr_figure(p.y, best)), lg=4),
                    dbc.Col(
                        figure_card("Calibration", "risk-calibration", figs.calibration_figure(p.y, champ)),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Cut-off"),
                                dbc.CardBody(
                                    [
                                        _cost_controls(r["threshold"]),
                                        html.Div(cutoff_text, id="risk-cutoff-text", className="mt-3"),
                                    ]
                                ),
                            ],
                            className="ll-card h-100",
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        figure_card("Confusion matrix at the cut-off", "risk-confusion", confusion), lg=4
                    ),
                    dbc.Col(figure_card("KS", "risk-ks", figs.ks_figure(p.y, champ)), lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Importance: mean |SHAP| and permutation",
                            "risk-importance",
                            _importance(p),
                            subtitle=_permutation_note(),
                            height=400,
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        figure_card(
                            "SHAP summary (beeswarm)",
                            "risk-beeswarm",
                            _beeswarm(p),
                            height=400,
                            subtitle=f"{min(len(p.sample['y']), BEESWARM_ROWS):,} sampled loans",
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "SHAP dependence",
                            "risk-dependence",
                            _dependence(p, top, "auto"),
                            controls=dbc.Row(
                                [
                                    dbc.Col(
                                        dcc.Dropdown(
                                            id="risk-dependence-feature",
                                            options=p.spec.features,
                                            value=top,
                                            clearable=False,
                                        ),
                                        width=6,
                                    ),
                                    dbc.Col(
                                        dcc.Dropdown(
                                            id="risk-dependence-colour",
                                            options=_colour_options(p),
                                            value="auto",
                                            clearable=False,
                                        ),
                                        width=6,
                                    ),
                                ],
                                className="g-1",
                            ),
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        figure_card(
                            "Feature by outcome",
                            "risk-boxplot",
                            _boxplot(p, numeric[0]),
                            controls=dcc.Dropdown(
                                id="risk-box-feature", options=numeric, value=numeric[0], clearable=False
                            ),
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        figure_card("Cumulative gains", "risk-gains", explain_figs.gains_figure(gains)), lg=4
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(figure_card("Lift", "risk-lift", explain_figs.lift_figure(gains)), lg=4),
                    dbc.Col(
                        figure_card(
                            "Correlation of numeric features",
                            "risk-correlation",
                            figs.correlation_figure(p.spec, p.sample["x"]),
                            height=420,
                        ),
                        lg=8,
                    ),
                ],
                className="g-3 mb-3",
            ),
        ]
    )


@callback(
    Output("risk-threshold", "value"),
    Input("risk-best-threshold", "n_clicks"),
    Input("risk-cost-default", "value"),
    Input("risk-cost-good", "value"),
    prevent_initial_call=True,
)
def use_best_threshold(_clicks: int | None, cost_default: float | None, cost_good: float | None) -> float:
    """Move the slider to the cost-optimal cut-off for the entered costs."""
    missed, rejected = _costs(cost_default, cost_good)
    return round(svc.best_threshold(missed, rejected), 3)


def _costs(cost_default: object, cost_good: object) -> tuple[float, float]:
    missed = validation.number(cost_default, "cost of a missed default", lo=0, hi=MAX_COST, default=0.0)
    rejected = validation.number(cost_good, "cost of a rejected good loan", lo=0, hi=MAX_COST, default=0.0)
    return missed, rejected or 1e-9


@callback(
    Output("risk-confusion", "figure"),
    Output("risk-cutoff-text", "children"),
    Input("risk-threshold", "value"),
    Input("risk-cost-default", "value"),
    Input("risk-cost-good", "value"),
    prevent_initial_call=True,
)
def update_cutoff(threshold: float, cost_default: float | None, cost_good: float | None):
    """Confusion matrix, approval rate and expected loss at the chosen cut-off."""
    threshold = validation.number(threshold, "cut-off", lo=0, hi=1)
    missed, rejected = _costs(cost_default, cost_good)
    if dash.ctx.triggered_id == "risk-threshold":
        audit.served(
            "change_cutoff",
            "risk portfolio cut-off",
            {"risk-threshold": threshold, "risk-cost-default": missed, "risk-cost-good": rejected},
        )
    return _cutoff(threshold, missed, rejected)


def _cutoff(threshold: float, missed: float, rejected: float) -> tuple[Any, list[html.Div]]:
    """The confusion matrix and the approval, default-rate and cost lines at a cut-off."""
    s = svc.cutoff_summary(threshold, missed, rejected)
    text = [
        html.Div(f"Approval rate {s.approval_rate:.1%}", id="risk-approval-rate", className="fw-semibold"),
        html.Div(f"Default rate among approved {s.default_rate_approved:.1%}"),
        html.Div(f"Expected cost {s.expected_loss:,.0f} ({s.cost_per_applicant:.3f} per applicant)"),
    ]
    return figs.confusion_figure(s), text


@callback(
    Output("risk-dependence", "figure"),
    Input("risk-dependence-feature", "value"),
    Input("risk-dependence-colour", "value"),
    prevent_initial_call=True,
)
def update_dependence(feature: str, colour: str | None):
    """SHAP dependence plot of the chosen feature, coloured by the chosen (or the automatic) second feature."""
    p = svc.get_portfolio()
    return _dependence(p, validation.choice(feature, "feature", p.spec.features), colour)


@callback(Output("risk-boxplot", "figure"), Input("risk-box-feature", "value"), prevent_initial_call=True)
def update_boxplot(feature: str):
    """Distribution of the chosen feature for repaid and defaulted loans."""
    p = svc.get_portfolio()
    return _boxplot(p, validation.choice(feature, "feature", p.spec.numeric or p.spec.features))


def _dependence(p: svc.Portfolio, feature: str, colour: str | None) -> Any:
    by = insights_svc.colour_feature(feature, colour)
    return figs.dependence_figure(p.spec, p.sample["x"], p.sample["shap"], feature, color_by=by)


def _colour_options(p: svc.Portfolio) -> list[dict[str, str]]:
    return [
        {"label": "colour: auto", "value": "auto"},
        {"label": "no colour", "value": "none"},
        *({"label": f"colour: {plain_name(f)}", "value": f} for f in p.spec.features),
    ]


def _importance(p: svc.Portfolio) -> Any:
    return explain_figs.importance_comparison_figure(
        p.spec, p.sample["importance"], insights_svc.permutation()
    )


def _permutation_note() -> str:
    perm = insights_svc.permutation()
    if perm is None:
        return "permutation importance appears once the version's scores are published"
    if "unavailable" in perm:
        return perm["unavailable"]
    return f"permutation: {perm['repeats']} shuffles per feature on {perm['held_out']}"


def _beeswarm(p: svc.Portfolio) -> Any:
    return explain_figs.beeswarm_figure(
        p.spec, p.sample["x"], p.sample["shap"], p.sample["importance"], rows=BEESWARM_ROWS
    )


def _portfolio_sections(p: svc.Portfolio) -> list[tuple[str, Any]]:
    """The figures the HTML export holds, with their headings."""
    r, champ = p.report, p.calibrated[p.champion]
    treatment = p.champion.partition("+")[2]
    best = {n: v for n, v in p.calibrated.items() if n.endswith(f"+{treatment}")}
    top = p.spec.features[int(p.sample["importance"].argmax())]
    gains = insights_svc.gains()
    confusion, _ = _cutoff(round(r["threshold"], 3), COST_MISSED_DEFAULT, COST_REJECTED_GOOD)
    return [
        ("ROC", figs.roc_figure(p.y, best)),
        ("Precision-recall", figs.pr_figure(p.y, best)),
        ("Calibration", figs.calibration_figure(p.y, champ)),
        ("KS", figs.ks_figure(p.y, champ)),
        (f"Confusion matrix at the training cut-off ({r['threshold']:.1%})", confusion),
        ("Cumulative gains", explain_figs.gains_figure(gains)),
        ("Lift", explain_figs.lift_figure(gains)),
        ("Importance: mean |SHAP| and permutation", _importance(p)),
        ("SHAP summary (beeswarm)", _beeswarm(p)),
        (f"SHAP dependence: {plain_name(top)}", _dependence(p, top, "auto")),
        ("Correlation of numeric features", figs.correlation_figure(p.spec, p.sample["x"])),
    ]


@callback(
    Output("risk-export-download", "data"), Input("risk-export-html", "n_clicks"), prevent_initial_call=True
)
def export_portfolio(_clicks: int | None):
    """Download the portfolio's figures as one self-contained HTML file (plotly.js inlined; audited)."""
    p = svc.get_portfolio()
    sections = _portfolio_sections(p)
    bundle, script = insights_svc.plotly_script(report.trace_types([f for _, f in sections]))
    meta = (
        f"Model {MODEL_NAME}/{p.version}, champion {p.champion}; {p.report.get('cv_note', '')} "
        f"plotly.js: the {bundle} bundle, inlined."
    )
    page = report.figures_html("Ledgerlight · risk portfolio", meta, sections, script)
    insights_svc.record_export(p.version, [h for h, _ in sections], len(page))
    return dcc.send_string(page, f"ledgerlight-risk-portfolio-{p.version}.html", type="text/html")


def _boxplot(p: svc.Portfolio, feature: str) -> Any:
    return figs.boxplot_figure(p.spec, p.sample["x"], p.sample["y"], feature)
