"""The recourse panel: what would bring a declined applicant's PD under the cut-off, in words."""

from __future__ import annotations

from dash import html

from bankdata import format_value
from risk import Recourse, plain_name


def recourse_block(rec: Recourse, block_id: str) -> html.Div:
    """What would bring the PD under the cut-off, in words (shared with the Applicant page)."""
    if rec.approved_already:
        return html.Div("Approved at this cut-off: no change needed.", id=block_id, className="small")
    if not rec.changes:
        return html.Div(
            "No change to the loan amount, term, debt-to-income or balance brings the PD under the cut-off.",
            id=block_id,
            className="small",
        )
    head = "To be approved: " if rec.feasible else "Closest found (still declined): "
    items = [
        html.Li(
            f"{plain_name(c.feature)}: {format_value(c.feature, c.before)} → {format_value(c.feature, c.after)}"
        )
        for c in rec.changes
    ]
    return html.Div(
        [
            html.Strong(head),
            html.Ul(items, className="mb-1"),
            html.Small(f"PD {rec.pd_before:.1%} → {rec.pd_after:.1%}", className="text-muted"),
        ],
        id=block_id,
        className="small mt-2",
    )
