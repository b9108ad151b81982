"""The ``/api/v1`` endpoints: each checks its key and role (``keys.authenticate``), reads its body or path through the
schemas, makes one services call and answers a response model as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, cast

import flask
import pydantic

import risk
from bankdata import DatabaseError, DataValidationError
from dashapp.api import calls, keys, schemas
from dashapp.api.body import json_body
from dashapp.api.errors import ApiError, FieldError, from_problems, from_validation, response
from dashapp.services import events as events_service
from dashapp.services import ids, scoring, validation
from dashapp.services import recsys as recsys_service
from dashapp.services import segments as segments_service
from dashapp.services.health import MODELS
from dashapp.services.messages import public_message
from dashapp.services.served import NotTrained, served_version
from dashapp.services.validation import InputError

ROOT = "/api"
VERSION = "/v1"
PREFIX = ROOT + VERSION
#: path (as registered) -> methods: what a wrong method or an unknown path is told
ENDPOINTS: dict[str, tuple[str, ...]] = {}


def _json(model: pydantic.BaseModel, status: int = 200) -> flask.Response:
    answer = flask.make_response(model.model_dump_json(), status)
    answer.mimetype = "application/json"
    return answer


def _customer(value: str) -> tuple[int, int | str]:
    """The internal id and the bank's id of a customer named in a path (404 when the bank has no such customer)."""
    try:
        internal = ids.customer(value, "customer_id")
    except InputError as exc:
        status = 404 if ids.is_text("customer") else 422
        raise ApiError(
            status,
            f"No customer {value!r}." if status == 404 else "Not a customer id.",
            [FieldError("customer_id", exc.reason)],
        ) from None
    return internal, ids.shown("customer", internal)


# --- risk ---------------------------------------------------------------------------------------------------------


def score() -> flask.Response:
    """``POST /risk/score``: PD, band, decision at the served cut-off, reasons and recourse of 1 to 1,000 applicants."""
    keys.authenticate("risk_score")
    request = json_body(schemas.ScoreRequest, "applicants", schemas.MAX_APPLICANTS)
    try:
        batch = scoring.score_applicants([a.features for a in request.applicants])
    except scoring.InvalidApplicants as exc:
        errors = [
            e
            for i, problems in exc.problems.items()
            for e in from_problems(problems, f"applicants[{i}].features")
        ]
        raise ApiError(
            422, "Some applicants cannot be scored by the served model; nothing was scored.", errors
        ) from None
    results = [
        schemas.ScoreResult(
            ref=a.ref,
            pd=s.pd,
            band=s.band,
            band_name=risk.BAND_NAMES.get(s.band, s.band),
            # the service types it str; the model validates it is one of the two
            decision=cast(Literal["approve", "decline"], s.decision),
            reasons=s.reasons,
            recourse_omitted=s.recourse_omitted,
            recourse=None
            if s.recourse is None
            else schemas.Recourse(
                pd_after=s.recourse.pd_after,
                feasible=s.recourse.feasible,
                changes=[
                    schemas.Change(feature=c.feature, before=c.before, after=c.after)
                    for c in s.recourse.changes
                ],
            ),
        )
        for a, s in zip(request.applicants, batch.results, strict=True)
    ]
    refs = [a.ref if a.ref is not None else f"#{i}" for i, a in enumerate(request.applicants)]
    calls.served(
        "api_score",
        refs,
        applicants=len(results),
        model_version=batch.model_version,
        declined=sum(r.decision == "decline" for r in results),
    )
    return _json(
        schemas.ScoreResponse(
            model=risk.MODEL_NAME, model_version=batch.model_version, cutoff=batch.cutoff, results=results
        )
    )


# --- customers ----------------------------------------------------------------------------------------------------


def recommendations(customer_id: str) -> flask.Response:
    """``GET /customers/<id>/recommendations?n=5&model=``: the next-best products, held and blocked ones left out."""
    keys.authenticate("recommendations")
    args = flask.request.args
    unknown = sorted(set(args) - {"n", "model"})
    if unknown:
        raise ApiError(
            422, "Unknown query parameters.", [FieldError(u[:60], "not a parameter") for u in unknown]
        )
    try:
        n = validation.whole_number(_int_arg(args.get("n", "5")), "n", lo=1, hi=recsys_service.MAX_LIST)
    except InputError as exc:
        raise ApiError(422, "Bad query parameter.", [FieldError("n", exc.reason)]) from None
    pub = recsys_service.served()
    model = args.get("model", pub.best)
    if model not in pub.models:
        raise ApiError(
            422,
            "Unknown model.",
            [FieldError("model", f"{model[:40]!r} is not one of {', '.join(pub.models)}")],
        )
    internal, shown = _customer(customer_id)
    try:
        view = recsys_service.customer_lists(internal, n, models=(model,))
    except ValueError as exc:
        raise ApiError(404, f"No customer {shown}.", [FieldError("customer_id", str(exc))]) from None
    recs = [
        schemas.Recommendation(
            rank=r["rank"],
            product_id=r["product_id"],
            name=r["name"],
            family=r["family"],
            score=r["score"],
            reason=r["reason"],
        )
        for r in view.recommendations[model]
    ]
    rules = schemas.BusinessRules(
        held_products_excluded=[r["product_id"] for r in view.held],
        credit_blocked=view.credit_blocked,
        credit_families_withheld=list(pub.credit_families) if view.credit_blocked else [],
    )
    calls.served(
        "api_recommendations",
        [shown],
        model=model,
        model_version=pub.version,
        products=[r.product_id for r in recs],
    )
    return _json(
        schemas.RecommendationsResponse(
            customer_id=shown, model=model, model_version=pub.version, recommendations=recs, rules=rules
        )
    )


def segment(customer_id: str) -> flask.Response:
    """``GET /customers/<id>/segment``: the customer's served segment and its name."""
    keys.authenticate("segment")
    if flask.request.args:
        raise ApiError(
            422,
            "This endpoint takes no query parameters.",
            [FieldError(a[:60], "not a parameter") for a in sorted(flask.request.args)],
        )
    internal, shown = _customer(customer_id)
    card = segments_service.customer_segment(internal)
    if card is None:
        raise ApiError(
            404,
            f"Customer {shown} is not in the served segmentation.",
            [FieldError("customer_id", "no such customer in the served segmentation")],
        )
    version = segments_service.published().version
    calls.served("api_segment", [shown], model_version=version, segment=int(card["segment"]))
    return _json(
        schemas.SegmentResponse(
            customer_id=shown,
            model_version=version,
            segment=int(card["segment"]),
            name=str(card["name"]),
            customers=int(card["customers"]),
            share=float(card["share"]),
            distinctive=str(card["distinctive"]),
        )
    )


def _int_arg(text: str) -> Any:
    return int(text) if text.strip().lstrip("-").isdigit() and len(text) < 16 else text


# --- events -------------------------------------------------------------------------------------------------------


def events() -> flask.Response:
    """``POST /events``: a batch of interactions, stored all or none, each once by its ``event_id``."""
    key = keys.authenticate("events")
    request = json_body(schemas.EventsRequest, "events", schemas.MAX_EVENTS)
    rows = [e.model_dump(exclude={"type"}) for e in request.events]
    try:
        stored = events_service.store_interactions(rows, key.name)
    except DataValidationError as exc:
        raise from_validation(exc, "events") from None
    calls.served(
        "api_events",
        [e.event_id for e in request.events],
        accepted=stored.accepted,
        duplicates=stored.duplicates,
    )
    return _json(
        schemas.EventsResponse(
            accepted=stored.accepted, duplicates=stored.duplicates, duplicate_ids=list(stored.duplicate_ids)
        )
    )


# --- about the API ------------------------------------------------------------------------------------------------


def health() -> flask.Response:
    """``GET /health`` (no key): database reachable and the served version of each model."""
    from dashapp.services.health import health_report

    body, status = health_report()
    versions: dict[str, str | None] = {}
    for model in MODELS:
        try:
            versions[model] = served_version(model)
        except Exception:  # a health check reports, it never raises
            versions[model] = None
    reachable = bool(body["database"]["reachable"])
    return _json(
        schemas.HealthResponse(status="ok" if reachable else "degraded", database=reachable, served=versions),
        status,
    )


def openapi() -> flask.Response:
    """``GET /openapi.json`` (no key): the OpenAPI 3.1 document of this API."""
    from dashapp.api.openapi import document

    return flask.jsonify(document())


def not_found(rest: str = "") -> flask.Response:
    """Any other path under ``/api``: 405 for a known path with another method, else 404 (JSON, never a page)."""
    for path, methods in ENDPOINTS.items():
        if _matches(path, flask.request.path):
            raise ApiError(
                405,
                f"{flask.request.path} answers {', '.join(methods)}.",
                headers={"Allow": ", ".join(methods)},
            )
    raise ApiError(
        404, f"No API endpoint {flask.request.path[:100]}; the endpoints are in {PREFIX}/openapi.json."
    )


def _matches(rule: str, path: str) -> bool:
    a, b = rule.strip("/").split("/"), path.strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("<") for x, y in zip(a, b, strict=True))


# --- errors -------------------------------------------------------------------------------------------------------


def handle(exc: Exception) -> flask.Response:
    """Every error of an API call as JSON: its own status for an ``ApiError``, 503 when the database or a model is
    unavailable, the status of an HTTP error, 500 (logged, with the request id) for anything else."""
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, ApiError):
        return response(exc)
    if isinstance(exc, InputError):
        return response(ApiError(422, "Bad input.", [FieldError(exc.field, exc.reason)]))
    if isinstance(exc, DatabaseError):
        return response(ApiError(503, f"The database is unavailable: {public_message(exc)}"))
    if isinstance(exc, NotTrained):
        return response(ApiError(503, f"The model is unavailable: {public_message(exc)}"))
    if isinstance(exc, HTTPException):
        return response(ApiError(exc.code or 500, exc.description or exc.name))
    flask.current_app.logger.error("unhandled error in %s", flask.request.path, exc_info=exc)
    return response(ApiError(500, "Something went wrong; the error was logged: quote the request id."))


def register(blueprint: flask.Blueprint) -> None:
    """Add every endpoint to ``blueprint`` (mounted at ``/api``), and a JSON 404/405 for every other path there."""
    routes: list[tuple[str, Callable[..., flask.Response], tuple[str, ...]]] = [
        ("/risk/score", score, ("POST",)),
        ("/customers/<customer_id>/recommendations", recommendations, ("GET",)),
        ("/customers/<customer_id>/segment", segment, ("GET",)),
        ("/events", events, ("POST",)),
        ("/health", health, ("GET",)),
        ("/openapi.json", openapi, ("GET",)),
    ]
    for path, view, methods in routes:
        blueprint.add_url_rule(VERSION + path, view.__name__, view, methods=list(methods))
        ENDPOINTS[PREFIX + path] = methods
    anything = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    blueprint.add_url_rule("/", "not_found_root", not_found, methods=anything)
    blueprint.add_url_rule("/<path:rest>", "not_found", not_found, methods=anything)
