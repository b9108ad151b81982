"""The Recommendations page's metrics table: every model's held-out metrics at ``k``, sized to fit its card.

The raw frame's columns (``precision@5``, ``recommend_seconds``...) made the table wider than its card at 1440 px
and at 390 px; here the headers are short (the full name in the header's tooltip and the ``@k`` said once in the
caption), numbers do not wrap, model names do, and a table still too wide scrolls inside the card.
"""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

#: metric column stem -> (short header, full name); the order of the comparison chart, then coverage
COLUMNS: dict[str, tuple[str, str]] = {
    "ndcg": ("nDCG", "normalised discounted cumulative gain"),
    "precision": ("Prec.", "precision"),
    "recall": ("Recall", "recall"),
    "map": ("MAP", "mean average precision"),
    "hit_rate": ("Hit rate", "hit rate"),
}


def _cell(value: object, fmt: str) -> str:
    if not isinstance(value, int | float) or math.isnan(float(value)):
        return "–"
    return format(float(value), fmt)


def recs_metrics_table(metrics: pd.DataFrame, k: int, *, table_id: str = "recs-metrics") -> html.Div:
    """The models' metrics at ``k`` (rows: models, best first as given) with a one-line caption.

    Parameters
    ----------
    metrics : DataFrame
        ``model`` and ``<metric>@<k>`` columns (others, such as timings, are left out), plus ``coverage``.
    k : int
        The list length the metrics were computed at.
    table_id : str
        Element id of the table.
    """
    stems = [s for s in COLUMNS if f"{s}@{k}" in metrics.columns]
    head = [html.Th("model", scope="col")]
    head += [
        html.Th(COLUMNS[s][0], scope="col", title=f"{COLUMNS[s][1]} at {k}", className="text-end")
        for s in stems
    ]
    if "coverage" in metrics.columns:
        head.append(
            html.Th(
                "Cov.",
                scope="col",
                title=f"coverage: share of the products in at least one customer's top {k}",
                className="text-end",
            )
        )
    rows = []
    for _, row in metrics.iterrows():
        cells = [html.Td(str(row["model"]), className="ll-wrap")]
        cells += [html.Td(_cell(row[f"{s}@{k}"], ".3f"), className="text-end") for s in stems]
        if "coverage" in metrics.columns:
            cells.append(html.Td(_cell(row["coverage"], ".0%"), className="text-end"))
        rows.append(html.Tr(cells))
    table = dbc.Table(
        [html.Thead(html.Tr(head)), html.Tbody(rows)],
        striped=True,
        size="sm",
        responsive=True,
        class_name="small mb-1 ll-metrics-table",
        id=table_id,
    )
    caption = html.Small(
        f"All at the top {k}; coverage: share of the products in at least one customer's list. "
        "Hover a header for its full name.",
        className="text-muted",
    )
    return html.Div([table, caption])
