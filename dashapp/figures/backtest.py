"""Monitoring back-test charts: predicted vs realised (and true) default rate; ROC-AUC and PSI, by month; the
traffic lights by month and band."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashapp.figures.theme import NAVY, ROSE, SAND, SLATE, TEAL, empty_figure, figure

PSI_ALERT = 0.25
PSI_COLOURS = {"stable": TEAL, "watch": SAND, "alert": ROSE}


def rates_figure(months: list[dict[str, Any]], *, has_true_pd: bool = False) -> go.Figure:
    """Mean predicted PD and realised default rate of the loans issued each month (the true PD too when
    known)."""
    if not months:
        return empty_figure("No later loans")
    x = [m["month"] for m in months]
    n = [m["n"] for m in months]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": [m["mean_pd"] for m in months],
            "name": "predicted (mean PD)",
            "line": {"color": NAVY},
            "customdata": n,
            "hovertemplate": "%{x}: predicted %{y:.2%} (n %{customdata:,})<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": [m["realised"] for m in months],
            "name": "realised",
            "line": {"color": ROSE},
            "customdata": [m["defaults"] for m in months],
            "hovertemplate": "%{x}: realised %{y:.2%} (%{customdata:,} defaults)<extra></extra>",
        },
    ]
    if has_true_pd and all(m.get("true_pd") is not None for m in months):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": [m["true_pd"] for m in months],
                "name": "true PD (demo ground truth)",
                "line": {"color": SLATE, "dash": "dash"},
                "hovertemplate": "%{x}: true PD %{y:.2%}<extra></extra>",
            }
        )
    return figure(
        traces,
        yaxis={"tickformat": ".0%", "title": {"text": "default rate"}, "rangemode": "tozero"},
        xaxis={"title": {"text": "issued month"}, "type": "category"},
    )


def auc_psi_figure(months: list[dict[str, Any]]) -> go.Figure:
    """ROC-AUC of each month's loans (line, left axis; gaps where a month has one class) and the score PSI
    against the training loans (bars coloured stable / watch / alert, right axis)."""
    if not months:
        return empty_figure("No later loans")
    x = [m["month"] for m in months]
    traces = [
        {
            "type": "bar",
            "x": x,
            "y": [m["psi"] for m in months],
            "name": "score PSI",
            "yaxis": "y2",
            "opacity": 0.6,
            "marker": {"color": [PSI_COLOURS.get(m["psi_status"], SLATE) for m in months]},
            "hovertemplate": "%{x}: PSI %{y:.3f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": [m["roc_auc"] for m in months],
            "name": "ROC-AUC",
            "line": {"color": NAVY},
            "connectgaps": False,
            "hovertemplate": "%{x}: ROC-AUC %{y:.3f}<extra></extra>",
        },
    ]
    top = max([PSI_ALERT * 1.2, *(m["psi"] * 1.1 for m in months)])
    low = min([0.5, *(m["roc_auc"] - 0.05 for m in months if m["roc_auc"] is not None)])
    return figure(
        traces,
        xaxis={"title": {"text": "issued month"}, "type": "category"},
        yaxis={"title": {"text": "ROC-AUC"}, "range": [low, 1.0]},
        yaxis2={
            "title": {"text": "PSI"},
            "overlaying": "y",
            "side": "right",
            "range": [0, top],
            "showgrid": False,
        },
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y2",
                "y0": PSI_ALERT,
                "y1": PSI_ALERT,
                "line": {"color": ROSE, "dash": "dash", "width": 1},
            }
        ],
        margin={"l": 60, "r": 60, "t": 48, "b": 52},
    )


LIGHT_CODES = {"green": 0, "amber": 1, "red": 2}
LIGHT_SCALE = [[0.0, TEAL], [0.333, TEAL], [0.333, SAND], [0.667, SAND], [0.667, ROSE], [1.0, ROSE]]


def lights_figure(month_bands: list[dict[str, Any]]) -> go.Figure:
    """The traffic light of every risk band in every issued month (rows: months, columns: bands), each cell
    labelled realised vs predicted default rate (loans and p-value in the hover); blank where a band had no
    loans that month."""
    if not month_bands:
        return empty_figure("No later loans")
    months = sorted({r["month"] for r in month_bands})
    bands = sorted({r["band"] for r in month_bands})
    cell = {(r["month"], r["band"]): r for r in month_bands}
    z, text, hover = [], [], []
    for m in months:
        rows = [cell.get((m, b)) for b in bands]
        z.append([None if r is None else LIGHT_CODES[r["light"]] for r in rows])
        # two lines: "0.9% vs 1.1%" on one ran into the next cell's text in a phone's narrow columns
        text.append(["" if r is None else f"{r['realised']:.1%}<br>vs {r['mean_pd']:.1%}" for r in rows])
        hover.append(
            [
                ""
                if r is None
                else f"{r['light']}: n {r['n']:,}, predicted {r['mean_pd']:.1%}, "
                f"realised {r['realised']:.1%}, p {r['p_value']:.3f}"
                for r in rows
            ]
        )
    trace = {
        "type": "heatmap",
        "x": bands,
        "y": months,
        "z": z,
        "text": text,
        "customdata": hover,
        "texttemplate": "%{text}",
        "textfont": {"size": 10, "color": "white"},
        "zmin": 0,
        "zmax": 2,
        "colorscale": LIGHT_SCALE,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{y}, band %{x}: %{customdata}<extra></extra>",
    }
    return figure(
        [trace],
        xaxis={"title": {"text": "risk band"}, "type": "category", "side": "top"},
        yaxis={"title": {"text": "issued month"}, "type": "category", "autorange": "reversed"},
        margin={"l": 70, "r": 16, "t": 60, "b": 20},
    )
