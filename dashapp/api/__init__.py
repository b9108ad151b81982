"""The JSON API for the bank's other systems, under ``/api/v1`` on the app's own Flask server.

``init_api(server)`` is all ``dashapp.app.create_app`` calls. Calls authenticate with an API key (``ledgerlight
apikeys``; :mod:`dashapp.api.keys`), never with a browser session: the sign-in guard lets ``/api/`` through and this
package checks every call itself. Roles are :mod:`dashapp.policy` (``API_ACCESS``), every call leaves an audit row
(:mod:`dashapp.api.calls`), request and response models are :mod:`dashapp.api.schemas`. See docs/api.md.
"""

from __future__ import annotations

import flask

from dashapp.api import calls, routes
from dashapp.api.routes import PREFIX, ROOT


def blueprint() -> flask.Blueprint:
    """A new blueprint with every endpoint, the JSON error handler and the per-call audit row."""
    bp = flask.Blueprint("api", __name__, url_prefix=ROOT)
    routes.register(bp)
    bp.register_error_handler(Exception, routes.handle)
    bp.after_request(calls.audit_call)
    return bp


def init_api(server: flask.Flask) -> None:
    """Mount the API on ``server`` at :data:`PREFIX`."""
    server.register_blueprint(blueprint())


__all__ = ["PREFIX", "ROOT", "blueprint", "init_api"]
