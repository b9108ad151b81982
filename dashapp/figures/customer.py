"""Customer page charts: money in and out per month."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashapp.figures.theme import NAVY, ROSE, TEAL, empty_figure, themed

COLOURS = {"credit": TEAL, "debit": ROSE}


def monthly_figure(monthly: pd.DataFrame) -> go.Figure:
    """Bars of the amount credited and debited each month (``month``, ``direction``, ``amount``)."""
    if monthly.empty:
        return empty_figure("No transactions")
    fig = go.Figure()
    for direction, part in monthly.groupby("direction", sort=True):
        fig.add_bar(x=part["month"], y=part["amount"], name=str(direction),
                    marker_color=COLOURS.get(str(direction), NAVY), customdata=part["count"],
                    hovertemplate="%{x|%b %Y}: %{y:,.0f} (%{customdata} transactions)<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="group", yaxis_title="amount", xaxis_title=None, legend_orientation="h")
    return themed(fig)
