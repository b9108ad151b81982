"""A self-contained HTML page of figures (the Risk portfolio's export): one inlined plotly.js, no network."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio

FIGURE_HEIGHT = 420
STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d2733;margin:24px;}"
    "h1{font-size:22px;margin:0 0 4px}p.meta{color:#5f6b7a;margin:0 0 16px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}"
    "section{border:1px solid #e9edf2;border-radius:6px;padding:8px}h2{font-size:15px;margin:4px 8px}"
)


def trace_types(figures: Sequence[go.Figure]) -> set[str]:
    """Every trace type the figures draw (which plotly.js bundle they need)."""
    return {trace.type for fig in figures for trace in fig.data}


def figures_html(title: str, meta: str, sections: Sequence[tuple[str, go.Figure]], plotly_js: str) -> str:
    """One HTML document: ``title``, a ``meta`` line and each ``(heading, figure)`` drawn by the inlined
    ``plotly_js`` (so it opens offline)."""
    parts = []
    for i, (heading, fig) in enumerate(sections):
        height = int(
            fig.layout.height or FIGURE_HEIGHT
        )  # a fixed height: "100%" collapses inside a grid cell
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"figure-{i}",
            default_height=f"{height}px",
            default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(f"<section><h2>{html.escape(heading)}</h2>{div}</section>")
    safe_js = plotly_js.replace("</script", "<\\/script")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{safe_js}</script></head><body>'
        f'<h1>{html.escape(title)}</h1><p class="meta">{html.escape(meta)}</p>'
        f'<div class="grid">{"".join(parts)}</div></body></html>'
    )
