"""Campaign figures: pure functions from a campaign report to Plotly figures."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashapp.figures.theme import MUTED, SLATE, TEAL, empty_figure, figure


def qini_figure(report: dict[str, Any]) -> go.Figure:
    """The Qini curve of the ranking the campaign was built from: incremental responders (as a share of the
    audience) against the share targeted, best first, with the random-targeting line to the same end point."""
    curve = report.get("qini_curve")
    if not curve or len(curve.get("share_targeted", [])) < 2:
        return empty_figure("no Qini curve: the audience was not ranked, or one arm is empty")
    x, y = list(curve["share_targeted"]), list(curve["incremental"])
    qini = report.get("qini")
    name = "ranking used" if qini is None else f"ranking used (Qini {qini:+.4f})"
    return figure(
        [
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "mode": "lines",
                "name": name,
                "line": {"color": TEAL, "width": 3},
                "hovertemplate": "%{x:.0%} targeted: %{y:.2%} incremental<extra></extra>",
            },
            {
                "type": "scatter",
                "x": [0.0, x[-1]],
                "y": [0.0, y[-1]],
                "mode": "lines",
                "name": "random targeting",
                "line": {"color": SLATE, "dash": "dash"},
                "hoverinfo": "skip",
            },
        ],
        xaxis={"title": {"text": "share targeted, best score first"}, "tickformat": ".0%", "range": [0, 1]},
        yaxis={
            "title": {"text": "extra responders (share)"},
            "tickformat": ".1%",
            "zeroline": True,
            "zerolinecolor": MUTED,
            "automargin": True,
        },
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"l": 56, "r": 12, "t": 36, "b": 48},
    )
