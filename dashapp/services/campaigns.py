"""Campaigns page data: create a campaign with its holdout, export whom to contact, record responses, measure.

A campaign's audience comes from the Segments page's filter (every matching customer, stratified by served
segment) or from a product's campaign list on the Recommendations page (the top ``n`` of a model, credit-blocked
customers left out as the list leaves them out). The audience queries are :func:`segment_audience` and
:func:`ranked_audience`: small, built on the Segments and Recommendations services' own conditions, so they can be
swapped for a shared ``campaigns.audience`` later. Storage is ``bankdata``'s campaign store; the measurement is
``campaigns.campaign_report``; the fair-offer check counts the bank's customers by protected group in SQL (a worker
never loads the bank's customers) and leaves the ratio to ``campaigns.adverse_impact``.

Every creation and export is audited (responses: :mod:`dashapp.services.campaign_responses`) (:func:`dashapp.services.audit.served`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import campaigns
import recsys
from bankdata import (
    BANK_TABLES,
    CAMPAIGN_TABLES,
    Campaign,
    DatabaseError,
    campaign_outcomes,
    create_campaign,
    get_settings,
    query,
    read_campaign,
    read_campaigns,
    treated_customers,
)
from dashapp import policy
from dashapp.services import audit, ids, validation
from dashapp.services import recsys as recsys_service
from dashapp.services import risk as risk_service
from dashapp.services import segments as segments_service
from dashapp.services.bank import DataUnavailable
from dashapp.services.served import NotTrained, served_version
from risk import age_band

MAX_AUDIENCE = segments_service.EXPORT_MAX_ROWS
"""Most customers a campaign from a Segments filter holds (the export cap: whom one download may hold)."""
DEFAULT_CONTROL_PERCENT = 10
MIN_CONTROL_PERCENT, MAX_CONTROL_PERCENT = 1, 50
EXPORT_COLUMNS = ("rank", "customer_id", "segment", "score")
FAIRNESS_ATTRIBUTES = ("age band", "gender")
_CUSTOMERS = BANK_TABLES["customers"]
_PRODUCTS = BANK_TABLES["products"]
_MEMBERS = CAMPAIGN_TABLES[1]  # campaign_members
_SEG = segments_service._M  # segment_members


@dataclass(frozen=True)
class Product:
    """A product of the catalogue as the page shows it."""

    product_id: int  # internal
    shown: Any  # the bank's id
    name: str
    family: str
    credit: bool


@dataclass(frozen=True)
class Fairness:
    """The adverse-impact ratio of an audience by one protected attribute."""

    attribute: str
    table: pd.DataFrame  # campaigns.fairness.COLUMNS
    reference: str | None

    @property
    def flagged(self) -> list[str]:
        """Groups whose ratio is below the flag."""
        return self.table.loc[self.table["flag"], "group"].tolist()


@dataclass(frozen=True)
class CampaignView:
    """Everything the Campaigns page shows for one campaign."""

    campaign: Campaign
    product: Product
    report: dict[str, Any]
    scored: int  # members with a score (the Qini curve needs every member scored)
    members: int
    fairness: list[Fairness] | None  # None: not a credit product


# --- products -------------------------------------------------------------------------------------------------------


def _url() -> str:
    return get_settings().database_url


def _rows(statement: sa.Executable) -> pd.DataFrame:
    try:
        return query(statement, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def _credit_families() -> tuple[str, ...]:
    """The credit families the served recommender holds back from blocked customers (its default without one)."""
    try:
        return recsys_service.served().credit_families
    except (NotTrained, DataUnavailable):
        return tuple(recsys.CREDIT_FAMILIES)


def products() -> list[Product]:
    """The bank's products (the catalogue table), in product id order."""
    frame = _rows(
        sa.select(_PRODUCTS.c.product_id, _PRODUCTS.c.name, _PRODUCTS.c.family).order_by(
            _PRODUCTS.c.product_id
        )
    )
    credit = set(_credit_families())
    shown = ids.shown_many("product", frame["product_id"].astype("int64"))
    return [
        Product(int(p), shown[int(p)], str(n), str(f), str(f) in credit)
        for p, n, f in zip(frame["product_id"], frame["name"], frame["family"], strict=True)
    ]


def product_options() -> list[dict[str, Any]]:
    """Dropdown options of the products (value: the internal id)."""
    return [{"label": f"{p.name} ({p.family})", "value": p.product_id} for p in products()]


def product(product_id: Any) -> Product:
    """One product, checked against the catalogue (``InputError`` naming ``product``)."""
    known = {p.product_id: p for p in products()}
    return known[
        validation.choice(validation.whole_number(product_id, "product", lo=1), "product", list(known))
    ]


def control_share(percent: Any) -> float:
    """The holdout share from the page's percent input: :data:`MIN_CONTROL_PERCENT` to :data:`MAX_CONTROL_PERCENT`
    (empty: the default 10%)."""
    pct = validation.number(percent, "control share", lo=MIN_CONTROL_PERCENT, hi=MAX_CONTROL_PERCENT,
                            default=DEFAULT_CONTROL_PERCENT)  # fmt: skip
    return campaigns.check_control_share(pct / 100.0)


# --- audiences ------------------------------------------------------------------------------------------------------


def _served_version(name: str) -> str | None:
    try:
        return served_version(name)
    except NotTrained:
        return None


def _with_blocked_left_out(
    flt: segments_service.SegmentFilter, item: Product
) -> segments_service.SegmentFilter:
    """A credit product's audience leaves out the customers in blocked risk bands (when a risk model is served)."""
    bands = list(get_settings().credit_blocked_bands)
    if item.credit and bands and risk_service.customers_in_bands(bands) is not None:
        return replace(flt, exclude_ineligible=True)
    return flt


def segment_audience(
    flt: segments_service.SegmentFilter, item: Product
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every customer matching ``flt`` (at most :data:`MAX_AUDIENCE`), with the served segment as stratum and the
    recommender's candidate score for the product where the best model listed the customer (else none).

    Returns ``(members, audience)``: customer_id, stratum, score; and what produced them (for the stored JSON).

    Raises
    ------
    ExportTooLarge
        More customers match than :data:`MAX_AUDIENCE`.
    ValueError
        Nobody matches.
    """
    pub = segments_service.published()
    flt = segments_service._effective(
        pub, _with_blocked_left_out(flt, item)
    )  # a slider at its ends: no limit
    n = segments_service.count_matching(flt)
    if n > MAX_AUDIENCE:
        raise segments_service.ExportTooLarge(
            f"{n:,} customers match; a campaign holds at most {MAX_AUDIENCE:,}: narrow the filters"
        )
    if n == 0:
        raise ValueError("no customer matches the filters")
    conds = segments_service._where(pub, flt)
    frame = _rows(sa.select(_SEG.c.customer_id, _SEG.c.segment).where(*conds).order_by(_SEG.c.customer_id))
    score_model = recsys_version = None
    try:
        served_recsys = recsys_service.served()
        score_model, recsys_version = served_recsys.best, served_recsys.version
    except (NotTrained, DataUnavailable):
        pass
    customers = frame["customer_id"].to_numpy(dtype=np.int64)
    scores = (_candidate_scores(customers, recsys_version, score_model, item.product_id)
              if score_model and recsys_version else {})  # fmt: skip
    frame["score"] = pd.Series(customers).map(scores).to_numpy(dtype=float)
    names = segments_service.segment_names()
    members = pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(dtype=np.int64),
        "stratum": [f"{int(s)}: {names.get(int(s), s)}" for s in frame["segment"]],
        "score": frame["score"].to_numpy(dtype=float),
    })  # fmt: skip
    audience = {"filter": flt.describe(), "segments_version": pub.version, "matching": int(len(members)),
                "score_model": score_model, "recsys_version": recsys_version,
                "scored": int(members["score"].notna().sum())}  # fmt: skip
    return members, audience


def _candidate_scores(customers: np.ndarray, version: str, model: str, product_id: int) -> dict[int, float]:
    """The recommender's score for the product of those ``customers`` its campaign list holds (one range of the
    list's index per chunk of customers)."""
    cand, found = recsys.CAMPAIGN_TABLE, dict[int, float]()
    for start in range(0, len(customers), 20_000):
        chunk = [int(c) for c in customers[start : start + 20_000]]
        rows = _rows(sa.select(cand.c.customer_id, cand.c.score).where(
            cand.c.model_version == version, cand.c.model == model, cand.c.product_id == int(product_id),
            cand.c.customer_id.in_(chunk)))  # fmt: skip
        found.update(zip(rows["customer_id"].astype(int), rows["score"].astype(float), strict=True))
    return found


def _segment_strata(customer_ids: np.ndarray) -> tuple[list[str], str | None]:
    """The served segment of each customer (``"(no segment)"`` where none), in order, and the served version."""
    version = _served_version(segments_service.MODEL_NAME)
    if version is None or not len(customer_ids):
        return ["all customers"] * len(customer_ids), version
    found: dict[int, int] = {}
    for start in range(0, len(customer_ids), 20_000):
        chunk = [int(c) for c in customer_ids[start : start + 20_000]]
        rows = _rows(sa.select(_SEG.c.customer_id, _SEG.c.segment)
                     .where(_SEG.c.model_version == version, _SEG.c.customer_id.in_(chunk)))  # fmt: skip
        found.update(zip(rows["customer_id"].astype(int), rows["segment"].astype(int), strict=True))
    names = segments_service.segment_names()
    return [f"{found[int(c)]}: {names.get(found[int(c)], found[int(c)])}" if int(c) in found else "(no segment)"
            for c in customer_ids], version  # fmt: skip


def ranked_audience(product_id: Any, n: Any, model: Any) -> tuple[Product, pd.DataFrame, dict[str, Any]]:
    """The top ``n`` of a model's campaign list for a product (credit-blocked customers left out, as the list
    leaves them out), with the model's score and the served segment as stratum.

    Raises
    ------
    InputError
        An unknown product or model, or a size outside 1 to ``recsys.MAX_CAMPAIGN``.
    NotTrained
        No recommender is served.
    """
    pid, size, model_name = recsys_service.campaign_request(product_id, n, model)
    pub = recsys_service.served()
    frame = _rows(recsys_service._candidates(pub, pid, size, model_name))
    if frame.empty:
        raise ValueError("the campaign list of this product is empty")
    strata, seg_version = _segment_strata(frame["customer_id"].to_numpy(dtype=np.int64))
    members = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(dtype=np.int64), "stratum": strata,
                            "score": frame["score"].to_numpy(dtype=float)})  # fmt: skip
    item = product(pid)
    audience = {"product_id": item.shown, "model": model_name, "n": size, "recsys_version": pub.version,
                "segments_version": seg_version, "listed": int(len(members)),
                "credit_blocked_bands": list(get_settings().credit_blocked_bands) if item.credit else []}  # fmt: skip
    return item, members, audience


LIST_RANKING = "list"
UPLIFT_RANKING = campaigns.UPLIFT_RANKING


def uplift_ranking_available() -> bool:
    """Whether an uplift model's ranking is published (``ledgerlight campaigns train-uplift``)."""
    return UPLIFT_RANKING in campaigns.ranking_models(_url())


def uplift_audience(product_id: Any, n: Any) -> tuple[Product, pd.DataFrame, dict[str, Any]]:
    """The top ``n`` customers by the published uplift model's predicted uplift for a product (credit-blocked
    customers left out), with the uplift as score and the served segment as stratum.

    Raises
    ------
    InputError
        An unknown product or a size outside 1 to ``recsys.MAX_CAMPAIGN``.
    ValueError
        No uplift model is published, or it does not rank this product.
    """
    pid, size, _ = recsys_service.campaign_request(product_id, n, None)
    frame = campaigns.ranked_audience(pid, size, UPLIFT_RANKING, _url())
    members = frame[["customer_id", "stratum", "score"]].reset_index(drop=True)
    item = product(pid)
    audience = {"product_id": item.shown, "n": size, **frame.attrs.get("audience", {}), "listed": int(len(members)),
                "credit_blocked_bands": list(get_settings().credit_blocked_bands) if item.credit else []}  # fmt: skip
    return item, members, audience


# --- creating -------------------------------------------------------------------------------------------------------


def _name(name: Any) -> str:
    text = validation.text(name, "campaign name", max_len=500, default="").strip()
    if not text or len(text) > 120:
        raise validation.InputError("campaign name", "needs 1 to 120 characters")
    return text


def _store(*, name: str, item: Product, source: str, members: pd.DataFrame, audience: dict[str, Any],
           share: float, user: str) -> Campaign:  # fmt: skip
    seed = secrets.randbelow(2**31 - 1)
    treated = campaigns.assign_holdout(members["stratum"].to_numpy(dtype=object), share, seed)
    rows = members.assign(arm=np.where(treated, "treated", "control"))
    risk_version = _served_version("risk")
    stored = create_campaign(name=name, product_id=item.product_id, source=source,
                             audience={**audience, "risk_version": risk_version}, control_share=share, seed=seed,
                             members=rows, created_by=user)  # fmt: skip
    audit.served(
        "campaign_create",
        f"campaign {stored.campaign_id}",
        {
            "name": stored.name,
            "source": source,
            "product": item.shown,
            "control_share": share,
            "seed": seed,
            "treated": stored.n_treated,
            "control": stored.n_control,
            "audience": audience,
        },
    )
    return stored


def create_from_segments(flt: segments_service.SegmentFilter, product_id: Any, name: Any, percent: Any,
                         user: str) -> Campaign:  # fmt: skip
    """A campaign of every customer matching a Segments filter, for one product; the holdout stratified by segment.

    Raises
    ------
    InputError
        A bad name, product or control share.
    ExportTooLarge
        More customers match than a campaign may hold.
    """
    name, share = _name(name), control_share(percent)
    if product_id is None:
        raise validation.InputError("product", "pick the product the campaign offers")
    item = product(product_id)
    members, audience = segment_audience(flt, item)
    return _store(
        name=name, item=item, source="segments", members=members, audience=audience, share=share, user=user
    )


def create_from_recommendations(
    product_id: Any, n: Any, model: Any, name: Any, percent: Any, user: str, ranking: Any = None
) -> Campaign:
    """A campaign of a product's campaign list (top ``n`` of ``model``), its scores kept for the Qini curve; with
    ``ranking`` :data:`UPLIFT_RANKING`, the top ``n`` by the published uplift model's predicted uplift instead."""
    name, share = _name(name), control_share(percent)
    if product_id is None:
        raise validation.InputError("product", "pick a product for the campaign list first")
    how = validation.choice(ranking or LIST_RANKING, "ranking", (LIST_RANKING, UPLIFT_RANKING))
    if how == UPLIFT_RANKING:
        item, members, audience = uplift_audience(product_id, n)
    else:
        item, members, audience = ranked_audience(product_id, n, model)
    return _store(
        name=name,
        item=item,
        source="recommendations",
        members=members,
        audience=audience,
        share=share,
        user=user,
    )


SEGMENT_KEYS = ("segment", "age", "income", "region", "product", "risk")
RANKED_KEYS = ("product", "model", "n")


def create_from(source: Any, audience: Any, product_id: Any, name: Any, percent: Any, *, role: str | None,
                user: str, ranking: Any = None) -> Campaign:  # fmt: skip
    """Create a campaign from what a page's "Create campaign" component sent: ``source`` (``segments`` or
    ``recommendations``), the page's ``audience`` (the filter values, or product, model and size: checked like
    the page's own inputs, as ``role`` may use them), the product (Segments), name and control share in percent."""
    source = validation.choice(source, "campaign source", ("segments", "recommendations"))
    if source == "segments":
        values = validation.record(audience, "audience", SEGMENT_KEYS)
        flt = segments_service.SegmentFilter.from_inputs(*(values[k] for k in SEGMENT_KEYS), role=role)
        return create_from_segments(flt, product_id, name, percent, user)
    values = validation.record(audience, "audience", RANKED_KEYS)
    return create_from_recommendations(
        values["product"], values["n"], values["model"], name, percent, user, ranking
    )


# --- reading and measuring ------------------------------------------------------------------------------------------


def campaign_options(include: int | None = None) -> list[dict[str, Any]]:
    """The latest stored campaigns for the picker, newest first (and campaign ``include``, an older one asked for by
    the page address, when it exists)."""
    try:
        stored = read_campaigns()
        if include is not None and all(c.campaign_id != include for c in stored):
            older = read_campaign(include)
            stored += [older] if older is not None else []
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    return [
        {"label": f"#{c.campaign_id} · {c.name} · {c.created_at:%Y-%m-%d}", "value": c.campaign_id}
        for c in stored
    ]


def campaign_id(value: Any) -> int:
    """A campaign id from a request or the page address (a whole number, not looked up)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return validation.whole_number(value, "campaign", lo=1, hi=2**62)


def get_campaign(value: Any) -> Campaign:
    """The stored campaign ``value`` (``InputError`` when there is none)."""
    cid = campaign_id(value)
    try:
        found = read_campaign(cid)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if found is None:
        raise validation.InputError("campaign", f"no campaign {cid}")
    return found


def _money(value: Any, field: str) -> float | None:
    return validation.number(value, field, lo=0, hi=1e9, default=None)


def campaign_view(value: Any, cost_per_contact: Any = None, margin: Any = None) -> CampaignView:
    """One campaign measured: its report (with the economics when a cost is given) and, for a credit product,
    the fair-offer ratios of its audience.

    Raises
    ------
    InputError
        No such campaign, or a negative or non-numeric cost or margin.
    """
    stored = get_campaign(value)
    cost, gain = _money(cost_per_contact, "cost per contact"), _money(margin, "margin")
    outcomes = campaign_outcomes(stored.campaign_id)
    report = campaigns.campaign_report(outcomes, cost_per_contact=cost, margin=gain)
    item = product_of(stored)
    fairness = fair_offers(stored.campaign_id) if item.credit else None
    return CampaignView(campaign=stored, product=item, report=report, scored=int(outcomes["score"].notna().sum()),
                        members=len(outcomes), fairness=fairness)  # fmt: skip


def product_of(stored: Campaign) -> Product:
    """The campaign's product (a placeholder when the catalogue no longer holds it)."""
    known = {p.product_id: p for p in products()}
    return known.get(stored.product_id) or Product(
        stored.product_id, stored.product_id, f"product {stored.product_id}", "unknown", False
    )


def _age_band(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """``risk.age_band`` in SQL: its labels, at the ages where its label changes (read off the function itself)."""
    ages = np.arange(0, 151)
    labels = age_band(ages)
    starts = np.flatnonzero(labels[1:] != labels[:-1]) + 1  # the first age of each band after the first
    whens = [(column < int(ages[i]), str(labels[i - 1])) for i in starts]
    return sa.case((column.is_(None), "unknown"), *whens, else_=str(labels[-1]))


def _counts(group: sa.ColumnElement[Any], campaign: int | None) -> dict[str, int]:
    cu = _CUSTOMERS
    label = group.label("grp")
    statement = sa.select(label, sa.func.count().label("n")).select_from(cu)
    if campaign is not None:
        statement = statement.join(_MEMBERS, sa.and_(_MEMBERS.c.customer_id == cu.c.customer_id,
                                                     _MEMBERS.c.campaign_id == int(campaign)))  # fmt: skip
    frame = _rows(statement.group_by(label))
    return {str(g): int(n) for g, n in zip(frame["grp"], frame["n"], strict=True)}


def fair_offers(campaign: int) -> list[Fairness]:
    """The campaign audience's adverse-impact ratio by age band and by gender: the share of the bank's customers
    of each group in the audience, over the most favoured group's (groups of at least 30 customers as reference),
    flagged below 0.8 as Monitoring flags the risk model. Two ``GROUP BY`` queries per attribute."""
    cu = _CUSTOMERS
    out = []
    for attribute, group in (
        ("age band", _age_band(cu.c.age)),
        ("gender", sa.func.coalesce(cu.c.gender, "unknown")),
    ):
        table, reference = campaigns.adverse_impact(_counts(group, campaign), _counts(group, None))
        out.append(Fairness(attribute, table, reference))
    return out


# --- export ---------------------------------------------------------------------------------------------------------


def export_file_name(stored: Campaign) -> str:
    """``ledgerlight-campaign-<id>-<name>-treated.csv`` (only letters, digits, ``.``, ``_`` and ``-``)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stored.name).strip("-")[:40] or "campaign"
    return f"ledgerlight-campaign-{stored.campaign_id}-{slug}-treated.csv"


def export_treated(value: Any, role: str | None) -> tuple[pd.DataFrame, str]:
    """Whom to contact: the treated members only (the holdout is never exported), in rank order: rank,
    customer_id (the bank's id), segment, score; columns ``role`` may not receive dropped, formulas neutralised;
    audited with the campaign and the rows. Returns the frame and its file name."""
    stored = get_campaign(value)
    try:
        frame = treated_customers(stored.campaign_id)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    frame = ids.show(frame, "customer_id", "customer").rename(columns={"stratum": "segment"})
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame = segments_service.neutralise_formulas(policy.redact(frame.loc[:, list(EXPORT_COLUMNS)], role))
    audit.served(
        "export_campaign_treated",
        f"campaign {stored.campaign_id}",
        {"name": stored.name, "rows": len(frame), "control_kept": stored.n_control},
    )
    return frame, export_file_name(stored)
