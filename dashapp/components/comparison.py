"""The champion / challenger panel of the Models page: metrics side by side, flips at the cut-off, fairness."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

LABELS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "ks": "KS",
    "brier": "Brier score",
    "calibration_in_the_large": "Calibration-in-the-large (mean PD - default rate)",
}
FAVOURS = {"challenger": "challenger", "champion": "served", "tie": "tie"}


def _table(columns: list[str], rows: list[list[Any]], table_id: str | None = None) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th(c, scope="col") for c in columns]))
    body = html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])
    return dbc.Table(
        [head, body],
        size="sm",
        bordered=True,
        className="small mb-2",
        responsive=True,
        **({"id": table_id} if table_id else {}),
    )


def _metric(value: float) -> str:
    return f"{value:.4f}"


def _metrics_table(report: dict[str, Any]) -> dbc.Table:
    rows = [
        [
            LABELS.get(name, name.replace("_", " ")),
            _metric(p["champion"]),
            _metric(p["challenger"]),
            f"{p['difference']:+.4f}",
            FAVOURS[p["better"]],
        ]
        for name, p in report["metrics"].items()
    ]
    return _table(["Metric", "Served", "Challenger", "Change", "Favours"], rows, "models-compare-metrics")


def _flips(report: dict[str, Any]) -> list:
    flips = report["flips"]
    text = (
        f"At the served cut-off (PD ≥ {report['cutoff']:.1%} is declined): "
        f"{flips['approve_to_decline']:,} applicants approved today would be declined, "
        f"{flips['decline_to_approve']:,} declined today would be approved, {flips['unchanged']:,} unchanged. "
        f"Score PSI of the challenger against the served: {report['score_psi']['value']:.3f} "
        f"({report['score_psi']['status']})."
    )
    rows = [
        [
            str(r["loan_id"]),
            f"{r['champion_pd']:.1%}",
            f"{r['challenger_pd']:.1%}",
            r["change"].replace("->", "→"),
            "yes" if r["defaulted"] else "no",
        ]
        for r in flips["sample"]
    ]
    out: list = [html.P(text, id="models-compare-flips", className="small")]
    if rows:
        out += [
            html.H6("Largest changes among them", className="small fw-semibold"),
            _table(
                ["Loan", "Served PD", "Challenger PD", "Decision", "Defaulted"], rows, "models-compare-sample"
            ),
        ]
    return out


def _fairness(report: dict[str, Any]) -> list:
    out: list = []
    for attribute, table in report.get("fairness", {}).items():
        rows = [
            [
                g["group"],
                f"{g['n']:,}",
                _ratio(g["champion_di"]),
                _ratio(g["challenger_di"]),
                "below 0.8" if g["flag"] else "",
            ]
            for g in table["groups"]
        ]
        out += [
            html.H6(
                f"Approval-rate ratio by {attribute.replace('_', ' ')} (against {table['reference']})",
                className="small fw-semibold",
            ),
            _table(["Group", "Loans", "Served", "Challenger", "Flag"], rows),
        ]
    return out


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def comparison_view(report: dict[str, Any], calibration: go.Figure | None) -> html.Div:
    """The comparison of a candidate with the served version, as the Models page shows it."""
    champion, challenger = report["champion"]["version"], report["challenger"]["version"]
    parts: list = [
        html.P(
            [
                f"{report['model']}: challenger ",
                html.Strong(challenger),
                " against the served ",
                html.Strong(champion),
                f", {report['rows_note']}." if "rows_note" in report else " (their saved metrics).",
            ],
            className="small",
        ),
        _metrics_table(report),
    ]
    if "flips" in report:
        parts += _flips(report)
    if calibration is not None:
        parts += [
            html.H6("Calibration by decile", className="small fw-semibold"),
            dcc.Graph(id="models-compare-calibration", figure=calibration, config={"displayModeBar": False}),
        ]
    parts += _fairness(report)
    return html.Div(parts, id="models-compare-body")
