"""One audit row per API call, written from the server's view: the key's name, the endpoint, the status and the ids
served. A 200 whose row cannot be written is withheld (503), as the pages do (``dashapp.auth.guard``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import flask

from bankdata import DatabaseError
from dashapp.api.errors import ApiError, response
from dashapp.services import audit
from dashapp.services.messages import public_message

MAX_IDS = 200  # ids named in one audit row (a batch of 1,000 applicants says how many more)


def served(action: str, ids: Sequence[Any] = (), **detail: Any) -> None:
    """Record what this call served (``ids``: the customers, applicants or events), for the call's audit row."""
    shown = [str(i) for i in ids]
    more = {"more_ids": len(shown) - MAX_IDS} if len(shown) > MAX_IDS else {}
    flask.g.api_served = (action, {"ids": shown[:MAX_IDS], **more, **detail})


#: endpoints that serve nothing of anyone (health, the OpenAPI document): not audited when they answer 200
UNAUDITED = ("api.health", "api.openapi")


def caller() -> str:
    """Who called, as the audit log and the access log name them: ``api:<key name>`` or ``api:anonymous``."""
    key = flask.g.get("api_key")
    return f"api:{key.name}" if key is not None else "api:anonymous"


def audit_call(answer: flask.Response) -> flask.Response:
    """Write the call's audit row (every call, refused ones too); withhold a 200 whose row cannot be written."""
    audit.pending()  # services' own pending rows: this row names what the call served
    user = flask.g.api_caller = caller()
    if flask.request.endpoint in UNAUDITED and answer.status_code < 400:
        return answer
    action, detail = flask.g.pop("api_served", (None, {}))
    if action is None:
        action = "api_refused" if answer.status_code >= 400 else "api_call"
    text = json.dumps(
        {"status": answer.status_code, "method": flask.request.method, **detail}, default=str, sort_keys=True
    )
    target = flask.request.path[:200]
    if answer.status_code >= 400:
        audit.record_safely(user, action, target, text)
        return answer
    try:
        audit.record(user, action, target, text)
    except DatabaseError as exc:
        flask.current_app.logger.error("API audit row not written, answer withheld: %s", exc)
        return response(ApiError(503, f"The audit log is unavailable: {public_message(exc)}"))
    return answer
