"""Open the Customer page from any grid: clicking a ``customer_id`` cell navigates to ``/customer?id=...``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dash import Input, Output, callback, dcc, no_update

from dashapp.auth.rules import owned_by
from dashapp.services.ids import customer_ref
from dashapp.services.validation import InputError

CUSTOMER_PATH = "/customer"


def customer_href(event: dict[str, Any] | None) -> Any:
    """The Customer page's address for an AG Grid ``cellClicked`` event on a customer id, else ``no_update``."""
    if not isinstance(event, dict) or event.get("colId") != "customer_id":
        return no_update
    try:
        return f"{CUSTOMER_PATH}?id={quote(str(customer_ref(event.get('value'))), safe='')}"
    except InputError:
        return no_update


def customer_link(grid_id: str) -> dcc.Location:
    """A location component for the page's layout; :func:`register_customer_link` wires it to the grid."""
    return dcc.Location(id=f"{grid_id}-customer-link", refresh="callback-nav")


def register_customer_link(grid_id: str, page_module: str) -> None:
    """Register (once, at import of the page module ``page_module``, whose roles it then has) the callback
    grid click -> Customer page."""

    def follow(event: dict[str, Any] | None) -> Any:
        return customer_href(event)

    callback(
        Output(f"{grid_id}-customer-link", "href"), Input(grid_id, "cellClicked"), prevent_initial_call=True
    )(owned_by(page_module)(follow))
