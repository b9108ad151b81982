"""Recommender figures: pure functions from plain data to Plotly figures."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashapp.figures.theme import PALETTE, SLATE, empty_figure, themed

METRICS = ("ndcg", "precision", "recall", "map", "hit_rate")
LABELS = {"ndcg": "nDCG", "precision": "Precision", "recall": "Recall", "map": "MAP", "hit_rate": "Hit rate"}


def comparison_figure(metrics: pd.DataFrame, k: int) -> go.Figure:
    """Grouped bars: each metric at ``k`` for every model (the oracle, when present, in grey)."""
    cols = [f"{m}@{k}" for m in METRICS if f"{m}@{k}" in metrics.columns]
    if metrics.empty or not cols:
        return empty_figure("no evaluation stored with this model")
    fig = go.Figure()
    for i, row in enumerate(metrics.itertuples(index=False)):
        name = str(row.model)
        colour = SLATE if name.startswith("oracle") else PALETTE[i % len(PALETTE)]
        fig.add_bar(
            x=[f"{LABELS[c.split('@')[0]]}@{k}" for c in cols],
            y=[float(metrics.iloc[i][c]) for c in cols],
            name=name,
            marker_color=colour,
            hovertemplate="%{x}: %{y:.3f}<extra>" + name + "</extra>",
        )
    fig.update_layout(barmode="group", yaxis_title="score (higher is better)", yaxis_range=[0, 1])
    return themed(fig)


def campaign_figure(frame: pd.DataFrame) -> go.Figure:
    """The campaign list's scores by rank: where the likely takers thin out."""
    if frame.empty:
        return empty_figure("nobody left to offer this product to")
    fig = go.Figure(go.Scatter(x=frame["rank"], y=frame["score"], mode="lines", line={"color": PALETTE[1]}))
    fig.update_layout(xaxis_title="rank in the campaign list", yaxis_title="model score")
    return themed(fig)
