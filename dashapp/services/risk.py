"""The risk model's data for the Risk pages and for other areas, from the served version and the database.

The worker holds the served model (``served.load_served``) and its bounded evaluation (the out-of-fold predictions
of the cross-validation sample, at most ``risk.training.CV_SAMPLE`` loans); everything per borrower comes from the
``risk_scores`` rows that publishing wrote for the served version (``risk.publish``): the Applicant grid pages
through them in SQL, one borrower is an indexed look-up, and other areas filter by band with
:func:`customers_in_bands` (a subquery, never a list in memory).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import risk
from bankdata import (
    BANK_TABLES,
    Artifact,
    DatabaseError,
    category_label,
    get_settings,
    published_rows,
    query,
    query_records,
    read_evidence,
)
from dashapp.services import audit, grid, ids, validation
from dashapp.services.bank import DataUnavailable, check_database
from dashapp.services.served import NotPublished, NotTrained, load_served, served_version
from dashapp.services.validation import InputError
from risk import GRID_COLUMNS, SORTABLE, Recourse, find_recourse

SCORES = risk.SCORES_TABLE
#: the grid's limits and filter types (the Applicant page builds its column filters from these)
MAX_PAGE = grid.MAX_PAGE
NUMBER_TYPES = grid.NUMBER_TYPES
TEXT_TYPES = grid.TEXT_TYPES
#: the grid sorts by one column at a time: each sortable column has an index, so every page is an index range
MAX_SORTS = 1
#: columns the grid may filter by, and the ag-grid filter kind each takes
FILTERS: dict[str, str] = {
    "customer_id": "number",
    "loan_id": "number",
    "pd": "number",
    "band": "text",
    "amount": "number",
    "purpose": "text",
    "credit_score": "number",
    "income": "number",
    "dti": "number",
}


def _stored_purpose(text: str) -> str:
    """A purpose filter's text as purposes are stored: ``Debt consolidation`` -> ``debt_consolidation`` (the grid
    shows the label map's words, the filter compares with the stored codes)."""
    return text.lower().replace(" ", "_")


#: text columns are published in one case (bands upper, purposes lower): filters compare in that case, so an
#: equality is an index look-up and a LIKE behaves the same on SQLite and PostgreSQL
TEXT_CASE: dict[str, Callable[[str], str]] = {"band": str.upper, "purpose": _stored_purpose}
#: the whitelist the grid module checks a request against (a bank with text ids: see :func:`grid_columns`)
COLUMNS = {name: grid.Column(SCORES.c[name], kind, TEXT_CASE.get(name)) for name, kind in FILTERS.items()}
ID_ENTITIES = {"customer_id": "customer", "loan_id": "loan"}
LOAN_COLUMNS = ("loan_id", "issued_at", "amount", "term_months", "interest_rate", "purpose", "dti")
ROUNDING = {"pd": 4, "income": 0, "dti": 3}


@dataclass(frozen=True)
class Portfolio:
    """What the Portfolio page shows: the training report and the out-of-fold predictions of every candidate on the
    cross-validation sample (``report["cv_note"]`` says which loans)."""

    version: str
    report: dict[str, Any]
    y: np.ndarray
    calibrated: dict[str, np.ndarray]  # candidate -> calibrated out-of-fold probabilities
    sample: dict[str, np.ndarray]  # x, shap, y, pd of a sample; global importance
    spec: risk.FeatureSpec

    @property
    def champion(self) -> str:
        """Candidate name of the champion."""
        return self.report["champion"]


@dataclass(frozen=True)
class Served:
    """The served risk version as the worker holds it: the model and its training report."""

    version: str
    model: risk.RiskModel
    report: dict[str, Any]

    @property
    def threshold(self) -> float:
        """The cut-off chosen at training."""
        return float(self.report["threshold"])


@dataclass(frozen=True)
class RiskPart:
    """The customer's latest loan scored: PD, band, reasons, decision at the training cut-off and recourse."""

    explanation: risk.Explanation
    threshold: float
    loan: dict[str, Any]
    recourse: Recourse | None


# --- the served version -------------------------------------------------------------------------------------------


def _load(artifact: Artifact) -> Served:
    return Served(artifact.version, risk.RiskModel.load(artifact), artifact.load_json("report.json"))


def _load_portfolio(artifact: Artifact) -> Portfolio:
    evaluation = artifact.load_npz("evaluation.npz")
    calibrated = {k.removeprefix("cal__"): v for k, v in evaluation.items() if k.startswith("cal__")}
    spec = risk.FeatureSpec.from_dict(artifact.load_json("spec.json"))
    return Portfolio(
        artifact.version,
        artifact.load_json("report.json"),
        evaluation["y"],
        calibrated,
        artifact.load_npz("explain.npz"),
        spec,
    )


def served() -> Served:
    """The served risk model and report. Raises ``served.NotTrained`` when there is none."""
    return load_served(risk.MODEL_NAME, _load)


def get_model() -> risk.RiskModel:
    """The served risk model. Raises ``served.NotTrained`` when it is not trained."""
    return served().model


def get_portfolio() -> Portfolio:
    """The served model's evaluation. Raises ``served.NotTrained`` when the model is not trained."""
    return load_served(risk.MODEL_NAME, _load_portfolio)


def _url() -> str:
    return check_database(get_settings().database_url)


def _rows(statement: sa.Executable) -> pd.DataFrame:
    try:
        return query(statement, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def published_version() -> str:
    """The served version whose ``risk_scores`` rows are in the database.

    Raises
    ------
    NotTrained
        No risk model is served; :class:`NotPublished` (a ``NotTrained``) when its rows are not written yet.
    """
    version = served_version(risk.MODEL_NAME)
    url = _url()
    if not _is_published(url, version):
        raise NotPublished(risk.MODEL_NAME, version, "its scores")
    return version


def _is_published(url: str, version: str) -> bool:
    """Whether ``version``'s scores are written. A yes is kept for the worker's life (a version's rows are never
    dropped while it is served; ``clear_caches`` forgets it), a no is asked again on the next call (it may be
    published any time). Every API call and customer page asks this: it cost a catalogue and a row look-up each."""
    seen = _published_seen()
    if (url, version) in seen:
        return True
    try:
        rows = published_rows(SCORES, version, url)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if rows is None:
        return False
    seen.add((url, version))
    return True


@functools.cache
def _published_seen() -> set[tuple[str, str]]:
    """The (database, version) pairs seen published by this worker."""
    return set()


# --- the cut-off (bounded evaluation) -----------------------------------------------------------------------------


def cutoff_summary(
    threshold: float, cost_missed_default: float, cost_rejected_good: float
) -> risk.CutoffSummary:
    """Confusion matrix, approval rate and expected loss of the champion's out-of-fold scores at ``threshold``."""
    p = get_portfolio()
    return risk.summarize_cutoff(
        p.y, p.calibrated[p.champion], threshold, cost_missed_default, cost_rejected_good
    )


def best_threshold(cost_missed_default: float, cost_rejected_good: float) -> float:
    """The cost-minimising threshold on the champion's out-of-fold scores."""
    p = get_portfolio()
    return risk.optimal_threshold(p.y, p.calibrated[p.champion], cost_missed_default, cost_rejected_good)


# --- the applicant grid (server-side rows) ------------------------------------------------------------------------


def _grid_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Grid rows: rounded numbers, purposes in words (:func:`bankdata.category_label`)."""
    frame = frame.round({k: v for k, v in ROUNDING.items() if k in frame.columns})
    if "purpose" in frame.columns:
        frame = frame.assign(purpose=frame["purpose"].map(category_label))
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def grid_columns() -> dict[str, grid.Column]:
    """:data:`COLUMNS`, with the id columns filtered by the bank's text ids when it has them."""
    return COLUMNS | {
        name: ids.grid_column(entity, SCORES.c[name])
        for name, entity in ID_ENTITIES.items()
        if ids.is_text(entity)
    }


def filter_kinds() -> dict[str, str]:
    """:data:`FILTERS` as the grid's column filters show them: ``text`` for the bank's text ids."""
    return {
        name: ids.filter_kind(ID_ENTITIES[name], kind) if name in ID_ENTITIES else kind
        for name, kind in FILTERS.items()
    }


def page_rows(
    version: str, url: str, start: int, end: int, sort_model: Any, filter_model: Any
) -> tuple[pd.DataFrame, int]:
    """Rows ``start``..``end`` of one version's ``risk_scores`` (grid columns, in order) and the matching count.

    The page is found on the sort column's index (``model_version, column, customer_id``: the ids alone, however
    far the offset) and only its rows are read; without filters the count is the published row count.
    """
    mine = SCORES.c.model_version == version
    columns = grid_columns()
    filters = grid.filters(filter_model, columns)
    sorts = grid.sorts(sort_model, SORTABLE, max_sorts=MAX_SORTS)
    order = grid.order(sorts, columns, "customer_id", key_follows=True)
    column = sorts[0].column if sorts else "customer_id"
    try:
        rows = published_rows(SCORES, version, url) or 0
        total = (
            rows
            if not filters
            else int(
                query(sa.select(sa.func.count().label("n")).select_from(SCORES).where(mine, *filters), url)[
                    "n"
                ].iloc[0]
            )
        )
        # The page is found either on the filter's index (then the matches are sorted) or by walking the sort
        # column's index and skipping non-matches: the walk reads about end * rows / total index entries, the
        # sort about total; the filter is hidden from the planner when the walk is the shorter.
        walk = bool(filters) and column not in (filter_model or {}) and end * rows < total * total
        where = [mine, *(grid.filters(filter_model, columns, use_index=False) if walk else filters)]
        ids = query(
            sa.select(SCORES.c.customer_id).where(*where).order_by(*order).limit(end - start).offset(start),
            url,
        )["customer_id"].tolist()
        if ids:
            page = query(
                sa.select(*(SCORES.c[c] for c in GRID_COLUMNS)).where(mine, SCORES.c.customer_id.in_(ids)),
                url,
            )
            page = page.set_index("customer_id").loc[ids].reset_index()
        else:
            page = pd.DataFrame(columns=list(GRID_COLUMNS))
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    return page, int(total)


def applicant_page(
    start_row: int, end_row: int, sort_model: list, filter_model: dict
) -> tuple[list[dict[str, Any]], int]:
    """Rows ``start_row``..``end_row`` (exclusive) of the served version's ``risk_scores``, sorted and filtered as
    the dash-ag-grid infinite row model asks (``getRowsRequest``), and how many rows match the filters.

    Sorting and filtering are done by the SQL query (``LIMIT``/``OFFSET`` on an index); columns, directions and
    filter types are checked against whitelists. Audited as ``view_applicants`` with the customer ids served.

    Raises
    ------
    InputError
        A bad row range (more than :data:`MAX_PAGE` rows), an unknown column, direction or filter type.
    NotTrained
        No risk model is served, or its scores are not published (:class:`NotPublished`).
    """
    wanted = grid.row_range(start_row, end_row, max_rows=MAX_PAGE)
    version = published_version()
    page, total = page_rows(version, _url(), wanted.start, wanted.end, sort_model, filter_model)
    rows = ids.show_records(
        ids.show_records(_grid_records(page), "customer_id", "customer"), "loan_id", "loan"
    )
    audit.served(
        "view_applicants",
        "applicant grid",
        {"rows": len(rows), "start": wanted.start, "customers": [r["customer_id"] for r in rows]},
    )
    return rows, total


# --- one borrower ---------------------------------------------------------------------------------------------------


def _latest_loan(customer_id: int) -> dict[str, Any] | None:
    """The customer's most recent loan (customer_id index) joined to the customer's row (primary key)."""
    loans, customers = BANK_TABLES["loans"], BANK_TABLES["customers"]
    customer_cols = [customers.c[c] for c in risk.bankbook.CUSTOMER_COLUMNS if c != "customer_id"]
    loan_cols = [c for c in loans.columns if c.name not in customers.c or c.name == "customer_id"]
    statement = (
        sa.select(*loan_cols, *customer_cols)
        .join_from(loans, customers, loans.c.customer_id == customers.c.customer_id)
        .where(loans.c.customer_id == int(customer_id))
        .order_by(loans.c.issued_at.desc(), loans.c.loan_id.desc())
        .limit(1)
    )
    try:
        rows = query_records(statement, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    return rows[0] if rows else None


def latest_loan_row(customer_id: int) -> dict[str, Any] | None:
    """The customer's most recent loan joined to the customer's row (None when the customer has no loan); not
    audited: the caller audits what it serves of it."""
    return _latest_loan(int(customer_id))


def applicant_features(customer_id: int | str) -> dict[str, Any]:
    """The model's feature values of one borrower's latest loan (the what-if panel's starting point); audited as
    a view of that customer's application. ``customer_id`` is the bank's id (``17``, or ``C-00017``).

    Raises
    ------
    InputError
        No borrower with this id.
    """
    model = get_model()
    internal = ids.customer(customer_id)
    row = _latest_loan(internal)
    if row is None:
        raise InputError("customer id", f"no borrower with customer id {customer_id}")
    audit.served("view_applicant", f"customer {customer_id}")
    return {c: row[c] for c in model.spec.features}


def explain(features: dict[str, Any]) -> risk.Explanation:
    """Score and explain one applicant from feature values (as edited in the what-if panel), once they are
    checked against the model's spec (``risk.check_applicant``: training ranges with a margin, known categories).

    Raises
    ------
    InvalidApplicant
        Naming every bad field and why (a ``ValueError``).
    """
    model = get_model()
    return model.explain(risk.check_applicant(model.spec, features))


def recourse(features: dict[str, Any], threshold: float) -> Recourse:
    """The cheapest actionable changes that bring this applicant under ``threshold`` (see ``risk.recourse``)."""
    model = get_model()
    return find_recourse(model, risk.check_applicant(model.spec, features), threshold)


def customer_risk(customer_id: int) -> RiskPart | None:
    """The customer's latest loan scored and explained, the decision at the training cut-off and, when declined,
    the recourse; None when the customer has no loan. Audited as a view of the customer's application.

    Raises
    ------
    NotTrained
        No risk model is served.
    """
    model = served()
    row = _latest_loan(int(customer_id))
    if row is None:
        return None
    audit.served("view_applicant", f"customer {ids.shown('customer', int(customer_id))}")
    features = risk.check_applicant(model.model.spec, {c: row[c] for c in model.model.spec.features})
    explanation = model.model.explain(features)
    threshold = model.threshold
    rec = find_recourse(model.model, features, threshold) if explanation.pd >= threshold else None
    loan = {c: row[c] for c in LOAN_COLUMNS if c in row}
    if "loan_id" in loan:
        loan["loan_id"] = ids.shown("loan", int(loan["loan_id"]))
    if loan.get("issued_at") is not None:
        loan["issued_at"] = pd.Timestamp(loan["issued_at"])
    return RiskPart(explanation, threshold, loan, rec)


_BAND = (
    sa.select(SCORES.c.band)
    .where(
        SCORES.c.model_version == sa.bindparam("version"), SCORES.c.customer_id == sa.bindparam("customer_id")
    )
    .limit(1)
)  # built once: band_of runs per recommendations call


def band_of(customer_id: int) -> str | None:
    """The customer's published risk band; None when the customer has no loan, or no risk model is served or its
    scores are not published."""
    try:
        version = published_version()
    except NotTrained:
        return None
    try:
        hit = query_records(_BAND, _url(), {"version": version, "customer_id": int(customer_id)})
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    return str(hit[0]["band"]) if hit else None


def customers_in_bands(bands: Sequence[str]) -> sa.Select | None:
    """``SELECT customer_id`` of the served version's borrowers whose band is one of ``bands`` (for ``IN`` /
    ``NOT IN`` subqueries); None when no risk model is served or its scores are not published.

    Raises
    ------
    InputError
        A band that is not one of ``risk.BANDS``.
    """
    wanted = validation.choices(list(bands), "risk band", tuple(risk.BANDS))
    try:
        version = published_version()
    except NotTrained:
        return None
    return sa.select(SCORES.c.customer_id).where(SCORES.c.model_version == version, SCORES.c.band.in_(wanted))


def scores_summary() -> Mapping[str, Any] | None:
    """Borrowers per band and mean PD of the served version, as publishing wrote them (None when not published)."""
    try:
        version = published_version()
    except NotTrained:
        return None
    try:
        return read_evidence(risk.MODEL_NAME, version, "scores_summary", _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
