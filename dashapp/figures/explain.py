"""Explanation figures beyond the waterfall: importance compared, beeswarm, lift, gains, ICE curves."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

import risk
from bankdata import category_label
from dashapp.figures.theme import MUTED, NAVY, ROSE, SAND, SKY, TEAL, empty_figure, label_margin, themed
from risk import plain_name

#: beeswarm colours: low feature value to high
LOW_HIGH: list[list[float | str]] = [[0.0, TEAL], [0.5, SAND], [1.0, ROSE]]


def importance_comparison_figure(
    spec: risk.FeatureSpec, shap_importance: np.ndarray, permutation: dict | None, top: int = 12
) -> go.Figure:
    """Mean |SHAP| (log-odds) beside the permutation importance (drop in ROC-AUC, with its std) of the same
    features, ordered by mean |SHAP|; only SHAP when ``permutation`` is None or unavailable."""
    order = np.argsort(shap_importance)[-top:]
    names = [plain_name(spec.features[j]) for j in order]
    fig = go.Figure()
    fig.add_bar(
        x=shap_importance[order],
        y=names,
        orientation="h",
        name="mean |SHAP| (log-odds)",
        marker_color=NAVY,
        xaxis="x",
        hovertemplate="%{y}: %{x:.3f}<extra>mean |SHAP|</extra>",
    )
    perm = permutation if permutation and "mean" in permutation else None
    has_perm = perm is not None
    if perm is not None:
        by_name = dict(
            zip(
                perm["features"],
                zip(perm["mean"], perm["std"], strict=True),
                strict=True,
            )
        )
        mean = [by_name.get(spec.features[j], (np.nan, np.nan))[0] for j in order]
        std = [by_name.get(spec.features[j], (np.nan, np.nan))[1] for j in order]
        fig.add_bar(
            x=mean,
            y=names,
            orientation="h",
            name="permutation (drop in ROC-AUC)",
            marker_color=TEAL,
            xaxis="x2",
            error_x={"type": "data", "array": std, "color": MUTED, "thickness": 1},
            hovertemplate="%{y}: %{x:.4f}<extra>AUC drop</extra>",
        )
    # no legend: each panel's axis title names its measure (a legend below collided with those titles); short
    # titles on two lines, as "mean |SHAP| (log-odds)" and "drop in ROC-AUC when shuffled" ran into each other on a
    # phone (the card's title and subtitle and the hover say the rest)
    fig.update_layout(
        xaxis={
            "domain": [0, 0.47] if has_perm else [0, 1],
            "title": {"text": "mean |SHAP|<br>(log-odds)", "font": {"size": 11}},
        },
        xaxis2={
            "domain": [0.53, 1],
            "title": {"text": "ROC-AUC drop<br>(shuffled)", "font": {"size": 11}},
            "anchor": "y",
        },
        margin={"l": label_margin(names)},
        showlegend=False,
    )
    return themed(fig)


def _spread(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vertical jitter that grows with how crowded a point's SHAP neighbourhood is (a beeswarm's shape)."""
    bins = np.digitize(values, np.linspace(values.min(), values.max() + 1e-12, 40))
    density = np.bincount(bins)[bins] / max(len(values), 1)
    return (rng.random(len(values)) - 0.5) * 0.8 * np.sqrt(density / max(density.max(), 1e-12))


def beeswarm_figure(
    spec: risk.FeatureSpec,
    x: np.ndarray,
    shap: np.ndarray,
    importance: np.ndarray,
    *,
    top: int = 10,
    rows: int = 400,
    seed: int = 0,
) -> go.Figure:
    """SHAP summary: one dot per sampled loan and feature at its SHAP value, coloured by the feature's value
    (its rank among the sample: low teal, high rose; categories by code), most important feature on top."""
    rng = np.random.default_rng(seed)
    take = (
        np.sort(rng.choice(len(x), size=min(rows, len(x)), replace=False))
        if len(x)
        else np.array([], dtype=int)
    )
    order = np.argsort(importance)[-top:]  # the least important first: it is drawn at the bottom
    xs, ys, colours, text = [], [], [], []
    for row, j in enumerate(order):
        values, s = x[take, j], shap[take, j]
        ranks = values.argsort().argsort() / max(len(values) - 1, 1)
        xs.append(s)
        ys.append(row + _spread(s, rng))
        colours.append(ranks)
        feature = spec.features[j]
        shown = (
            [category_label(spec.decode_category(feature, v)) for v in values]
            if feature in spec.categorical
            else [f"{v:g}" for v in values]
        )
        text += [f"{plain_name(feature)} = {v}" for v in shown]
    names = [plain_name(spec.features[j]) for j in order]
    fig = go.Figure(
        go.Scatter(
            x=np.concatenate(xs) if xs else [],
            y=np.concatenate(ys) if ys else [],
            mode="markers",
            text=text,
            marker={
                "size": 4,
                "color": np.concatenate(colours) if colours else [],
                "colorscale": LOW_HIGH,
                "opacity": 0.7,
                "colorbar": {
                    "title": {"text": "feature value"},
                    "tickvals": [0, 1],
                    "ticktext": ["low", "high"],
                    "thickness": 10,
                },
            },
            hovertemplate="%{text}<br>SHAP %{x:.3f}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": MUTED, "dash": "dot"})
    fig.update_layout(
        xaxis_title="SHAP (log-odds of default)",
        margin={"l": label_margin(names)},
        yaxis={
            "tickvals": list(range(len(names))),
            "ticktext": names,
            "range": [-0.7, len(names) - 0.3],
            "showgrid": False,
        },
    )
    return themed(fig)


def gains_figure(gains: risk.Gains) -> go.Figure:
    """Cumulative gains: share of defaults caught against share of loans targeted, riskiest first."""
    fig = go.Figure()
    fig.add_scatter(
        x=gains.share_targeted,
        y=gains.share_caught,
        name="champion",
        line={"color": NAVY},
        hovertemplate="riskiest %{x:.0%} of loans<br>%{y:.1%} of defaults<extra></extra>",
    )
    fig.add_scatter(x=[0, 1], y=[0, 1], name="random", line={"dash": "dot", "color": MUTED})
    fig.update_layout(
        xaxis_title="Share of loans (riskiest first)",
        yaxis_title="Share of defaults caught",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
        legend={"x": 0.98, "xanchor": "right", "y": 0.02, "yanchor": "bottom"},
    )
    return themed(fig)


def lift_figure(gains: risk.Gains) -> go.Figure:
    """Lift: the default rate of the riskiest share of loans over the overall default rate."""
    lift = gains.lift
    keep = np.isfinite(lift)
    fig = go.Figure()
    fig.add_scatter(
        x=gains.share_targeted[keep],
        y=lift[keep],
        name="champion",
        line={"color": TEAL},
        hovertemplate="riskiest %{x:.0%}: lift %{y:.2f}<extra></extra>",
    )
    fig.add_hline(y=1, line={"dash": "dot", "color": MUTED})
    fig.update_layout(
        xaxis_title="Share of loans (riskiest first)",
        yaxis_title="Lift",
        xaxis_tickformat=".0%",
        showlegend=False,
    )
    return themed(fig)


def ice_figure(
    feature: str,
    labels: Sequence[str | float],
    ice: np.ndarray,
    pdp: np.ndarray | None,
    current: str | float | None,
    categorical: bool,
) -> go.Figure:
    """This applicant's PD as one feature moves (ICE) with the portfolio's average (partial dependence) and a marker
    at the applicant's own value."""
    if len(ice) == 0:
        return empty_figure("No values to move through")
    mode = "lines+markers" if categorical or len(ice) < 8 else "lines"
    if categorical:  # stored codes in words, the applicant's own value too (it marks one of them)
        labels = [category_label(v) for v in labels]
        current = category_label(current) if current is not None else None
    fig = go.Figure()
    fig.add_scatter(
        x=list(labels),
        y=ice,
        mode=mode,
        name="this applicant",
        line={"color": ROSE},
        hovertemplate="%{x}: PD %{y:.1%}<extra>this applicant</extra>",
    )
    if pdp is not None and len(pdp) == len(ice):
        fig.add_scatter(
            x=list(labels),
            y=pdp,
            mode=mode,
            name="portfolio average",
            line={"color": SKY, "dash": "dash"},
            hovertemplate="%{x}: PD %{y:.1%}<extra>portfolio</extra>",
        )
    if current is not None:
        fig.add_vline(
            x=current if not categorical else list(labels).index(current) if current in labels else 0,
            line={"color": NAVY, "dash": "dot"},
        )
    fig.update_layout(
        xaxis_title=plain_name(feature),
        yaxis_title="Probability of default",
        yaxis_tickformat=".0%",
        xaxis_type="category" if categorical else "-",
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
    )
    return themed(fig)
