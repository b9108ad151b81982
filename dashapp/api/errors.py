"""The API's error answers: always JSON ``{"error", "message", "errors": [{"field", "reason"}], "request_id"}``,
never an HTML page and never a traceback."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import flask
import pydantic

from bankdata import DataValidationError

MAX_ERRORS = 50
#: HTTP status -> the short name in ``error``
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


@dataclass(frozen=True)
class FieldError:
    """One problem of a request: the field (a JSON path such as ``applicants[2].features.income``) and why."""

    field: str
    reason: str
    rows: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the answer (``rows`` only when the problem is in rows of a batch, numbered from 1)."""
        out: dict[str, Any] = {"field": self.field, "reason": self.reason}
        if self.rows:
            out["rows"] = list(self.rows)
        return out


@dataclass
class ApiError(Exception):
    """An answer other than 200: ``status``, a message, the fields at fault and extra headers (``Retry-After``)."""

    status: int
    message: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def from_pydantic(exc: pydantic.ValidationError, prefix: str = "") -> ApiError:
    """422 naming each field pydantic refused (``applicants[0].features``) and why."""
    reasons: dict[str, list[str]] = {}
    for e in exc.errors(include_url=False, include_input=False):
        loc = [p for p in e["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
        reasons.setdefault(_path([*([prefix] if prefix else []), *loc]), []).append(e["msg"])
    errors = [FieldError(name, " or ".join(dict.fromkeys(msgs))) for name, msgs in reasons.items()]
    return ApiError(422, "The request does not match the schema.", errors)


# pydantic names the member of a union it tried (an id is a whole number or text); the caller needs the field
_UNION_TAGS = frozenset(
    {"str", "int", "float", "bool", "none", "constrained-int", "constrained-str", "constrained-float"}
)


def from_problems(problems: Mapping[str, str], prefix: str) -> list[FieldError]:
    """Field errors of ``{field: reason}`` (e.g. ``risk.InvalidApplicant.problems``) under ``prefix``."""
    return [FieldError(f"{prefix}.{name}", reason) for name, reason in problems.items()]


def from_validation(exc: DataValidationError, prefix: str) -> ApiError:
    """422 listing each problem of a batch the way ``ledgerlight load`` does: the column, the rows and why."""
    errors = [
        FieldError(
            f"{prefix}[].{p.column}" if p.column else prefix,
            p.problem + (f" ({p.n_rows} rows)" if p.n_rows > len(p.rows) else ""),
            tuple(p.rows),
        )
        for p in exc.problems
    ]
    return ApiError(422, "The batch was refused; nothing was stored.", errors)


def response(exc: ApiError) -> flask.Response:
    """The JSON answer of ``exc`` (the first :data:`MAX_ERRORS` fields at fault, and how many there were)."""
    shown = exc.errors[:MAX_ERRORS]
    more = (
        f" (the first {MAX_ERRORS} of {len(exc.errors):,} problems)" if len(exc.errors) > MAX_ERRORS else ""
    )
    body = {
        "error": CODES.get(exc.status, "error"),
        "message": exc.message + more,
        "errors": [e.to_dict() for e in shown],
        "request_id": flask.g.get("request_id", ""),
    }
    answer = flask.make_response(flask.jsonify(body), exc.status)
    for key, value in exc.headers.items():
        answer.headers[key] = value
    return answer
