"""Segments charts: pure functions from the segments service's small frames to Plotly figures."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashapp.figures.theme import (
    DIVERGING,
    MUTED,
    NAVY,
    PALETTE,
    ROSE,
    SAND,
    TEAL,
    empty_figure,
    figure,
    label_margin,
    themed,
)

NO_MATCH = "No customers match these filters"


def segment_colour(segment: int) -> str:
    """The colour of a segment, the same in every chart."""
    return PALETTE[int(segment) % len(PALETTE)]


def pca_scatter_figure(sample: pd.DataFrame, names: dict[int, str], explained: list[float], n_matching: int) -> go.Figure:
    """PCA map of the (sampled) filtered customers, one SVG trace per segment; axis titles give explained variance.

    SVG, not WebGL: the sample is small (``SCATTER_POINTS``) and the CSP allows no ``eval``, which WebGL traces need.
    """
    if sample.empty:
        return empty_figure(NO_MATCH)
    traces = [{"type": "scatter", "x": part["pc1"].to_numpy(), "y": part["pc2"].to_numpy(), "mode": "markers",
               "name": names.get(int(seg), f"Segment {seg}"),
               "marker": {"size": 5, "opacity": 0.6, "color": segment_colour(int(seg))},
               "customdata": part["customer_id"].to_numpy(),
               "hovertemplate": "customer %{customdata}<extra>%{fullData.name}</extra>"}
              for seg, part in sample.groupby("segment", sort=True)]
    ev = list(explained) + [float("nan")] * (2 - len(explained))
    notes = []
    if n_matching > len(sample):
        notes.append({"text": f"showing a sample of {len(sample):,} of {n_matching:,}", "showarrow": False,
                      "xref": "paper", "yref": "paper", "x": 1, "y": 0, "xanchor": "right", "yanchor": "bottom",
                      "font": {"color": MUTED, "size": 11}})
    return figure(traces, xaxis={"title": {"text": f"PC1 ({ev[0]:.0%} of variance)"}},
                  yaxis={"title": {"text": f"PC2 ({ev[1]:.0%} of variance)"}}, annotations=notes)


def sizes_figure(sizes: pd.DataFrame) -> go.Figure:
    """Customers per segment matching the filters (bars), against each segment's full size (outline)."""
    if sizes.empty or sizes["customers"].sum() == 0:
        return empty_figure(NO_MATCH)
    colours = [segment_colour(s) for s in sizes["segment"]]
    names = sizes["name"].tolist()
    traces = [
        {"type": "bar", "y": names, "x": sizes["total"].tolist(), "orientation": "h", "name": "All customers",
         "marker": {"color": "rgba(0,0,0,0)", "line": {"color": colours, "width": 1.5}},
         "hovertemplate": "%{y}<br>%{x:,} customers in all<extra></extra>"},
        {"type": "bar", "y": names, "x": sizes["customers"].tolist(), "orientation": "h",
         "name": "Matching the filters", "marker": {"color": colours},
         "text": [f"{c:,}" for c in sizes["customers"]], "textposition": "inside", "insidetextanchor": "end",
         "hovertemplate": "%{y}<br>%{x:,} matching<extra></extra>"},
    ]
    return figure(traces, barmode="overlay", yaxis={"autorange": "reversed"},
                  margin={"l": label_margin(names), "t": 64},  # the two-entry legend sits above
                  xaxis={"title": {"text": "Customers"}, "rangemode": "tozero",
                         "range": [0, float(sizes["total"].max()) * 1.05]})


def means_heatmap_figure(z_means: pd.DataFrame) -> go.Figure:
    """Segment means of every feature in standard deviations from the whole base (rows: segments)."""
    if z_means.empty:
        return empty_figure(NO_MATCH)
    z = z_means.T.clip(-2.5, 2.5)  # features down, segments across
    trace = {"type": "heatmap", "z": z.to_numpy(), "x": list(z.columns), "y": [c.replace("_", " ") for c in z.index],
             "zmin": -2.5, "zmax": 2.5, "zmid": 0, "colorscale": [list(s) for s in DIVERGING],
             "customdata": z_means.T.to_numpy(), "xgap": 2, "ygap": 1,
             "colorbar": {"title": {"text": "sd"}, "thickness": 10},
             "hovertemplate": "%{x}<br>%{y}: %{customdata:+.2f} sd from the base<extra></extra>"}
    return figure([trace], xaxis={"side": "top", "showgrid": False},
                  yaxis={"autorange": "reversed", "showgrid": False, "tickfont": {"size": 10}},
                  margin={"l": label_margin(trace["y"], font_size=10)})


def boxplot_figure(boxes: pd.DataFrame, feature: str) -> go.Figure:
    """Distribution of one feature by segment, from precomputed quartiles and whiskers."""
    if boxes.empty:
        return empty_figure(NO_MATCH)
    traces = [{"type": "box", "name": row.name, "x": [row.name], "q1": [row.q1], "median": [row.median],
               "q3": [row.q3], "lowerfence": [row.lower], "upperfence": [row.upper], "mean": [row.mean],
               "marker": {"color": segment_colour(row.segment)}, "showlegend": False}
              for row in boxes.itertuples(index=False)]
    return figure(traces, yaxis={"title": {"text": feature.replace("_", " ")}})


def k_evidence_figure(table: pd.DataFrame, chosen: int) -> go.Figure:
    """The evidence for k: silhouette and bootstrap stability (left), Davies-Bouldin (right), chosen k marked."""
    if table.empty:
        return empty_figure(f"k was fixed at {chosen}")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=table["k"], y=table["silhouette"], name="Silhouette (higher is better)",
                             mode="lines+markers", line={"color": NAVY}), secondary_y=False)
    fig.add_trace(go.Scatter(x=table["k"], y=table["stability"], name="Stability, bootstrap ARI (higher is better)",
                             mode="lines+markers", line={"color": TEAL, "dash": "dot"}), secondary_y=False)
    fig.add_trace(go.Scatter(x=table["k"], y=table["davies_bouldin"], name="Davies-Bouldin (lower is better)",
                             mode="lines+markers", line={"color": ROSE}), secondary_y=True)
    fig.add_vline(x=chosen, line={"color": SAND, "width": 3}, annotation_text=f"chosen k = {chosen}")
    fig.update_xaxes(title_text="k (number of segments)", dtick=1)
    fig.update_yaxes(title_text="Silhouette / stability", secondary_y=False)
    fig.update_yaxes(title_text="Davies-Bouldin", showgrid=False, secondary_y=True)
    return themed(fig)


def elbow_figure(table: pd.DataFrame, elbow_k: int | None) -> go.Figure:
    """Inertia against k, the elbow marked."""
    if table.empty:
        return empty_figure("k was fixed by the user")
    fig = go.Figure(go.Scatter(x=table["k"], y=table["inertia"], mode="lines+markers", line={"color": NAVY},
                               hovertemplate="k=%{x}<br>inertia %{y:,.0f}<extra></extra>"))
    if elbow_k is not None:
        fig.add_vline(x=elbow_k, line={"color": SAND, "width": 2, "dash": "dash"}, annotation_text=f"elbow k = {elbow_k}")
    fig.update_xaxes(title_text="k", dtick=1)
    fig.update_yaxes(title_text="Inertia (within-segment sum of squares)", tickformat="~s")
    return themed(fig)


@dataclass(frozen=True)
class SegmentFigures:
    """The four charts that follow the filters."""

    scatter: go.Figure
    sizes: go.Figure
    heatmap: go.Figure
    boxes: go.Figure


def view_figures(view: object) -> SegmentFigures:
    """All filter-driven charts of a ``SegmentView`` (from ``dashapp.services.segments``)."""
    return SegmentFigures(
        scatter=pca_scatter_figure(view.sample, view.names, view.explained, view.n_customers),
        sizes=sizes_figure(view.sizes),
        heatmap=means_heatmap_figure(view.z_means),
        boxes=boxplot_figure(view.boxes, view.box_feature),
    )
