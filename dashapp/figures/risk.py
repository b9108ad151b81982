"""Risk figures: pure functions from plain data to Plotly figures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

import risk
from bankdata import category_label, format_value
from dashapp.figures.theme import (
    DIVERGING,
    MUTED,
    NAVY,
    PALETTE,
    ROSE,
    SEQUENTIAL,
    TEAL,
    figure,
    label_margin,
    themed,
)
from risk import calibration_bins, plain_name, pr_curve_points, roc_curve_points

# legends inside the plot, in the corner the curves leave empty: above the plot they wrap into rows that squeeze it
INSIDE_BOTTOM_RIGHT = {
    "orientation": "v",
    "x": 0.98,
    "xanchor": "right",
    "y": 0.02,
    "yanchor": "bottom",
    "bgcolor": "rgba(255,255,255,0.8)",
}
INSIDE_TOP_RIGHT = {**INSIDE_BOTTOM_RIGHT, "y": 0.98, "yanchor": "top"}


def roc_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> go.Figure:
    """ROC curves of several candidates, with their AUC in the legend."""
    fig = go.Figure()
    for i, (name, p) in enumerate(scores.items()):
        fpr, tpr = roc_curve_points(y, p)
        fig.add_scatter(
            x=fpr, y=tpr, name=f"{name} ({risk.roc_auc(y, p):.3f})", line={"color": PALETTE[i % 8]}
        )
    fig.add_scatter(x=[0, 1], y=[0, 1], name="chance", line={"dash": "dot", "color": MUTED})
    fig.update_layout(
        xaxis_title="False-positive rate", yaxis_title="True-positive rate", legend=INSIDE_BOTTOM_RIGHT
    )
    return themed(fig)


def pr_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> go.Figure:
    """Precision-recall curves, with PR-AUC in the legend and the default rate as the chance line."""
    fig = go.Figure()
    for i, (name, p) in enumerate(scores.items()):
        recall, precision = pr_curve_points(y, p)
        fig.add_scatter(
            x=recall, y=precision, name=f"{name} ({risk.pr_auc(y, p):.3f})", line={"color": PALETTE[i % 8]}
        )
    fig.add_hline(y=float(np.mean(y)), line={"dash": "dot", "color": MUTED})
    fig.update_layout(
        xaxis_title="Recall (defaults caught)", yaxis_title="Precision", legend=INSIDE_TOP_RIGHT
    )
    return themed(fig)


def calibration_figure(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> go.Figure:
    """Predicted vs observed default rate in deciles of the predicted probability."""
    pred, obs, size = calibration_bins(y, p, n_bins)
    top = float(max(pred.max(), obs.max()) * 1.05)
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], name="perfect", line={"dash": "dot", "color": MUTED})
    fig.add_scatter(
        x=pred,
        y=obs,
        mode="lines+markers",
        name="champion",
        customdata=size,
        hovertemplate="predicted %{x:.1%}<br>observed %{y:.1%}<br>%{customdata} loans",
        line={"color": NAVY},
    )
    fig.update_layout(
        xaxis_title="Predicted default rate",
        yaxis_title="Observed default rate",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
    )
    return themed(fig)


def ks_figure(y: np.ndarray, p: np.ndarray) -> go.Figure:
    """Cumulative score distributions of defaults and good loans; the KS is their largest gap."""
    grid = np.linspace(0, 1, 201)
    cdf_bad = np.searchsorted(np.sort(p[y == 1]), grid, side="right") / max((y == 1).sum(), 1)
    cdf_good = np.searchsorted(np.sort(p[y == 0]), grid, side="right") / max((y == 0).sum(), 1)
    at = int(np.argmax(np.abs(cdf_good - cdf_bad)))
    fig = go.Figure()
    fig.add_scatter(x=grid, y=cdf_good, name="good loans", line={"color": TEAL})
    fig.add_scatter(x=grid, y=cdf_bad, name="defaults", line={"color": ROSE})
    fig.add_scatter(
        x=[grid[at], grid[at]],
        y=[cdf_bad[at], cdf_good[at]],
        mode="lines",
        name=f"KS {abs(cdf_good[at] - cdf_bad[at]):.3f}",
        line={"color": NAVY, "dash": "dash"},
    )
    fig.update_layout(
        xaxis_title="Predicted probability of default",
        yaxis_title="Cumulative share",
        legend=INSIDE_BOTTOM_RIGHT,
    )
    return themed(fig)


def confusion_figure(summary: risk.CutoffSummary) -> go.Figure:
    """The 2x2 confusion matrix at a cut-off, as an annotated heat map."""
    z = [[summary.tn, summary.fp], [summary.fn, summary.tp]]
    text = [
        [f"approved, repaid<br>{summary.tn:,}", f"declined, would repay<br>{summary.fp:,}"],
        [f"approved, defaulted<br>{summary.fn:,}", f"declined, would default<br>{summary.tp:,}"],
    ]
    trace = {
        "type": "heatmap",
        "z": z,
        "x": ["approve", "decline"],
        "y": ["repaid", "defaulted"],
        "text": text,
        "texttemplate": "%{text}",
        "showscale": False,
        "colorscale": [list(s) for s in SEQUENTIAL],
    }
    return figure(
        [trace],
        xaxis={"title": {"text": "Decision"}},
        yaxis={"title": {"text": "Outcome"}, "autorange": "reversed"},
        margin={"l": label_margin(["defaulted"], title=True)},
    )


def importance_figure(spec: risk.FeatureSpec, importance: np.ndarray, top: int = 15) -> go.Figure:
    """Mean |SHAP| per feature (log-odds), largest on top."""
    order = np.argsort(importance)[-top:]
    names = [plain_name(spec.features[j]) for j in order]
    fig = go.Figure(go.Bar(x=importance[order], y=names, orientation="h", marker_color=NAVY))
    fig.update_layout(xaxis_title="Mean |SHAP| (log-odds of default)", margin_l=label_margin(names))
    return themed(fig)


def dependence_figure(
    spec: risk.FeatureSpec, x: np.ndarray, shap: np.ndarray, feature: str, color_by: str | None = None
) -> go.Figure:
    """SHAP value against the feature's value for a sample of loans (categories as labels), the dots coloured by a
    second feature's value when ``color_by`` is given (how the two interact)."""
    j = spec.features.index(feature)
    values = x[:, j]
    if feature in spec.categorical:
        values = np.array([category_label(spec.decode_category(feature, v)) for v in values])
    marker: dict = {"size": 5, "color": TEAL, "opacity": 0.5}
    hover = "%{x}: SHAP %{y:.3f}<extra></extra>"
    text = None
    if color_by is not None and color_by != feature:
        k = spec.features.index(color_by)
        other = x[:, k]
        text = (
            [category_label(spec.decode_category(color_by, v)) for v in other]
            if color_by in spec.categorical
            else [f"{v:g}" for v in other]
        )
        marker |= {
            "color": other,
            "colorscale": [[0.0, TEAL], [0.5, "#f4c95d"], [1.0, ROSE]],
            "opacity": 0.7,
            "colorbar": {"title": {"text": plain_name(color_by)}, "thickness": 10},
        }
        hover = f"%{{x}}: SHAP %{{y:.3f}}<br>{plain_name(color_by)} = %{{text}}<extra></extra>"
    fig = go.Figure(
        go.Scatter(x=values, y=shap[:, j], mode="markers", marker=marker, text=text, hovertemplate=hover)
    )
    fig.add_hline(y=0, line={"color": MUTED, "dash": "dot"})
    fig.update_layout(xaxis_title=plain_name(feature), yaxis_title="SHAP (log-odds of default)")
    return themed(fig)


def correlation_figure(spec: risk.FeatureSpec, x: np.ndarray) -> go.Figure:
    """Correlation heat map of the numeric features."""
    n = len(spec.numeric)
    corr = np.corrcoef(x[:, :n], rowvar=False) if n > 1 else np.ones((n, n))
    names = [plain_name(c) for c in spec.numeric]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(corr, 2),
            x=names,
            y=names,
            zmin=-1,
            zmax=1,
            colorscale=[list(s) for s in DIVERGING],
            texttemplate="%{z}",
        )
    )
    room = label_margin(
        names
    )  # the x labels are turned 45 degrees: they need about 0.7 of that below the plot
    fig.update_layout(
        yaxis_autorange="reversed", xaxis_tickangle=-45, margin={"l": room, "b": int(room * 0.72) + 8}
    )
    return themed(fig)


def boxplot_figure(spec: risk.FeatureSpec, x: np.ndarray, y: np.ndarray, feature: str) -> go.Figure:
    """A numeric feature's distribution for repaid loans and defaults."""
    j = spec.features.index(feature)
    fig = go.Figure()
    fig.add_box(y=x[y == 0, j], name="repaid", marker_color=TEAL, boxpoints=False)
    fig.add_box(y=x[y == 1, j], name="defaulted", marker_color=ROSE, boxpoints=False)
    fig.update_layout(yaxis_title=plain_name(feature), showlegend=False)
    return themed(fig)


def waterfall_figure(e: risk.Explanation, top: int = 10) -> go.Figure:
    """One applicant's SHAP waterfall in probability terms: from the average applicant to this applicant's PD."""
    order = np.argsort(-np.abs(e.shap_pd))
    shown, rest = order[:top], order[top:]
    # two lines (the name, then the value in grey): one line, "debt-to-income ratio = 0.3955", took most of a phone's
    # width for the labels and left the bars and their value labels on top of each other
    names = [plain_name(e.features[j]) for j in shown]
    values = [format_value(e.features[j], e.values[j]) for j in shown]
    labels = [f"{n}<br><span style='color:{MUTED}'>{v}</span>" for n, v in zip(names, values, strict=True)]
    deltas = [float(e.shap_pd[j]) for j in shown]
    if len(rest):
        labels.append(f"{len(rest)} other features")
        names.append(labels[-1])
        deltas.append(float(e.shap_pd[rest].sum()))
    # drawn as floating bars (each starts where the previous ended): the served Plotly bundle has no waterfall trace
    starts = e.base_pd + np.concatenate([[0.0], np.cumsum(deltas)[:-1]]) if deltas else np.array([])
    rows = ["average applicant", *labels, "this applicant"]
    widths, bases = [e.base_pd, *deltas, e.pd], [0.0, *starts.tolist(), 0.0]
    texts = [f"{e.base_pd:.1%}", *[f"{d:+.1%}" for d in deltas], f"{e.pd:.1%}"]
    fig = go.Figure(
        go.Bar(
            orientation="h",
            y=rows,
            x=widths,
            base=bases,
            marker_color=[NAVY, *[ROSE if d > 0 else TEAL for d in deltas], NAVY],
            text=texts,
            textposition="none",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    # every value label right of its bar's right end: a negative push's label drawn left of its bar ran into the
    # feature names when the bar came near the axis start (on a phone, always)
    x_range = waterfall_range(bases, widths)
    gap = (x_range[1] - x_range[0]) * 0.01  # a few pixels between a bar and its label
    fig.add_scatter(
        x=[max(b, b + w) + gap for b, w in zip(bases, widths, strict=True)],
        y=rows,
        text=texts,
        mode="text",
        textposition="middle right",
        cliponaxis=False,
        hoverinfo="skip",
        showlegend=False,
        textfont={"size": 11, "color": MUTED},
    )
    fig.update_layout(
        xaxis_tickformat=".0%",
        xaxis_title="Probability of default",
        yaxis_autorange="reversed",
        xaxis_range=x_range,
        yaxis_tickfont_size=11,
        showlegend=False,
        margin={"l": label_margin(["average applicant", *names, *values], font_size=11), "r": 64},
    )
    return themed(fig)


#: share of the drawn span left free right of the bars for their value labels ("+0.6%")
WATERFALL_LABEL_ROOM = 0.22


def waterfall_range(bases: list[float], widths: list[float]) -> list[float]:
    """The x range of the waterfall: every bar, plus room right of the furthest bar end for its value label.

    Autorange fits the bars only, so the label beside the bar that reached furthest right was cut at the chart's
    edge (``+0.``); the right margin adds more room, as the labels are not clipped to the plot area.
    """
    ends = [b + w for b, w in zip(bases, widths, strict=True)]
    lo, hi = min(0.0, *ends, *bases), max(0.0, *ends, *bases)
    return [lo, hi + (hi - lo or 0.01) * WATERFALL_LABEL_ROOM]
