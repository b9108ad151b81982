"""Recommendations page data, answered by queries of what publishing wrote for the served ``recsys`` version.

A worker holds only the served version's small ``serving`` evidence (catalogue, item popularity, co-occurrence counts,
the MF side-feature factors and EASE's item-item weights behind the reasons, the models published and the best
of them by held-out nDCG, the evaluation: ``recsys.publishing``), never the models' customer
factors and never a table that grows with the bank; torch is never imported. Per request:

- one customer: the profile by primary key, held products from ``interactions`` (customer_id index), each served
  model's ranked list from ``recommendations`` (one indexed row per model), the reasons computed for that customer;
- a campaign: the ranked ``campaign_candidates`` of one product and model (an index range), joined to ``customers``
  for the attributes, paged, sorted and filtered by the SQL query for the grid.

Credit products are held back from customers in the risk model's blocked band(s) (``Settings.credit_blocked_bands``,
from ``LEDGERLIGHT_CREDIT_BLOCKED_BANDS``) when a risk model is served: the customer's band is one look-up
(``risk.band_of``), a campaign excludes ``risk.customers_in_bands(...)`` as a ``NOT IN`` subquery.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import recsys
from bankdata import (
    BANK_TABLES,
    Artifact,
    DatabaseError,
    get_settings,
    neutralise_formulas,
    query,
    query_records,
    query_records_many,
)
from dashapp.services import audit, grid, ids, validation
from dashapp.services import bank as bank_service
from dashapp.services import risk as risk_service
from dashapp.services.bank import DataUnavailable
from dashapp.services.served import NotPublished, load_served

#: every model a version may serve and its label, in page order (a version serves those it published: ``Served.models``)
MODEL_LABELS = {
    "popularity": "Popularity",
    "als": "Implicit ALS",
    "mf": "PyTorch MF",
    "ease": "EASE (item-item)",
}
CAMPAIGN_COLUMNS = ("rank", "customer_id", "score", "age", "income", "region", "employment")
PROFILE_COLUMNS = ("age", "gender", "region", "income", "employment")
MAX_LIST = recsys.LIST_DEPTH
MAX_CAMPAIGN = recsys.MAX_CAMPAIGN
MAX_SEARCH_DIGITS = 15  # customer ids have at most 15 digits (validation.customer_id)
_R = recsys.RECOMMENDATIONS_TABLE
_C = recsys.CAMPAIGN_TABLE
_CUSTOMERS = BANK_TABLES["customers"]
_INTERACTIONS = BANK_TABLES["interactions"]
# the per-call look-ups, built once (bound values per call): a customer's purchases, a customer's published lists
# of some models, whether a customer exists
_HELD = (
    sa.select(_INTERACTIONS.c.product_id)
    .distinct()
    .where(_INTERACTIONS.c.customer_id == sa.bindparam("customer_id"), _INTERACTIONS.c.event == "purchase")
)
_LISTS = sa.select(_R.c.model, _R.c.products, _R.c.scores, _R.c.features).where(
    _R.c.model_version == sa.bindparam("version"),
    _R.c.customer_id == sa.bindparam("customer_id"),
    _R.c.model.in_(sa.bindparam("models", expanding=True)),
)
_CUSTOMER = sa.select(_CUSTOMERS.c.customer_id).where(_CUSTOMERS.c.customer_id == sa.bindparam("customer_id"))
#: what the campaign grid may filter by, and the ag-grid filter kind of each
CAMPAIGN_FILTERS = {
    "rank": "number",
    "customer_id": "number",
    "score": "number",
    "age": "number",
    "income": "number",
    "region": "text",
    "employment": "text",
}


@dataclass(frozen=True)
class CustomerView:
    """One customer's profile, held products and each model's recommendations."""

    customer_id: int
    profile: dict[str, object]
    held: pd.DataFrame  # product_id, name, family
    recommendations: dict[str, pd.DataFrame]  # model -> rank, product_id, name, family, score, reason
    credit_blocked: bool


@dataclass(frozen=True)
class CustomerLists:
    """One customer's held products and some models' lists as plain rows (the API's path: no DataFrame is built)."""

    customer_id: int
    held: list[dict[str, Any]]  # product_id (the bank's id), name, family
    recommendations: dict[str, list[dict[str, Any]]]  # model -> rank, product_id, name, family, score, reason
    credit_blocked: bool


@dataclass(frozen=True)
class MFReasons:
    """The MF side-feature factors: how much each of a customer's feature values adds to a product's score."""

    feature_names: list[str]
    vocab: list[list[str]]
    offsets: np.ndarray
    token_factors: np.ndarray
    item_factors: np.ndarray

    def contributions(self, codes: np.ndarray, col: int) -> pd.DataFrame:
        """feature, value, contribution (largest first) of the tokens ``codes`` to catalogue column ``col``."""
        contrib = self.token_factors[codes] @ self.item_factors[col] / len(codes)
        values = [self.vocab[j][codes[j] - self.offsets[j]] for j in range(len(codes))]
        out = pd.DataFrame({"feature": self.feature_names, "value": values, "contribution": contrib})
        return out.sort_values("contribution", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class Served:
    """The served ``recsys`` version as a worker holds it (small, whatever the bank's size)."""

    version: str
    catalogue: pd.DataFrame  # product_id, name, family in the models' item order
    popularity: dict[str, np.ndarray]  # model -> share of customers holding each product
    cooc: np.ndarray  # product x product: customers holding both
    mf: MFReasons | None
    metrics: dict[str, Any]
    credit_families: tuple[str, ...]
    models: tuple[str, ...] = ("popularity", "als", "mf")  # what the version published, in page order
    ease_weights: np.ndarray | None = None  # EASE's item x item weights (None: the version has no EASE)

    @functools.cached_property
    def best(self) -> str:
        """The default model of every page: the served model with the best held-out nDCG@k of the evaluation."""
        return recsys.best_model(self.metrics, list(self.models))

    @functools.cached_property
    def product_ids(self) -> np.ndarray:
        """The catalogue's product ids in item order (arrays: a customer's lists index them without pandas)."""
        return self.catalogue["product_id"].to_numpy(dtype=np.int64)

    @functools.cached_property
    def names(self) -> np.ndarray:
        """Product names in item order."""
        return self.catalogue["name"].to_numpy(dtype=object)

    @functools.cached_property
    def families(self) -> np.ndarray:
        """Product families in item order."""
        return self.catalogue["family"].to_numpy(dtype=object)

    @functools.cached_property
    def _positions(self) -> dict[int, int]:
        return {int(p): i for i, p in enumerate(self.product_ids)}

    def column(self, product_id: int) -> int:
        """The catalogue position of ``product_id`` (``ValueError`` when unknown)."""
        try:
            return self._positions[int(product_id)]
        except KeyError:
            raise ValueError(f"unknown product id: {product_id}") from None

    def is_credit(self, product_id: int) -> bool:
        """Whether the product belongs to a credit family (held back from blocked customers)."""
        return str(self.families[self.column(product_id)]) in self.credit_families


# --- the served version ---------------------------------------------------------------------------------------------


def _url() -> str:
    return bank_service.check_database(get_settings().database_url)


def _rows(statement: sa.Executable) -> pd.DataFrame:
    try:
        return query(statement, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def _lookup(statement: sa.Executable, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    try:
        return query_records(statement, _url(), params)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def _load(artifact: Artifact) -> Served:
    try:
        doc = recsys.serving_evidence(artifact.version, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if doc is None:
        raise NotPublished(recsys.MODEL_NAME, artifact.version, "its recommendations")
    mf = doc.get("mf")
    reasons = (
        None
        if not mf
        else MFReasons(
            feature_names=[str(f) for f in mf["feature_names"]],
            vocab=[[str(v) for v in vocab] for vocab in mf["vocab"]],
            offsets=np.asarray(mf["offsets"], dtype=np.int64),
            token_factors=np.asarray(mf["token_factors"], dtype=np.float32),
            item_factors=np.asarray(mf["item_factors"], dtype=np.float32),
        )
    )
    catalogue = pd.DataFrame(doc["catalogue"]).astype({"product_id": "int64", "name": "str", "family": "str"})
    published = doc.get("models") or list(doc["item_popularity"])  # older documents: the models they hold
    ease = doc.get("ease")
    return Served(
        version=artifact.version,
        catalogue=catalogue,
        popularity={m: np.asarray(p, dtype=np.float32) for m, p in doc["item_popularity"].items()},
        cooc=np.asarray(doc["cooccurrence"], dtype=np.float64),
        mf=reasons,
        metrics=dict(doc.get("metrics") or {}),
        credit_families=tuple(doc.get("credit_families") or recsys.CREDIT_FAMILIES),
        models=tuple(m for m in MODEL_LABELS if m in published),
        ease_weights=None if not ease else np.asarray(ease["item_weights"], dtype=np.float32),
    )


def served() -> Served:
    """The served version's catalogue, reason factors and evaluation.

    Raises
    ------
    NotTrained
        No recommender is trained (``NotPublished``, a ``NotTrained``: trained but not published).
    DataUnavailable
        The database does not answer.
    """
    return load_served(recsys.MODEL_NAME, _load)


# --- customers ------------------------------------------------------------------------------------------------------


def _prefix_ranges(digits: str) -> list[tuple[int, int]]:
    """The id ranges whose decimal text starts with ``digits``: [d, d+1), [10d, 10d+10), ... up to 15 digits."""
    if not digits or digits[0] == "0":
        return []  # customer ids are positive: none is written with a leading zero
    value, width, out = int(digits), 1, []
    for _ in range(MAX_SEARCH_DIGITS - len(digits) + 1):
        out.append((value, value + width))
        value, width = value * 10, width * 10
    return out


def customer_options(search: str | None = None, limit: int = 30) -> list[dict[str, object]]:
    """Dropdown options for the customer search: the ``limit`` smallest ids whose digits start with ``search``
    (the first ``limit`` ids without one); for a bank with text ids, the first ids in text order that start with
    ``search`` (values are the bank's ids). Each length of id is one primary-key range ([1, 2), [10, 20), ...), so
    the query reads at most ``limit`` rows per range, never the table."""
    t = _CUSTOMERS
    text = (search or "").strip()
    if ids.is_text("customer"):  # the bank's text ids: a range of the mapping's unique index
        return [
            {"label": f"Customer {shown}", "value": shown} for _, shown in ids.search("customer", text, limit)
        ]
    if not text:
        statement: sa.Select = sa.select(t.c.customer_id).order_by(t.c.customer_id).limit(limit)
    else:
        if not (text.isascii() and text.isdigit()) or len(text) > MAX_SEARCH_DIGITS:
            return []
        ranges = _prefix_ranges(text)
        if not ranges:
            return []
        parts = [
            sa.select(t.c.customer_id)
            .where(t.c.customer_id >= lo, t.c.customer_id < hi)
            .order_by(t.c.customer_id)
            .limit(limit)
            .subquery(f"r{i}")
            for i, (lo, hi) in enumerate(ranges)
        ]
        union = sa.union_all(*(sa.select(p.c.customer_id) for p in parts)).subquery("ids")
        statement = sa.select(union.c.customer_id).order_by(union.c.customer_id).limit(limit)
    found = _rows(statement)["customer_id"].to_numpy(dtype=np.int64)
    return [{"label": f"Customer {int(i)}", "value": int(i)} for i in found]


def product_options() -> list[dict[str, object]]:
    """Dropdown options for the product view."""
    cat = served().catalogue
    return [
        {"label": f"{n} ({f})", "value": int(p)}
        for p, n, f in zip(cat["product_id"], cat["name"], cat["family"], strict=True)
    ]


def default_product() -> int | None:
    """The product the campaign list opens on: the one most customers hold (the served version's popularity), the
    catalogue's first without it; None for an empty catalogue."""
    pub = served()
    if not len(pub.product_ids):
        return None
    share = pub.popularity.get(pub.best)
    if share is None or len(share) != len(pub.product_ids):
        return int(pub.product_ids[0])
    return int(pub.product_ids[int(np.argmax(share))])


def _held_products(customer_id: int) -> set[int]:
    """Products the customer bought (the customer_id index of ``interactions``)."""
    return {int(r["product_id"]) for r in _lookup(_HELD, {"customer_id": int(customer_id)})}


def is_credit_blocked(customer_id: int) -> bool:
    """Whether credit products are held back from the customer (their published risk band is a blocked one)."""
    band = risk_service.band_of(int(customer_id))
    return band is not None and band in get_settings().credit_blocked_bands


def _ints(text: str | None) -> np.ndarray:
    return np.array([int(v) for v in text.split(",")] if text else [], dtype=np.int64)


def _floats(text: str | None) -> np.ndarray:
    return np.array([float(v) for v in text.split(",")] if text else [], dtype=np.float64)


def model_options() -> tuple[list[dict[str, str]], str]:
    """The served version's models as dropdown options (label, value) and the default: the best of them."""
    pub = served()
    return [{"label": MODEL_LABELS[m], "value": m} for m in pub.models], pub.best


def best_model() -> str:
    """The served model with the best held-out nDCG@k (the default list on every page)."""
    return served().best


def _reason(pub: Served, model: str, col: int, held_cols: np.ndarray, codes: np.ndarray | None) -> str:
    names = pub.names
    often = None
    if model == "ease" and pub.ease_weights is not None:
        strongest = recsys.strongest_link(pub.ease_weights, held_cols, col)
        often = None if strongest is None else str(names[strongest])
    link = None if often else recsys.also_took(pub.cooc, held_cols, col)
    contributions = None
    if model == "mf" and link is None and pub.mf is not None and codes is not None and len(codes):
        contributions = pub.mf.contributions(codes, col)
    return recsys.explain(
        item_name=str(names[col]),
        often=often,
        link=(str(names[link[0]]), link[1]) if link else None,
        contributions=contributions,
        popularity=float(pub.popularity[model][col]),
    )


def _kept(
    pub: Served, row: dict[str, Any] | None, n: int, held: set[int], blocked: bool
) -> tuple[list[int], list[float], list[int], np.ndarray | None]:
    """Product ids, scores and catalogue columns of the first ``n`` published products of one model's row that the
    customer does not hold (nor is blocked from), and the customer's MF feature codes."""
    products = _ints(None if row is None else row["products"]).tolist()
    scores = _floats(None if row is None else row["scores"]).tolist()
    families = pub.families
    credit = set(pub.credit_families)
    out_p: list[int] = []
    out_s: list[float] = []
    out_c: list[int] = []
    for p, sc in zip(products, scores, strict=True):
        if len(out_p) >= n:
            break
        col = pub.column(p)
        if p in held or (blocked and str(families[col]) in credit):
            continue
        out_p.append(int(p))
        out_s.append(float(sc))
        out_c.append(col)
    codes = None
    if row is not None and isinstance(row.get("features"), str):
        codes = _ints(row["features"])
    return out_p, out_s, out_c, codes


def _ranked_records(
    pub: Served,
    model: str,
    row: dict[str, Any] | None,
    n: int,
    held: set[int],
    blocked: bool,
    held_cols: np.ndarray,
) -> list[dict[str, Any]]:
    """:func:`_ranked_list` as plain rows (internal product ids)."""
    products, scores, cols, codes = _kept(pub, row, n, held, blocked)
    names, families = pub.names, pub.families
    return [
        {
            "rank": rank,
            "product_id": p,
            "name": str(names[c]),
            "family": str(families[c]),
            "score": sc,
            "reason": _reason(pub, model, c, held_cols, codes),
        }
        for rank, (p, sc, c) in enumerate(zip(products, scores, cols, strict=True), start=1)
    ]


def _ranked_list(
    pub: Served,
    model: str,
    row: dict[str, Any] | None,
    n: int,
    held: set[int],
    blocked: bool,
    held_cols: np.ndarray,
) -> pd.DataFrame:
    """The first ``n`` published products of one model that the customer does not hold (nor is blocked from)."""
    products_list, scores_list, cols_list, codes = _kept(pub, row, n, held, blocked)
    products = np.array(products_list, dtype=np.int64)
    scores = np.array(scores_list, dtype=np.float64)
    cols = np.array(cols_list, dtype=np.int64)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(products) + 1),
            "product_id": products,
            "name": pub.names[cols].astype(str),
            "family": pub.families[cols].astype(str),
            "score": scores,
            "reason": [_reason(pub, model, int(c), held_cols, codes) for c in cols],
        }
    )


def _customer_lists_rows(
    pub: Served, customer_id: int, wanted: list[str]
) -> tuple[set[int], np.ndarray, bool, dict[str, dict[str, Any]]]:
    """Held products, their catalogue columns, the credit block and each wanted model's published row."""
    held = _held_products(customer_id)
    held_cols = np.flatnonzero(np.isin(pub.product_ids, list(held)))
    blocked = is_credit_blocked(customer_id)
    lists = _lookup(_LISTS, {"version": pub.version, "customer_id": customer_id, "models": wanted})
    return held, held_cols, blocked, {str(r["model"]): r for r in lists}


def customer_lists(customer_id: int, n: int = 5, *, models: tuple[str, ...] | None = None) -> CustomerLists:
    """:func:`customer_view` without the profile and without pandas: held products and the top-``n`` of every
    served model (or those of ``models``) as plain rows, product ids as the bank writes them (the API's path: a
    primary-key look-up for the customer, then the same indexed look-ups as :func:`customer_view`).

    Raises
    ------
    ValueError
        Unknown customer id or ``n`` outside 1..12.
    NotTrained
        No recommender is served (or it is not published).
    """
    if not 1 <= int(n) <= MAX_LIST:
        raise ValueError(f"list length must be between 1 and {MAX_LIST}, got {n}")
    customer_id = int(customer_id)
    pub = served()
    wanted = [m for m in pub.models if models is None or m in models]
    try:  # three look-ups on one connection
        found, bought, lists = query_records_many(
            [
                (_CUSTOMER, {"customer_id": customer_id}),
                (_HELD, {"customer_id": customer_id}),
                (_LISTS, {"version": pub.version, "customer_id": customer_id, "models": wanted}),
            ],
            _url(),
        )
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if not found:
        raise ValueError(f"no customer with id {customer_id}")
    held = {int(r["product_id"]) for r in bought}
    held_cols = np.flatnonzero(np.isin(pub.product_ids, list(held)))
    blocked = is_credit_blocked(customer_id)
    by_model = {str(r["model"]): r for r in lists}
    recs = {
        model: _ranked_records(pub, model, by_model.get(model), int(n), held, blocked, held_cols)
        for model in wanted
    }
    held_rows: list[dict[str, Any]] = [
        {"product_id": int(pub.product_ids[c]), "name": str(pub.names[c]), "family": str(pub.families[c])}
        for c in held_cols.tolist()
    ]
    if ids.is_text("product"):
        every = [int(r["product_id"]) for r in held_rows]
        every += [int(r["product_id"]) for rows in recs.values() for r in rows]
        mapping = ids.shown_many("product", every)
        held_rows = [{**r, "product_id": mapping[int(r["product_id"])]} for r in held_rows]
        recs = {
            m: [{**r, "product_id": mapping[int(r["product_id"])]} for r in rows] for m, rows in recs.items()
        }
    return CustomerLists(customer_id, held_rows, recs, blocked)


def customer_view(
    customer_id: int,
    n: int = 5,
    *,
    models: tuple[str, ...] | None = None,
    profile: dict[str, Any] | None = None,
) -> CustomerView:
    """Profile, held products and top-``n`` from every served model (or those of ``models``) for one customer (indexed look-ups
    only; ``profile``: the customer's row when the caller has read it already).

    Raises
    ------
    ValueError
        Unknown customer id or ``n`` outside 1..12.
    NotTrained
        No recommender is served (or it is not published).
    """
    if not 1 <= int(n) <= MAX_LIST:
        raise ValueError(f"list length must be between 1 and {MAX_LIST}, got {n}")
    customer_id = int(customer_id)
    pub = served()
    row = profile if profile is not None else bank_service.customer_profile(customer_id)
    if row is None:
        raise ValueError(f"no customer with id {customer_id}")
    wanted = [m for m in pub.models if models is None or m in models]
    held, held_cols, blocked, by_model = _customer_lists_rows(pub, customer_id, wanted)
    recs = {
        model: _ranked_list(pub, model, by_model.get(model), int(n), held, blocked, held_cols)
        for model in wanted
    }
    profile = {k: row[k] for k in PROFILE_COLUMNS if k in row}
    held_frame = pd.DataFrame(
        {
            "product_id": pub.product_ids[held_cols],
            "name": pub.names[held_cols].astype(str),
            "family": pub.families[held_cols].astype(str),
        }
    )
    held_frame = ids.show(held_frame, "product_id", "product")
    recs = {model: ids.show(frame, "product_id", "product") for model, frame in recs.items()}
    return CustomerView(customer_id, profile, held_frame, recs, blocked)


# --- campaigns ------------------------------------------------------------------------------------------------------


def campaign_request(product_id: object, n: object, model: object) -> tuple[int, int, str]:
    """A campaign's product, size and model from a request, checked: a product of the catalogue, 1 to
    :data:`MAX_CAMPAIGN` customers, one of the served version's models (default: the best of them).

    Raises
    ------
    InputError
        Naming the field and why.
    """
    pub = served()
    known = [int(p) for p in pub.catalogue["product_id"]]
    product = validation.choice(validation.whole_number(product_id, "product", lo=0), "product", known)
    size = validation.whole_number(n, "campaign size", lo=1, hi=MAX_CAMPAIGN)
    return product, size, validation.choice(model, "model", list(pub.models), default=pub.best)


def _candidates(pub: Served, product_id: int, n: int, model: str) -> sa.Select:
    """The campaign's candidates in rank order (credit-blocked customers left out), at most ``n``: an index range
    of ``campaign_candidates`` read in order until ``n`` are found."""
    if not 1 <= int(n) <= MAX_CAMPAIGN:
        raise ValueError(f"campaign size must be between 1 and {MAX_CAMPAIGN:,}, got {n}")
    if model not in pub.models:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(pub.models)}")
    where = [_C.c.model_version == pub.version, _C.c.model == model, _C.c.product_id == int(product_id)]
    bands = tuple(get_settings().credit_blocked_bands)
    if pub.is_credit(product_id) and bands:
        blocked = risk_service.customers_in_bands(bands)
        if blocked is not None:
            where.append(_C.c.customer_id.not_in(blocked))
    return (
        sa.select(_C.c.rank.label("stored_rank"), _C.c.customer_id, _C.c.score)
        .where(*where)
        .order_by(_C.c.rank)
        .limit(int(n))
    )


def _with_attributes(top: sa.Subquery, rank: sa.ColumnElement[Any]) -> dict[str, sa.ColumnElement[Any]]:
    """The grid's columns: ``rank``, the candidate's id and score, the customer's attributes (primary key)."""
    cu = _CUSTOMERS
    return {
        "rank": rank,
        "customer_id": top.c.customer_id,
        "score": top.c.score,
        "age": cu.c.age,
        "income": cu.c.income,
        "region": cu.c.region,
        "employment": cu.c.employment,
    }


def _joined(top: sa.Subquery, columns: dict[str, sa.ColumnElement[Any]]) -> sa.Select:
    return sa.select(*(c.label(name) for name, c in columns.items())).select_from(
        top.outerjoin(_CUSTOMERS, _CUSTOMERS.c.customer_id == top.c.customer_id)
    )


def campaign(product_id: int, n: int = 100, model: str | None = None) -> pd.DataFrame:
    """The ``n`` customers most likely to take ``product_id`` (not holding it, not blocked from it), with attributes:
    rank, customer_id, score, age, income, region, employment, best first (``model``: default the best one)."""
    pub = served()
    top = _candidates(pub, int(product_id), int(n), model or pub.best).subquery("top")
    frame = _rows(_joined(top, _with_attributes(top, top.c.stored_rank)).order_by(top.c.stored_rank))
    frame = ids.show(frame, "customer_id", "customer")
    return frame.assign(rank=np.arange(1, len(frame) + 1)).loc[:, list(CAMPAIGN_COLUMNS)]


def campaign_filters() -> dict[str, str]:
    """:data:`CAMPAIGN_FILTERS` as the grid's column filters show them: ``text`` for the bank's text ids."""
    return CAMPAIGN_FILTERS | {"customer_id": ids.filter_kind("customer")}


def _records(page: pd.DataFrame) -> list[dict[str, Any]]:
    page = ids.show(page.round({"score": 4, "income": 0}), "customer_id", "customer")
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in page.to_dict("records")
    ]


def _count(statement: sa.Select) -> int:
    frame = _rows(sa.select(sa.func.count().label("n")).select_from(statement.subquery("counted")))
    return int(frame["n"].iloc[0])


def campaign_page(
    product_id: int,
    n: int,
    model: str,
    start_row: Any,
    end_row: Any,
    sort_model: Any = None,
    filter_model: Any = None,
) -> tuple[list[dict[str, Any]], int]:
    """Rows ``start_row``..``end_row`` (exclusive) of the campaign list, sorted and filtered as the dash-ag-grid
    infinite row model asks (``getRowsRequest``, checked against whitelists), and how many rows match.

    In rank order (the list as published) a page is an index range of the candidates and only its rows are joined
    to ``customers``; another order or a filter ranks the ``n`` candidates in the query (``ROW_NUMBER``) first.

    Raises
    ------
    InputError
        A bad row range, column, direction or filter.
    """
    rows = grid.row_range(start_row, end_row)
    pub = served()
    candidates = _candidates(pub, int(product_id), int(n), model)
    sorts = validation.items(sort_model, "sort model", max_len=len(CAMPAIGN_FILTERS))
    if not filter_model and all(
        isinstance(s, dict) and s.get("colId") == "rank" and s.get("sort") == "asc" for s in sorts
    ):
        total = _count(candidates)
        if rows.start >= total:
            return [], total
        top = candidates.offset(rows.start).limit(min(rows.size, int(n) - rows.start)).subquery("top")
        page = _rows(_joined(top, _with_attributes(top, top.c.stored_rank)).order_by(top.c.stored_rank))
        return _records(page.assign(rank=np.arange(rows.start + 1, rows.start + 1 + len(page)))), total
    top = candidates.subquery("top")
    ranked = sa.select(
        sa.func.row_number().over(order_by=top.c.stored_rank).label("rank"), top.c.customer_id, top.c.score
    ).subquery("ranked")
    columns = _with_attributes(ranked, ranked.c.rank)
    allowed = {name: grid.Column(columns[name], kind) for name, kind in CAMPAIGN_FILTERS.items()}
    allowed["customer_id"] = ids.grid_column("customer", columns["customer_id"])
    where = grid.filters(filter_model, allowed)
    order = grid.order(grid.sorts(sorts, allowed), allowed, "rank")
    matching = _joined(ranked, columns).where(*where)
    page = _rows(
        matching.add_columns(sa.func.count().over().label("matching"))
        .order_by(*order)
        .limit(rows.size)
        .offset(rows.start)
    )
    total = int(page["matching"].iloc[0]) if len(page) else _count(matching)  # one pass unless past the end
    return _records(page.drop(columns="matching")), total


def campaign_file_name(product_id: int) -> str:
    """The download's name, ``ledgerlight-campaign-product-<the bank's product id>.csv`` (characters other than
    letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``)."""
    shown = re.sub(r"[^A-Za-z0-9._-]", "_", str(ids.shown("product", int(product_id))))[:60]
    return f"ledgerlight-campaign-product-{shown}.csv"


def campaign_export(product_id: int, n: int = 100, model: str | None = None) -> pd.DataFrame:
    """:func:`campaign` made safe for spreadsheets (text cells that start a formula are neutralised); audited with
    the product, model and the number of customers exported."""
    model = model or best_model()
    frame = neutralise_formulas(campaign(product_id, n, model))
    audit.served(
        "export_campaign",
        f"campaign list for product {ids.shown('product', int(product_id))}",
        {"model": model, "n": int(n), "rows": len(frame)},
    )
    return frame


# --- evaluation -----------------------------------------------------------------------------------------------------


def comparison() -> pd.DataFrame:
    """The stored evaluation: one row per model (and the oracle), metric columns, plus ``k``."""
    metrics = served().metrics
    rows = {**metrics.get("models", {})}
    if metrics.get("oracle"):
        rows["oracle (true affinity)"] = metrics["oracle"]
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model").reset_index()
    frame["model"] = frame["model"].map(lambda m: MODEL_LABELS.get(m, m))
    return frame


def metrics_k() -> int:
    """The cut-off ``k`` of the stored evaluation."""
    return int(served().metrics.get("k", 5))
