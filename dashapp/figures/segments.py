"""Segments charts: pure functions from the segments service's small frames to Plotly figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bankdata import feature_label

if TYPE_CHECKING:  # figures never import the services layer at run time
    from dashapp.services.segments import SegmentView

from dashapp.figures.theme import (
    DIVERGING,
    INK,
    MUTED,
    NAVY,
    PALETTE,
    ROSE,
    SAND,
    SLATE,
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


def pca_scatter_figure(
    sample: pd.DataFrame, names: dict[int, str], explained: list[float], n_matching: int
) -> go.Figure:
    """PCA map of the (sampled) filtered customers, one SVG trace per segment; axis titles give explained variance.

    SVG, not WebGL: the sample is small (``SCATTER_POINTS``) and the CSP allows no ``eval``, which WebGL traces need.
    """
    if sample.empty:
        return empty_figure(NO_MATCH)
    traces = [
        {
            "type": "scatter",
            "x": part["pc1"].to_numpy(),
            "y": part["pc2"].to_numpy(),
            "mode": "markers",
            "name": names.get(int(seg), f"Segment {seg}"),
            "marker": {"size": 5, "opacity": 0.6, "color": segment_colour(int(seg))},
            "customdata": part["customer_id"].to_numpy(),
            "hovertemplate": "customer %{customdata}<extra>%{fullData.name}</extra>",
        }
        for seg, part in sample.groupby("segment", sort=True)
    ]
    ev = list(explained) + [float("nan")] * (2 - len(explained))
    notes = []
    if n_matching > len(sample):
        notes.append(
            {
                "text": f"showing a sample of {len(sample):,} of {n_matching:,}",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 0,
                "xanchor": "right",
                "yanchor": "bottom",
                "font": {"color": MUTED, "size": 11},
            }
        )
    return figure(
        traces,
        xaxis={"title": {"text": f"PC1 ({ev[0]:.0%} of variance)"}},
        yaxis={"title": {"text": f"PC2 ({ev[1]:.0%} of variance)"}},
        annotations=notes,
    )


def sizes_figure(sizes: pd.DataFrame) -> go.Figure:
    """Customers per segment matching the filters (bars), against each segment's full size (outline)."""
    if sizes.empty or sizes["customers"].sum() == 0:
        return empty_figure(NO_MATCH)
    colours = [segment_colour(s) for s in sizes["segment"]]
    names = sizes["name"].tolist()
    traces = [
        {
            "type": "bar",
            "y": names,
            "x": sizes["total"].tolist(),
            "orientation": "h",
            "name": "All customers",
            "marker": {"color": "rgba(0,0,0,0)", "line": {"color": colours, "width": 1.5}},
            "hovertemplate": "%{y}<br>%{x:,} customers in all<extra></extra>",
        },
        {
            "type": "bar",
            "y": names,
            "x": sizes["customers"].tolist(),
            "orientation": "h",
            "name": "Matching the filters",
            "marker": {"color": colours},
            "text": [f"{c:,}" for c in sizes["customers"]],
            "textposition": "inside",
            "insidetextanchor": "end",
            "hovertemplate": "%{y}<br>%{x:,} matching<extra></extra>",
        },
    ]
    return figure(
        traces,
        barmode="overlay",
        yaxis={"autorange": "reversed"},
        margin={"l": label_margin(names), "t": 64},  # the two-entry legend sits above
        xaxis={
            "title": {"text": "Customers"},
            "rangemode": "tozero",
            "range": [0, float(sizes["total"].max()) * 1.05],
        },
    )


def means_heatmap_figure(z_means: pd.DataFrame) -> go.Figure:
    """Segment means of every feature in standard deviations from the whole base (rows: segments)."""
    if z_means.empty:
        return empty_figure(NO_MATCH)
    z = z_means.T.clip(-2.5, 2.5)  # features down, segments across
    trace = {
        "type": "heatmap",
        "z": z.to_numpy(),
        "x": list(z.columns),
        "y": [feature_label(str(c)) for c in z.index],
        "zmin": -2.5,
        "zmax": 2.5,
        "zmid": 0,
        "colorscale": [list(s) for s in DIVERGING],
        "customdata": z_means.T.to_numpy(),
        "xgap": 2,
        "ygap": 1,
        "colorbar": {"title": {"text": "sd"}, "thickness": 10},
        "hovertemplate": "%{x}<br>%{y}: %{customdata:+.2f} sd from the base<extra></extra>",
    }
    return figure(
        [trace],
        xaxis={"side": "top", "showgrid": False},
        yaxis={"autorange": "reversed", "showgrid": False, "tickfont": {"size": 10}},
        margin={"l": label_margin(trace["y"], font_size=10)},
    )


def boxplot_figure(boxes: pd.DataFrame, feature: str) -> go.Figure:
    """Distribution of one feature by segment, from precomputed quartiles and whiskers."""
    if boxes.empty:
        return empty_figure(NO_MATCH)
    traces = [
        {
            "type": "box",
            "name": row.name,
            "x": [row.name],
            "q1": [row.q1],
            "median": [row.median],
            "q3": [row.q3],
            "lowerfence": [row.lower],
            "upperfence": [row.upper],
            "mean": [row.mean],
            "marker": {"color": segment_colour(row.segment)},
            "showlegend": False,
        }
        for row in boxes.itertuples(index=False)
    ]
    return figure(traces, yaxis={"title": {"text": feature_label(feature)}})


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column of the k table (all NaN when an older version's evidence lacks it)."""
    if name not in table.columns:
        return pd.Series(float("nan"), index=table.index, dtype="float64")
    return pd.to_numeric(table[name], errors="coerce")


def has_gap(table: pd.DataFrame) -> bool:
    """Whether the k evidence holds the gap statistic (versions trained before the gap rule do not)."""
    return bool(_column(table, "gap").notna().any())


def k_evidence_figure(table: pd.DataFrame, chosen: int, stable_ari: float | None = None) -> go.Figure:
    """The evidence that chooses k: the gap statistic with its ±1 SE error bars (top) and bootstrap stability
    against its threshold (bottom); ks that fail stability are greyed, the chosen k is marked.

    Evidence without a gap statistic (versions trained before the gap rule) shows the silhouette in its place.
    """
    if table.empty:
        return empty_figure(f"k was fixed at {chosen}")
    table = table.sort_values("k")
    ks = table["k"].astype(int).tolist()
    stability = _column(table, "stability")
    with_stability = bool(stability.notna().any())
    unstable = (
        (stability < stable_ari).tolist() if with_stability and stable_ari is not None else [False] * len(ks)
    )
    gap = has_gap(table)
    top, top_se = (
        (_column(table, "gap"), _column(table, "gap_se")) if gap else (_column(table, "silhouette"), None)
    )
    top_title = "Gap statistic (±1 SE)" if gap else "Silhouette (no gap in this version)"
    top_name = "Gap statistic" if gap else "Silhouette"
    rows = 2 if with_stability else 1
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.66, 0.34] if rows == 2 else [1.0],
    )
    colours = [SLATE if bad else NAVY for bad in unstable]
    main = go.Scatter(
        x=ks,
        y=top,
        name=top_name,
        mode="lines+markers",
        line={"color": NAVY},
        marker={"color": colours, "size": 8},
        showlegend=False,
        hovertemplate=f"k=%{{x}}<br>{top_name.lower()} %{{y:.3f}}<extra></extra>",
    )
    if top_se is not None:
        main.error_y = {
            "type": "data",
            "array": top_se.fillna(0).tolist(),
            "visible": True,
            "color": NAVY,
            "thickness": 1.5,
            "width": 5,
        }
        main.customdata = top_se.tolist()
        main.hovertemplate = "k=%{x}<br>gap %{y:.3f} ± %{customdata:.3f}<extra></extra>"
    fig.add_trace(main, row=1, col=1)
    if chosen in ks:
        at = ks.index(chosen)
        fig.add_trace(
            go.Scatter(
                x=[chosen],
                y=[top.iloc[at]],
                name=f"chosen k = {chosen}",
                mode="markers",
                marker={"color": SAND, "size": 16, "symbol": "star", "line": {"color": INK, "width": 1}},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    if with_stability:
        fig.add_trace(
            go.Bar(
                x=ks,
                y=stability,
                name="Stability (bootstrap ARI)",
                marker={"color": [SLATE if bad else TEAL for bad in unstable]},
                showlegend=False,
                hovertemplate="k=%{x}<br>stability (ARI) %{y:.2f}<extra></extra>",
            ),
            row=2,
            col=1,
        )
        if (
            stable_ari is not None
        ):  # the threshold: a dashed line, labelled on the axis (no text over the bars)
            fig.add_hline(y=stable_ari, line={"color": INK, "width": 1, "dash": "dash"}, row=2, col=1)
    for k, bad in zip(ks, unstable, strict=True):
        if bad:  # a grey band over both panels: this k fails stability and cannot be chosen
            fig.add_shape(
                type="rect",
                x0=k - 0.5,
                x1=k + 0.5,
                y0=0,
                y1=1,
                xref="x",
                yref="paper",
                fillcolor=SLATE,
                opacity=0.15,
                line_width=0,
                layer="below",
            )
    fig.add_shape(
        type="line",
        x0=chosen,
        x1=chosen,
        y0=0,
        y1=1,
        xref="x",
        yref="paper",
        line={"color": SAND, "width": 2},
        opacity=0.8,
    )
    fig.add_annotation(
        x=chosen,
        y=1,
        xref="x",
        yref="paper",
        yanchor="bottom",
        showarrow=False,
        text=f"<b>chosen k = {chosen}</b>",
        font={"color": INK},
    )
    fig.update_xaxes(dtick=1, range=[ks[0] - 0.5, ks[-1] + 0.5])
    fig.update_xaxes(title_text="k (number of segments)", row=rows, col=1)
    fig.update_yaxes(title_text=top_title, row=1, col=1)
    if with_stability:
        ticks = sorted({0.0, 0.5, 1.0, *([stable_ari] if stable_ari is not None else [])})
        fig.update_yaxes(
            title_text="Stability",
            range=[0, 1.05],
            tickvals=ticks,
            ticktext=[f"{t:g}" for t in ticks],
            row=2,
            col=1,
        )
    return themed(fig)


def k_scores_figure(table: pd.DataFrame, chosen: int) -> go.Figure:
    """Silhouette (left axis) and Davies-Bouldin (right axis) per k: reported beside the gap, not deciding k."""
    if table.empty:
        return empty_figure(f"k was fixed at {chosen}")
    table = table.sort_values("k")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=table["k"],
            y=_column(table, "silhouette"),
            name="Silhouette (higher is better)",
            mode="lines+markers",
            line={"color": NAVY},
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=table["k"],
            y=_column(table, "davies_bouldin"),
            name="Davies-Bouldin (lower is better, right axis)",
            mode="lines+markers",
            line={"color": ROSE, "dash": "dot"},
        ),
        secondary_y=True,
    )
    fig.add_vline(x=chosen, line={"color": SAND, "width": 2})
    fig.add_annotation(
        x=chosen,
        y=1,
        xref="x",
        yref="paper",
        yanchor="bottom",
        showarrow=False,
        text=f"chosen k = {chosen}",
        font={"color": MUTED, "size": 11},
    )
    # the legend at the bottom of the figure (room for two lines on a phone), the "chosen k" label above the plot
    fig.update_layout(
        legend={
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0,
            "xanchor": "left",
            "x": 0,
        },
        margin={"b": 110},
    )
    fig.update_xaxes(title_text="k (number of segments)", dtick=1)
    fig.update_yaxes(title_text="Silhouette", tickformat=".2f", secondary_y=False)
    fig.update_yaxes(title_text="Davies-Bouldin", tickformat=".2f", showgrid=False, secondary_y=True)
    return themed(fig)


def elbow_figure(table: pd.DataFrame, elbow_k: int | None) -> go.Figure:
    """Inertia against k, the elbow marked: a diagnostic, not what chooses k."""
    if table.empty:
        return empty_figure("k was fixed by the user")
    fig = go.Figure(
        go.Scatter(
            x=table["k"],
            y=table["inertia"],
            mode="lines+markers",
            line={"color": NAVY},
            hovertemplate="k=%{x}<br>inertia %{y:,.0f}<extra></extra>",
        )
    )
    if elbow_k is not None:
        fig.add_vline(
            x=elbow_k,
            line={"color": SLATE, "width": 2, "dash": "dash"},
            annotation={
                "text": f"elbow k = {elbow_k} (diagnostic)",
                "xshift": 4,
                "font": {"color": MUTED, "size": 11},
            },
        )
    ks = table["k"].astype(int)
    fig.update_xaxes(title_text="k", dtick=1, range=[ks.min() - 0.5, ks.max() + 0.5])
    fig.update_yaxes(title_text="Inertia (within-segment sum of squares)", tickformat="~s")
    return themed(fig)


@dataclass(frozen=True)
class SegmentFigures:
    """The four charts that follow the filters."""

    scatter: go.Figure
    sizes: go.Figure
    heatmap: go.Figure
    boxes: go.Figure


def view_figures(view: SegmentView) -> SegmentFigures:
    """All filter-driven charts of a ``SegmentView`` (from ``dashapp.services.segments``)."""
    return SegmentFigures(
        scatter=pca_scatter_figure(view.sample, view.names, view.explained, view.n_customers),
        sizes=sizes_figure(view.sizes),
        heatmap=means_heatmap_figure(view.z_means),
        boxes=boxplot_figure(view.boxes, view.box_feature),
    )
