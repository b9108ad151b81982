"""Monitoring page charts: fairness by group, PSI per feature, score distribution and characteristic stability."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashapp.figures.bins import bin_label, feature_bin_labels
from dashapp.figures.theme import NAVY, ROSE, SAND, SKY, TEAL, empty_figure, label_margin, themed
from risk import plain_name

STATUS_COLOURS = {"stable": TEAL, "watch": SAND, "alert": ROSE}
#: a horizontal legend just above the plot area; the top margin leaves a strip for the title over it
LEGEND_UNDER_TITLE = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}
#: title strip (about 30 px) plus up to two legend rows (about 22 px each) when a narrow screen wraps them
FAIRNESS_TOP_MARGIN = 84
#: small decimals written out (0.0004), never with an SI prefix (400µ) or an exponent
PLAIN_TICKS = ".3~r"


def fairness_figure(attribute: dict[str, Any], flag: float = 0.8) -> go.Figure:
    """Approval rate, TPR and FPR per group of one attribute, with the disparate-impact ratio in the hover."""
    groups = sorted(attribute.get("groups", []), key=lambda g: _group_order(str(g["group"])))
    if not groups:
        return empty_figure("No groups")
    names = [g["group"] for g in groups]
    fig = go.Figure()
    for key, label, colour in (
        ("approval_rate", "approval rate", NAVY),
        ("tpr", "TPR", TEAL),
        ("fpr", "FPR", SKY),
    ):
        fig.add_bar(
            x=names,
            y=[g[key] for g in groups],
            name=label,
            marker_color=colour,
            customdata=[[g["di_ratio"], g["n"]] for g in groups],
            hovertemplate="%{x}: %{y:.1%} (DI %{customdata[0]:.2f}, n %{customdata[1]:,})<extra>"
            + label
            + "</extra>",
        )
    flagged = [g["group"] for g in groups if g.get("flag")]
    title = f"reference {attribute.get('reference')}" + (
        f"; DI < {flag}: {', '.join(flagged)}" if flagged else ""
    )
    # the title in the top strip of the margin and the legend in a row under it, above the bars: neither meets the
    # other nor the group labels under the x axis (a legend below the bars ran into them)
    fig.update_layout(
        barmode="group",
        yaxis={"tickformat": ".0%", "automargin": True},
        xaxis={"type": "category", "automargin": True},
        title={
            "text": title,
            "x": 0,
            "xref": "paper",
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 8},
            "font": {"size": 13},
        },
        legend=LEGEND_UNDER_TITLE,
        margin={"t": FAIRNESS_TOP_MARGIN, "b": 40},
    )
    return themed(fig)


def _group_order(name: str) -> tuple[int, float, str]:
    """Natural order of group labels: ``<25`` before ``25-34`` before ``65+``; other labels alphabetically after."""
    digits = re.match(r"[<>]?(\d+)", name)
    if digits is None:
        return (1, 0.0, name)
    return (0, float(digits.group(1)) - (0.5 if name.startswith("<") else 0.0), name)


def psi_figure(features: pd.DataFrame, alert: float = 0.25) -> go.Figure:
    """Horizontal bars of each feature's PSI, coloured stable / watch / alert, with the alert line."""
    if features.empty:
        return empty_figure("No features")
    part = features.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=part["psi"],
            y=part["feature"],
            orientation="h",
            marker_color=[STATUS_COLOURS[s] for s in part["status"]],
            hovertemplate="%{y}: PSI %{x:.3f}<extra></extra>",
        )
    )
    fig.add_vline(x=alert, line_dash="dash", line_color=ROSE)
    fig.update_layout(
        xaxis_title="PSI",
        yaxis_title=None,
        xaxis_tickformat=PLAIN_TICKS,
        margin={"l": label_margin(part["feature"])},
    )
    return themed(fig)


def score_bins_figure(bins: pd.DataFrame) -> go.Figure:
    """Share of training and new rows in each PD decile of the training data."""
    labels = [bin_label(b, "probability") for b in bins["bin"]]
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=bins["expected"],
        name="training",
        marker_color=NAVY,
        hovertemplate="PD %{x}: %{y:.1%}<extra>training</extra>",
    )
    fig.add_bar(
        x=labels,
        y=bins["actual"],
        name="new batch",
        marker_color=SAND,
        hovertemplate="PD %{x}: %{y:.1%}<extra>new batch</extra>",
    )
    fig.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        xaxis_title="PD bin",
        xaxis_type="category",
        legend_orientation="h",
    )
    return themed(fig)


def stability_figure(stability: pd.DataFrame, feature: str) -> go.Figure:
    """One feature's characteristic stability: each bin's ``(new - training share) * points`` contribution."""
    part = stability.loc[stability["feature"] == feature]
    if part.empty:
        return empty_figure(f"No bins for {feature}")
    labels = feature_bin_labels(list(part["bin"]), feature)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=part["contribution"],
            marker_color=[ROSE if v > 0 else TEAL for v in part["contribution"]],
            customdata=part[["expected", "actual", "points"]].to_numpy(),
            hovertemplate="%{x}: %{y:+.4f}<br>training %{customdata[0]:.1%}, new %{customdata[1]:.1%}, "
            "points %{customdata[2]:+.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title=f"{plain_name(feature)} bin",
        yaxis_title="score shift (log-odds)",
        xaxis_type="category",
        yaxis_tickformat=PLAIN_TICKS,
    )
    return themed(fig)


def challenger_calibration_figure(calibration: dict[str, list[dict[str, float]]]) -> go.Figure:
    """Predicted vs observed default rate by decile of each version's PD (champion / challenger comparison)."""
    fig = go.Figure()
    top = (
        max((max(b["predicted"], b["observed"]) for bins in calibration.values() for b in bins), default=1.0)
        * 1.05
    )
    fig.add_scatter(x=[0, top], y=[0, top], name="perfect", mode="lines", line={"dash": "dot", "color": SKY})
    for name, colour in (("champion", NAVY), ("challenger", TEAL)):
        bins = calibration.get(name, [])
        fig.add_scatter(
            x=[b["predicted"] for b in bins],
            y=[b["observed"] for b in bins],
            mode="lines+markers",
            name="served" if name == "champion" else "challenger",
            line={"color": colour},
            customdata=[b["n"] for b in bins],
            hovertemplate="predicted %{x:.1%}<br>observed %{y:.1%}<br>%{customdata} loans",
        )
    fig.update_layout(
        xaxis_title="Predicted default rate",
        yaxis_title="Observed default rate",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
        legend={
            "orientation": "v",
            "x": 0.02,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.8)",
        },
    )
    return themed(fig, height=320)
