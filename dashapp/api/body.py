"""A request's JSON body read strictly (no NaN, Infinity or overflowing numbers; bounded size and depth) and checked
against a pydantic model, or an :class:`~dashapp.api.errors.ApiError` naming what is wrong."""

from __future__ import annotations

from typing import TypeVar

import flask
import pydantic
from werkzeug.exceptions import RequestEntityTooLarge

from dashapp.api.errors import ApiError, FieldError, from_pydantic
from dashapp.auth.callbacks import strict_loads

MAX_BODY_BYTES = 4 << 20
M = TypeVar("M", bound=pydantic.BaseModel)


def json_body(model: type[M], batch_field: str, max_items: int) -> M:
    """The request's body as ``model``.

    Raises
    ------
    ApiError
        415 not JSON; 413 over :data:`MAX_BODY_BYTES` or more than ``max_items`` in ``batch_field``; 400 not
        parseable (malformed, NaN, Infinity, a number too large, nested too deeply); 422 not the model's shape.
    """
    if flask.request.mimetype != "application/json":
        raise ApiError(415, "Send the body as JSON (Content-Type: application/json).")
    if (flask.request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, f"The body may have at most {MAX_BODY_BYTES:,} bytes.")
    try:
        raw = flask.request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise ApiError(413, f"The body may have at most {MAX_BODY_BYTES:,} bytes.") from None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"The body may have at most {MAX_BODY_BYTES:,} bytes.")
    try:
        data = strict_loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, "The body is not acceptable JSON.", [FieldError("body", str(exc)[:300])]
        ) from None
    if not isinstance(data, dict):
        raise ApiError(
            422,
            "The body must be a JSON object.",
            [FieldError("body", f"expected an object with {batch_field!r}, got {type(data).__name__}")],
        )
    items = data.get(batch_field)
    if isinstance(items, list) and len(items) > max_items:
        raise ApiError(
            413,
            f"At most {max_items:,} {batch_field} a request; send smaller batches.",
            [FieldError(batch_field, f"{len(items):,} items; at most {max_items:,}")],
        )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise from_pydantic(exc) from None
