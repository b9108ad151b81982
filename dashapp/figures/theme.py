"""The shared Plotly look: palette, template and an empty-state figure that every area uses."""

from __future__ import annotations

import os
from collections.abc import Iterable

import plotly.graph_objects as go
import plotly.io as pio

NAVY = "#1f3a5f"
TEAL = "#2a9d8f"
SKY = "#7fb8d8"
SAND = "#f4c95d"
ROSE = "#c8553d"
SLATE = "#8a99ad"
INK = "#1d2733"
MUTED = "#5f6b7a"
GRID = "#e9edf2"

#: Categorical colours, in the order traces and categories use them.
PALETTE: tuple[str, ...] = (NAVY, TEAL, SKY, SAND, ROSE, SLATE, "#6a4c93", "#4d908e")
#: Sequential scale (light to dark) for heat maps and continuous colour.
SEQUENTIAL: tuple[tuple[float, str], ...] = ((0.0, "#eef4f8"), (0.5, SKY), (1.0, NAVY))
#: Diverging scale (negative rose, positive teal), e.g. for SHAP values.
DIVERGING: tuple[tuple[float, str], ...] = ((0.0, ROSE), (0.5, "#f5f5f5"), (1.0, TEAL))

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "size": 12, "color": INK},
        colorway=list(PALETTE),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        # wide enough for an axis title and its tick labels, so ``automargin`` rarely has to push (each push redraws
        # the whole chart: half of a page's drawing time in Chromium before these margins)
        margin={"l": 60, "r": 16, "t": 48, "b": 52},
        hoverlabel={"font": {"family": FONT_FAMILY}, "bgcolor": "white"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        xaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False, "ticks": "", "automargin": True},
        yaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False, "ticks": "", "automargin": True},
        colorscale={"sequential": [list(s) for s in SEQUENTIAL], "diverging": [list(s) for s in DIVERGING]},
        bargap=0.25,
    )
)


#: registered as Plotly's default, so a figure carries the look without validating the template per figure
TEMPLATE_NAME = "ledgerlight"
pio.templates[TEMPLATE_NAME] = TEMPLATE
pio.templates.default = TEMPLATE_NAME


def label_margin(labels: Iterable[object], *, font_size: int = 12, title: bool = False) -> int:
    """Pixels of margin that a column of category labels needs beside the plot (``title``: room for an axis title).

    Charts whose labels are words (feature or segment names) set their margin from this, so Plotly's ``automargin``
    (still on, as a safety net) need not push, which would draw the chart a second time.
    """
    longest = max((len(str(label)) for label in labels), default=0)
    return min(int(longest * font_size * 0.52) + 16 + (22 if title else 0), 320)


def themed(fig: go.Figure, *, height: int | None = None) -> go.Figure:
    """Give a figure the Ledgerlight look (the default template, see :data:`TEMPLATE_NAME`) and optionally a height.

    Parameters
    ----------
    fig : Figure
        Any Plotly figure.
    height : int, optional
        Height in pixels; the card's default when omitted.
    """
    if height is not None:
        fig.layout.height = height
    return fig


#: Check every trace and layout property when a figure is built. The test suite turns it on
#: (``LEDGERLIGHT_VALIDATE_FIGURES=1``), so a misspelt property fails a test; serving leaves it off, because the
#: figures are built from this package's own literals and validation was a quarter of a chart callback's time.
VALIDATE_FIGURES = os.environ.get("LEDGERLIGHT_VALIDATE_FIGURES", "0") == "1"


def figure(data: list[dict] | None = None, **layout: object) -> go.Figure:
    """A themed figure built in one go from trace dicts and layout keywords.

    Calling ``update_layout`` / ``update_xaxes`` after construction re-validates the layout each time (5-9x the
    cost); here the properties are validated once, and only when :data:`VALIDATE_FIGURES` is on.
    """
    spec = {"data": data or [], "layout": layout}
    if VALIDATE_FIGURES:
        return go.Figure(spec)
    try:
        return go.Figure(spec, _validate=False)
    except (TypeError, ValueError):  # a Plotly without the switch: validate as usual
        return go.Figure(spec)


def empty_figure(message: str) -> go.Figure:
    """A blank figure carrying a centred message (for "no data" states of a chart)."""
    return figure(
        annotations=[
            {
                "text": message,
                "showarrow": False,
                "font": {"color": MUTED, "size": 13},
                "xref": "paper",
                "yref": "paper",
            }
        ],
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
