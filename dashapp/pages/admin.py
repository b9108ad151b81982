"""Admin: the users (list, add) and the audit trail. Path ``/admin``; only the ``admin`` role may open it or call
its callbacks (``dashapp.policy``)."""

from __future__ import annotations

import logging

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from bankdata import DatabaseError
from dashapp import policy
from dashapp.auth import ROLES, create_user, list_users, signed_in
from dashapp.components import error_card, page_header
from dashapp.components.row_blocks import EMPTY_BLOCK, rows_block
from dashapp.policy import Capability
from dashapp.services import audit, validation

dash.register_page(
    __name__,
    path="/admin",
    name="Admin",
    title="Ledgerlight · admin",
    order=90,
    description="Users and the audit trail.",
)

log = logging.getLogger("ledgerlight.admin")
AUDIT_BLOCK = 100  # rows per request of the audit grid (the server pages the whole trail)


def _grid(grid_id: str, rows: list[dict], columns: list[str], height: int) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=[{"field": c, "filter": True, "sortable": True} for c in columns],
        defaultColDef={"resizable": True, "flex": 1, "minWidth": 100},
        style={"height": f"{height}px"},
        dashGridOptions={"pagination": True, "paginationPageSize": 20},
    )


def _user_rows() -> list[dict]:
    users = list_users()
    return users.assign(created_at=users["created_at"].astype("str")).to_dict("records")


def _audit_grid() -> dag.AgGrid:
    columns = [
        {
            "field": c,
            "sortable": c in audit.TRAIL_SORTABLE,
            "filter": "agTextColumnFilter" if c in audit.TRAIL_FILTERS else False,
            **({"sort": "desc"} if c == "ts" else {}),
        }
        for c in audit.TRAIL_COLUMNS
    ]
    return dag.AgGrid(
        id="admin-audit",
        rowModelType="infinite",
        columnDefs=columns,
        defaultColDef={"resizable": True, "flex": 1, "minWidth": 100, "floatingFilter": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,
            "cacheBlockSize": AUDIT_BLOCK,
            "maxBlocksInCache": 10,
            "infiniteInitialRowCount": AUDIT_BLOCK,
        },
        style={"height": "520px"},
    )


def _add_user_form() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Add a user"),
            dbc.CardBody(
                [
                    dbc.Input(
                        id="admin-new-name",
                        placeholder="user name",
                        maxLength=60,
                        className="mb-2",
                        autocomplete="off",
                    ),
                    dbc.Select(
                        id="admin-new-role",
                        options=[{"label": r, "value": r} for r in ROLES],
                        value="marketing",
                        className="mb-2",
                    ),
                    dbc.Input(
                        id="admin-new-password",
                        type="password",
                        placeholder="password (10+ characters)",
                        maxLength=200,
                        className="mb-2",
                        autocomplete="new-password",
                    ),
                    dbc.Button("Add user", id="admin-add", color="primary", size="sm"),
                    html.Div(id="admin-add-feedback", className="small mt-2"),
                ]
            ),
        ],
        className="ll-card h-100",
    )


def layout(**_query: str) -> html.Div:
    """The users grid with the add form, and the audit trail (paged, sorted and filtered by the server)."""
    header = page_header("Admin", "Who may sign in, and what they did.", how_to="admin")
    try:
        users = _user_rows()
    except DatabaseError as exc:
        return html.Div([header, error_card(str(exc))])
    return html.Div(
        [
            header,
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Users"),
                                dbc.CardBody(
                                    _grid("admin-users", users, ["username", "role", "created_at"], 300)
                                ),
                            ],
                            className="ll-card h-100",
                        ),
                        lg=8,
                    ),
                    dbc.Col(_add_user_form(), lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader("Audit trail (newest first; filtered by the server)"),
                    dbc.CardBody(
                        [
                            html.Div(
                                id="admin-audit-note", className="text-danger small mb-2", role="status"
                            ),
                            _audit_grid(),
                        ]
                    ),
                ],
                className="ll-card",
            ),
        ]
    )


@callback(
    Output("admin-add-feedback", "children"),
    Output("admin-users", "rowData"),
    Output("admin-new-password", "value"),
    Input("admin-add", "n_clicks"),
    State("admin-new-name", "value"),
    State("admin-new-role", "value"),
    State("admin-new-password", "value"),
    prevent_initial_call=True,
)
def add_user(_clicks, name, role, password):
    """Create the user (recorded in the audit log) and refresh the grid; the password field is cleared."""
    name = validation.text(name, "user name", max_len=60, default="")
    role = validation.choice(role, "role", ROLES, default="")
    password = validation.text(password, "password", max_len=200, default="")
    admin = signed_in()
    policy.require(admin.role if admin else None, Capability.MANAGE_USERS, "add users")
    try:
        user = create_user(name, password, role, by=admin.id if admin else "unknown")
    except (ValueError, DatabaseError) as exc:
        return html.Span(str(exc), className="text-danger"), dash.no_update, ""
    return html.Span(f"Added {user.id} ({user.role}).", className="text-success"), _user_rows(), ""


@callback(
    Output("admin-audit", "getRowsResponse"),
    Output("admin-audit-note", "children"),
    Input("admin-audit", "getRowsRequest"),
)
def audit_rows(request: dict | None):
    """One block of the audit trail from the database (the grid never holds the whole trail)."""
    if request is None:
        return dash.no_update, dash.no_update
    try:
        return rows_block(request, audit.trail_page), ""
    except DatabaseError as exc:
        log.error("audit grid: %s", exc)
        return EMPTY_BLOCK, f"The audit trail cannot be shown: {exc}."
