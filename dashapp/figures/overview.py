"""Overview charts: pure functions from the Overview aggregates (small DataFrames) to Plotly figures."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bankdata import category_label
from dashapp.figures.theme import NAVY, ROSE, SKY, TEAL, empty_figure, figure, themed

DIRECTION_COLOURS = {"debit": NAVY, "credit": TEAL}
DIRECTION_NAMES = {"debit": "Spending (debit)", "credit": "Income (credit)"}


def monthly_volume_figure(monthly: pd.DataFrame) -> go.Figure:
    """Monthly spending (bars, left axis) and income (line, right axis): two scales, so spending's seasonality shows."""
    if monthly.empty:
        return empty_figure("No transactions")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for direction, part in monthly.groupby("direction", sort=True):
        name = DIRECTION_NAMES.get(direction, str(direction))
        hover = "%{x|%b %Y}<br>%{y:,.0f}<br>%{customdata:,} transactions<extra>" + name + "</extra>"
        if direction == "credit":
            trace = go.Scatter(
                x=part["month"],
                y=part["amount"],
                name=name,
                mode="lines+markers",
                line={"color": DIRECTION_COLOURS["credit"], "width": 2.5},
            )
        else:
            trace = go.Bar(
                x=part["month"],
                y=part["amount"],
                name=name,
                marker_color=DIRECTION_COLOURS.get(direction, NAVY),
            )
        fig.add_trace(
            trace.update(customdata=part["transactions"], hovertemplate=hover),
            secondary_y=direction == "credit",
        )
    fig.update_yaxes(title_text="Spending", tickformat=".3~s", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="Income",
        tickformat=".3~s",
        rangemode="tozero",
        showgrid=False,
        tickmode="auto",
        nticks=6,
        secondary_y=True,
    )
    fig.update_xaxes(dtick="M1", tickformat="%b\n%Y")
    return themed(fig)


def income_figure(income: pd.DataFrame) -> go.Figure:
    """Histogram of annual income from precomputed bins (``left``, ``right``, ``customers``)."""
    if income.empty:
        return empty_figure("No customers")
    centre = (income["left"] + income["right"]) / 2
    ranges = [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in zip(income["left"], income["right"], strict=True)]
    ranges[-1] = f"{income['left'].iloc[-1]:,.0f} and above"  # the last bin holds the folded-in tail
    fig = go.Figure(
        go.Bar(
            x=centre,
            y=income["customers"],
            width=(income["right"] - income["left"]) * 0.92,
            marker_color=SKY,
            customdata=ranges,
            hovertemplate="%{customdata}<br>%{y:,} customers<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="Annual income", tickformat="~s")
    fig.update_yaxes(title_text="Customers")
    return themed(fig)


def default_rate_figure(rates: pd.DataFrame, label: str) -> go.Figure:
    """Default rate per group (horizontal bars, labelled), e.g. by loan purpose or credit-score band."""
    if rates.empty:
        return empty_figure("No loans")
    labels = [category_label(g) for g in rates["group"].astype(str)]
    trace = {
        "type": "bar",
        "x": rates["default_rate"].to_numpy(),
        "y": labels,
        "orientation": "h",
        "marker": {"color": ROSE},
        "text": [f"{r:.1%}" for r in rates["default_rate"]],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": rates[["loans", "defaults"]].to_numpy(),
        "hovertemplate": label
        + ": %{y}<br>%{x:.1%} default rate<br>%{customdata[1]:,} of %{customdata[0]:,} "
        "loans<extra></extra>",
    }
    return figure(
        [trace],
        xaxis={
            "title": {"text": "Default rate"},
            "tickformat": ".0%",
            "range": [0, float(rates["default_rate"].max()) * 1.25 or 1],
        },
        yaxis={"autorange": "reversed", "title": {"text": None}},
    )


def uptake_figure(uptake: pd.DataFrame) -> go.Figure:
    """Share of customers holding at least one product of each family."""
    if uptake.empty:
        return empty_figure("No products")
    fig = go.Figure(
        go.Bar(
            x=uptake["family"].str.capitalize(),
            y=uptake["share"],
            marker_color=TEAL,
            text=[f"{s:.0%}" for s in uptake["share"]],
            textposition="outside",
            cliponaxis=False,
            customdata=uptake["customers"],
            hovertemplate="%{x}<br>%{y:.1%} of customers (%{customdata:,})<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="Customers holding", tickformat=".0%", rangemode="tozero")
    return themed(fig)


def regions_figure(regions: pd.DataFrame) -> go.Figure:
    """Customers per region, largest first, with each region's total balance on hover."""
    if regions.empty:
        return empty_figure("No customers")
    fig = go.Figure(
        go.Bar(
            x=regions["region"],
            y=regions["customers"],
            marker_color=NAVY,
            customdata=regions["balance"],
            hovertemplate="%{x}<br>%{y:,} customers<br>%{customdata:,.0f} in balances<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="Customers")
    return themed(fig)
