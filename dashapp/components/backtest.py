"""The back-test's traffic-light table: one row per risk band, predicted vs realised default rate and its
test."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

#: traffic light -> Bootstrap colour of its badge
LIGHT_COLOURS = {"green": "success", "amber": "warning", "red": "danger"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def band_table(
    bands: list[dict[str, Any]], *, has_true_pd: bool = False, table_id: str | None = None
) -> dbc.Table:
    """Band, loans, defaults, mean PD, realised rate, its 95% Jeffreys interval, the p-value and the traffic
    light
    (and the mean true PD on the demo bank)."""
    heads = ["Band", "Loans", "Defaults", "Mean PD", "Realised", "95% Jeffreys interval", "p-value", "Light"]
    if has_true_pd:
        heads.append("True PD")
    rows = []
    for b in bands:
        cells = [
            html.Td(html.Strong(b["band"])),
            html.Td(f"{b['n']:,}"),
            html.Td(f"{b['defaults']:,}"),
            html.Td(_pct(b["mean_pd"])),
            html.Td(_pct(b["realised"])),
            html.Td(f"{_pct(b['jeffreys_low'])} – {_pct(b['jeffreys_high'])}"),
            html.Td(f"{b['p_value']:.3f}"),
            html.Td(
                dbc.Badge(
                    b["light"],
                    color=LIGHT_COLOURS.get(b["light"], "secondary"),
                    className="ll-light",
                    **({"id": f"{table_id}-light-{b['band']}"} if table_id else {}),
                )
            ),
        ]
        if has_true_pd:
            cells.append(html.Td(_pct(b.get("true_pd"))))
        rows.append(html.Tr(cells))
    extra = {"id": table_id} if table_id else {}
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)],
        bordered=False,
        hover=True,
        size="sm",
        responsive=True,
        className="mb-0 ll-metrics-table",  # cells on one line (the interval broke into three on a phone)
        **extra,
    )
