"""The Dash app: shell (navbar, page container, footer), Dash Pages, vendored assets, sign-in, ``/healthz`` and the
JSON API (``/api/v1``, :mod:`dashapp.api`).

``gunicorn dashapp.app:server`` serves it. Building the app loads no data: pages call services, which read the
database and artifacts lazily, once per worker.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import cast

import dash
import flask
from dash import dcc, html

from dashapp.api import init_api
from dashapp.auth import csrf_token, init_auth, signed_in, signed_in_role, visible_pages
from dashapp.components import footer, nav_pages, navbar
from dashapp.figures.theme import TEAL
from dashapp.services.docs import IMAGE_ROUTE, IMAGES_DIR

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"


def shell(app: dash.Dash) -> html.Div:
    """The layout around every page: navbar (the pages the signed-in user may open, by ``order``; the user and
    sign-out), page container, footer. Built per request, since the navbar depends on who asks."""
    user = signed_in()
    pages = visible_pages(signed_in_role(), nav_pages(dash.page_registry.values()))
    return html.Div(
        [
            navbar(
                pages, app.get_asset_url("logo.svg"), (user.id, user.role, csrf_token()) if user else None
            ),
            html.Main(html.Div(page_loading(), className="container-xxl"), className="ll-main"),
            footer(),
        ]
    )


def page_loading() -> dcc.Loading:
    """``dash.page_container`` with a spinner while a page's layout is built (the first one reads the bank)."""
    # cast: dash's generated type for target_components is a TypedDict without keys
    targets = cast("dcc.Loading.TargetComponents", {"_pages_content": "children"})
    return dcc.Loading(
        dash.page_container,
        target_components=targets,
        delay_show=300,
        type="dot",
        color=TEAL,
        overlay_style={"visibility": "visible", "opacity": 0.5},
    )


def healthz() -> flask.Response:
    """``/healthz``: JSON with status, database reachable, latest artifact version per model."""
    from dashapp.services.health import health_report  # imports bankdata's store only when asked

    body, status = health_report()
    return flask.make_response(flask.jsonify(body), status)


def docs_image(name: str) -> flask.Response:
    """An image of ``docs/img`` for the Help page (``send_from_directory`` refuses paths outside the folder)."""
    return flask.send_from_directory(IMAGES_DIR, name)


def create_app() -> dash.Dash:
    """Build the Dash app (no CDN: Bootstrap and every script are served locally).

    Dash Pages keeps a process-wide page and callback registry, so build one app per process
    (this module's ``app``; tests use it too).
    """
    app = dash.Dash(
        "dashapp",
        use_pages=True,
        pages_folder="pages",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        suppress_callback_exceptions=True,
        title="Ledgerlight",
        update_title=None,  # type: ignore[arg-type]  # documented "None or ''": no "Updating..." title
        enable_mcp=False,  # no second way into the callbacks: every call goes through the guard's checks
        websocket_callbacks=False,
    )
    app.layout = functools.partial(shell, app)
    init_auth(app)
    init_api(
        app.server
    )  # /api/v1: API keys, not sessions (the guard lets /api/ through to the API's own checks)
    app.server.add_url_rule("/healthz", "healthz", healthz)
    app.server.add_url_rule(f"{IMAGE_ROUTE}/<path:name>", "docs_image", docs_image)
    return app


app = create_app()
server = app.server
