"""The "Create campaign" all-in-one component, shared by the Segments and Recommendations pages.

One component, one server callback (pattern-matching ids, ``MATCH`` on the component's ``aio_id``, which is the
audience's source: ``segments`` or ``recommendations``). The page hands the component its current audience (the
filter values, or product, model and size) with :func:`sync_audience`: a clientside callback that copies the
page's input values into the component's store, in the browser, without a request. The server callback belongs to
the Campaigns page (``owned_by``), so only the roles that may open ``/campaigns`` may create one; the role is the
signed-in user's, decided on the server, and every value of the store is validated by the service as any request.
"""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from dashapp.auth import signed_in, signed_in_role
from dashapp.auth.rules import owned_by
from dashapp.services import campaigns as svc
from dashapp.services import validation
from dashapp.services.bank import DataUnavailable
from dashapp.services.messages import public_message
from dashapp.services.served import NotTrained

CAMPAIGNS_PAGE = "dashapp.pages.campaigns"
SOURCES = ("segments", "recommendations")
COMPONENT = "CreateCampaign"


class CreateCampaign(html.Div):
    """Name, control share and (for a Segments filter) product, a create button, and where the campaign went.

    Parameters
    ----------
    aio_id : str
        The audience's source: ``segments`` or ``recommendations``.
    product_options : list, optional
        Products to choose from (a Segments filter has no product); None hides the product choice.
    """

    class ids:
        """The component's pattern-matching ids."""

        @staticmethod
        def part(name: str, aio_id: str) -> dict[str, str]:
            return {"component": COMPONENT, "subcomponent": name, "aio_id": aio_id}

        name = staticmethod(lambda aio_id: CreateCampaign.ids.part("name", aio_id))
        share = staticmethod(lambda aio_id: CreateCampaign.ids.part("share", aio_id))
        product = staticmethod(lambda aio_id: CreateCampaign.ids.part("product", aio_id))
        audience = staticmethod(lambda aio_id: CreateCampaign.ids.part("audience", aio_id))
        button = staticmethod(lambda aio_id: CreateCampaign.ids.part("button", aio_id))
        ranking = staticmethod(lambda aio_id: CreateCampaign.ids.part("ranking", aio_id))
        feedback = staticmethod(lambda aio_id: CreateCampaign.ids.part("feedback", aio_id))

    def __init__(self, aio_id: str, product_options: list[dict[str, Any]] | None = None, *,
                 inline: bool = False) -> None:  # fmt: skip
        if aio_id not in SOURCES:
            raise ValueError(f"unknown campaign source {aio_id!r}")
        ids = self.ids
        pick = dcc.Dropdown(id=ids.product(aio_id), options=product_options or [], placeholder="product to offer",
                            clearable=False)  # fmt: skip
        name = dbc.Input(id=ids.name(aio_id), placeholder="campaign name", maxLength=120, size="sm")
        share = dbc.InputGroup([
            dbc.InputGroupText("hold out"),
            dbc.Input(id=ids.share(aio_id), type="number", min=svc.MIN_CONTROL_PERCENT, max=svc.MAX_CONTROL_PERCENT,
                      step=1, value=svc.DEFAULT_CONTROL_PERCENT),
            dbc.InputGroupText("%"),
        ], size="sm")  # fmt: skip
        uplift = aio_id == "recommendations" and svc.uplift_ranking_available()
        ranking = dbc.Select(id=ids.ranking(aio_id), value=svc.LIST_RANKING, size="sm", options=[
            {"label": "rank as the list", "value": svc.LIST_RANKING},
            {"label": "rank by predicted uplift" + ("" if uplift else " (train the uplift model first)"),
             "value": svc.UPLIFT_RANKING, "disabled": not uplift},
        ])  # fmt: skip
        ranking = dbc.InputGroup([dbc.InputGroupText("contact first"), ranking], size="sm")
        button = dbc.Button("Create campaign", id=ids.button(aio_id), color="success", size="sm", outline=True,
                            className="text-nowrap")  # fmt: skip
        width = {"xs": 12, "md": "auto"} if inline else {"xs": 12}
        fields = dbc.Row([
            dbc.Col(html.Div(pick, hidden=product_options is None), xs=12),
            dbc.Col(name, xs=12, md=5 if inline else 12),
            dbc.Col(share, xs=12, md=4 if inline else 12, style={"maxWidth": "14rem"} if not inline else None),
            dbc.Col(html.Div(ranking, hidden=aio_id != "recommendations"), xs=12, md=3 if inline else 12),
            dbc.Col(button, **width),
        ], className="g-2 align-items-center")  # fmt: skip
        super().__init__([
            html.Div("New campaign from " + ("this list" if aio_id == "recommendations" else "this selection"),
                     className="small fw-semibold mb-1"),
            fields,
            html.Small("A random control group is held out in every segment, to measure the campaign by.",
                       className="text-muted d-block mt-1"),
            dcc.Store(id=ids.audience(aio_id), data={}),
            html.Div(id=ids.feedback(aio_id), className="small mt-1", role="status"),
        ], className="ll-create-campaign " + ("mb-2" if inline else "mt-3 pt-2 border-top"))  # fmt: skip


def sync_audience(aio_id: str, inputs: dict[str, tuple[str, str]]) -> None:
    """Copy the page's inputs ``{key: (component id, property)}`` into the component's audience store, in the
    browser (a clientside callback: no request). Call it once, at import of the page module."""
    keys = json.dumps(list(inputs))
    clientside_callback(
        f"function () {{ const keys = {keys}; const args = arguments; const out = {{}}; "
        "keys.forEach(function (k, i) { out[k] = args[i] === undefined ? null : args[i]; }); return out; }",
        Output(CreateCampaign.ids.audience(aio_id), "data"),
        *[Input(cid, prop) for cid, prop in inputs.values()],
    )


def _user() -> str:
    user = signed_in()
    return user.id if user is not None else "anonymous"


def _done(campaign: Any) -> html.Div:
    href = f"/campaigns?campaign={int(campaign.campaign_id)}"
    return html.Div(
        [
            html.Span(
                f"Campaign #{campaign.campaign_id} created: {campaign.n_treated:,} to contact, "
                f"{campaign.n_control:,} held out. ",
                className="text-success",
            ),
            dcc.Link("Open it on the Campaigns page", href=href, className="ll-campaign-link"),
        ]
    )


@callback(
    Output(CreateCampaign.ids.feedback(MATCH), "children"),
    Input(CreateCampaign.ids.button(MATCH), "n_clicks"),
    State(CreateCampaign.ids.name(MATCH), "value"),
    State(CreateCampaign.ids.share(MATCH), "value"),
    State(CreateCampaign.ids.product(MATCH), "value"),
    State(CreateCampaign.ids.audience(MATCH), "data"),
    State(CreateCampaign.ids.ranking(MATCH), "value"),
    prevent_initial_call=True,
)
@owned_by(CAMPAIGNS_PAGE)
def create(_clicks, name, share, product, audience, ranking):
    """Create the campaign from the page's current audience (checked on the server) and link to it."""
    trigger = ctx.triggered_id
    source = validation.choice(trigger.get("aio_id") if isinstance(trigger, dict) else None, "campaign source",
                               SOURCES)  # fmt: skip
    try:
        campaign = svc.create_from(
            source, audience, product, name, share, role=signed_in_role(), user=_user(), ranking=ranking
        )
    except (ValueError, NotTrained, DataUnavailable) as exc:  # InputError, ExportTooLarge: say why, in place
        return html.Span(public_message(exc), className="text-danger")
    return _done(campaign)
