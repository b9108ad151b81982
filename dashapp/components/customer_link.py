"""Open the Customer page from any grid: clicking a ``customer_id`` cell navigates to ``/customer?id=...``."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, no_update

CUSTOMER_PATH = "/customer"


def customer_href(event: dict[str, Any] | None) -> Any:
    """The Customer page's address for an AG Grid ``cellClicked`` event on a customer id, else ``no_update``."""
    if not event or event.get("colId") != "customer_id":
        return no_update
    value = str(event.get("value", "")).strip()
    return f"{CUSTOMER_PATH}?id={value}" if value.isdigit() else no_update


def customer_link(grid_id: str) -> dcc.Location:
    """A location component for the page's layout; :func:`register_customer_link` wires it to the grid."""
    return dcc.Location(id=f"{grid_id}-customer-link", refresh="callback-nav")


def register_customer_link(grid_id: str) -> None:
    """Register (once, at import of the page module) the callback grid click -> Customer page."""
    callback(Output(f"{grid_id}-customer-link", "href"), Input(grid_id, "cellClicked"),
             prevent_initial_call=True)(customer_href)
