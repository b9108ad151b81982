"""The OpenAPI 3.1 document of ``/api/v1``, generated from the pydantic models of :mod:`dashapp.api.schemas`
(JSON Schema 2020-12, which OpenAPI 3.1 uses as is)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dashapp.api import schemas
from dashapp.api.routes import PREFIX

REF = "#/components/schemas/{model}"
REQUESTS: tuple[type[BaseModel], ...] = (schemas.ScoreRequest, schemas.EventsRequest)
RESPONSES: tuple[type[BaseModel], ...] = (
    schemas.ScoreResponse,
    schemas.RecommendationsResponse,
    schemas.SegmentResponse,
    schemas.EventsResponse,
    schemas.HealthResponse,
    schemas.ErrorResponse,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "malformed JSON (NaN, Infinity, numbers too large)",
        401: "no key, an unknown or revoked key",
        403: "the key's role may not call this",
        404: "no such customer",
        413: "body or batch too large",
        415: "not JSON",
        422: "a field is invalid (named in errors[].field)",
        429: "rate limit reached (see Retry-After)",
        503: "database or model unavailable",
    }
    return {str(s): _json(schemas.ErrorResponse, words[s]) for s in statuses}


def _customer_path(what: str, model: type[BaseModel], extra: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": what,
            "security": [{"bearer": []}, {"apiKey": []}],
            "parameters": [
                {
                    "name": "customer_id",
                    "in": "path",
                    "required": True,
                    "description": "the customer's id as the bank shows it (17, or C-00017)",
                    "schema": {"type": "string"},
                },
                *extra,
            ],
            "responses": {"200": _json(model, what), **_errors(401, 403, 404, 422, 429, 503)},
        }
    }


@functools.cache
def document() -> dict[str, Any]:
    """The whole document (built once per worker: the models do not change while it runs)."""
    _, defs = models_json_schema(
        [(m, "validation") for m in REQUESTS] + [(m, "serialization") for m in RESPONSES], ref_template=REF
    )
    secured: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ledgerlight API",
            "version": "1.0.0",
            "description": "Scores, recommendations, segments and events for the bank's other systems. "
            "Authenticate with an API key made by `ledgerlight apikeys add NAME --role ROLE`.",
        },
        "servers": [{"url": PREFIX}],
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "paths": {
            "/risk/score": {
                "post": {
                    "summary": "Score and explain 1 to 1,000 applicants at the served cut-off (roles risk, admin)",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(schemas.ScoreRequest)}},
                    },
                    "responses": {
                        "200": _json(schemas.ScoreResponse, "one result per applicant, in order"),
                        **_errors(400, 401, 403, 413, 415, 422, 429, 503),
                    },
                }
            },
            "/customers/{customer_id}/recommendations": _customer_path(
                "Next-best products of one customer (roles marketing, admin)",
                schemas.RecommendationsResponse,
                [
                    {
                        "name": "n",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 12, "default": 5},
                    },
                    {
                        "name": "model",
                        "in": "query",
                        "description": "a served model (default: the best)",
                        "schema": {"type": "string"},
                    },
                ],
            ),
            "/customers/{customer_id}/segment": _customer_path(
                "The customer's served segment (roles marketing, admin)", schemas.SegmentResponse, []
            ),
            "/events": {
                "post": {
                    "summary": "Store a batch of interactions, all or none, once per event_id (roles marketing, admin)",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(schemas.EventsRequest)}},
                    },
                    "responses": {
                        "200": _json(schemas.EventsResponse, "accepted and duplicate counts"),
                        **_errors(400, 401, 403, 413, 415, 422, 429, 503),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Database reachable and served versions (no key)",
                    "security": [],
                    "responses": {
                        "200": _json(schemas.HealthResponse, "ok"),
                        "503": _json(schemas.HealthResponse, "degraded"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document (no key)",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
                }
            },
        },
    }
