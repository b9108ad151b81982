"""The API's request and response models (pydantic): they check a request's shape and make the OpenAPI document.

Shape only: values are then checked by what the pages use (the risk model's spec for an applicant's features, the
bank's schema for events), which knows the ranges, categories, customers and products.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

MAX_APPLICANTS = 1_000
MAX_EVENTS = 1_000
MAX_ID = 10**15

BankId = (
    Annotated[StrictInt, Field(ge=1, le=MAX_ID)] | Annotated[StrictStr, Field(min_length=1, max_length=100)]
)
"""An id as the bank writes it: a whole number (the demo bank) or the bank's text id (``C-00017``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- risk ---------------------------------------------------------------------------------------------------------


class Applicant(_Strict):
    """One applicant: the served risk model's features, and an optional reference echoed in the answer."""

    ref: Annotated[StrictStr, Field(max_length=100)] | None = Field(
        None, description="the caller's reference for this applicant (returned as given)"
    )
    features: dict[str, Any] = Field(
        description="every feature of the served risk model by name: numbers within the model's accepted range, "
        "categories it knows (GET /api/v1/health lists the served version)",
        json_schema_extra={
            "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "string"}]},
            "examples": [{"amount": 12000, "term_months": 36, "purpose": "car"}],
        },
    )


class ScoreRequest(_Strict):
    """One to 1,000 applicants."""

    applicants: list[Applicant] = Field(min_length=1, max_length=MAX_APPLICANTS)


class Change(BaseModel):
    """One change of the recourse: ``feature`` from ``before`` to ``after``."""

    feature: str
    before: float
    after: float


class Recourse(BaseModel):
    """The smallest changes to what the applicant can change (amount, term, DTI, balance) that approve them."""

    pd_after: float
    feasible: bool = Field(
        description="false: the best changes found still leave the PD at or over the cut-off"
    )
    changes: list[Change]


class ScoreResult(BaseModel):
    """One applicant's answer."""

    ref: str | None
    pd: float = Field(description="calibrated probability of default")
    band: str
    band_name: str
    decision: Literal["approve", "decline"] = Field(description="decline when pd >= cutoff")
    reasons: list[str] = Field(
        description="the factors that raised the risk most, strongest first, in plain words"
    )
    recourse: Recourse | None = Field(description="for a declined applicant (null when approved or omitted)")
    recourse_omitted: bool = Field(
        False, description="true when the batch held more declined applicants than get a recourse search"
    )


class ScoreResponse(BaseModel):
    """Scores of every applicant of the request, in its order."""

    model: str
    model_version: str
    cutoff: float = Field(description="the served cut-off: PD at or over it is declined")
    results: list[ScoreResult]


# --- customers ----------------------------------------------------------------------------------------------------


class Recommendation(BaseModel):
    """One product offered."""

    rank: int
    product_id: int | str
    name: str
    family: str
    score: float
    reason: str


class BusinessRules(BaseModel):
    """What was held back from the model's list."""

    held_products_excluded: list[int | str] = Field(description="products the customer holds: never offered")
    credit_blocked: bool = Field(description="the customer's risk band is a blocked one: no credit products")
    credit_families_withheld: list[str]


class RecommendationsResponse(BaseModel):
    """The next-best products of one customer."""

    customer_id: int | str
    model: str
    model_version: str
    recommendations: list[Recommendation]
    rules: BusinessRules


class SegmentResponse(BaseModel):
    """The served segment of one customer."""

    customer_id: int | str
    model_version: str
    segment: int
    name: str
    customers: int = Field(description="customers in the segment")
    share: float = Field(description="the segment's share of the customers")
    distinctive: str


# --- events -------------------------------------------------------------------------------------------------------


class Event(_Strict):
    """One interaction of a customer with a product (validated like a row of ``ledgerlight load interactions``)."""

    event_id: Annotated[StrictStr, Field(min_length=1, max_length=100)] = Field(
        description="the sender's unique id of the event: sending it again is a duplicate, never counted twice"
    )
    type: Literal["interaction"] = Field(
        "interaction", description="interaction (the only kind so far: the bank has no repayments table)"
    )
    customer_id: BankId
    product_id: BankId
    ts: Annotated[StrictStr, Field(min_length=1, max_length=40)] = Field(
        description="when it happened, ISO 8601 (a time zone is converted to UTC)"
    )
    event: Annotated[StrictStr, Field(max_length=32)] = Field(description="view, click, apply or purchase")


class EventsRequest(_Strict):
    """One batch: all of it is stored, or none of it."""

    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS)


class EventsResponse(BaseModel):
    """What the batch did."""

    accepted: int = Field(description="events stored now")
    duplicates: int = Field(
        description="events whose id was stored already (with the same values): not stored again"
    )
    duplicate_ids: list[str]


# --- health and errors --------------------------------------------------------------------------------------------


class HealthResponse(BaseModel):
    """Whether the API can answer, and the served version of each model."""

    status: Literal["ok", "degraded"]
    database: bool
    served: dict[str, str | None]


class FieldProblem(BaseModel):
    """One field at fault."""

    field: str = Field(description="a JSON path: applicants[2].features.income, events[].customer_id")
    reason: str
    rows: list[int] | None = Field(None, description="rows of a batch at fault, numbered from 1 (first few)")


class ErrorResponse(BaseModel):
    """Every answer other than 200."""

    error: str
    message: str
    errors: list[FieldProblem]
    request_id: str
