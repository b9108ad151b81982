"""Customer page charts: money in and out per month."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bankdata import category_label
from dashapp.figures.theme import NAVY, ROSE, TEAL, empty_figure, figure

COLOURS = {"credit": TEAL, "debit": ROSE}


def monthly_figure(monthly: pd.DataFrame) -> go.Figure:
    """Bars of the amount credited and debited each month (``month``, ``direction``, ``amount``)."""
    if monthly.empty:
        return empty_figure("No transactions")
    traces = [
        {
            "type": "bar",
            "x": part["month"].dt.strftime("%Y-%m-%d").tolist(),
            "y": part["amount"].round(2).tolist(),
            "name": category_label(direction),
            "marker": {"color": COLOURS.get(str(direction), NAVY)},
            "customdata": part["count"].tolist(),
            "hovertemplate": "%{x|%b %Y}: %{y:,.0f} (%{customdata} transactions)<extra>%{fullData.name}</extra>",
        }
        for direction, part in monthly.groupby("direction", sort=True)
    ]
    return figure(traces, barmode="group", yaxis={"title": {"text": "Amount"}}, legend={"orientation": "h"})
