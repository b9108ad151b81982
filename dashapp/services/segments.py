"""Segments page data: filters, the view, the export and renaming, answered from the published rows.

A worker holds the served segmentation's model (centroids, scaler, PCA: ``segmentation.load_served_model``) and
its evidence (segment records, profiles, feature means, the k evidence: small JSON documents written at publish
time, see ``segmentation.publishing``) and a fixed-size sample of ``segment_members``; never a table that grows
with the bank:

- a filter is answered from the worker's uniform sample of the published rows (:mod:`segment_sample`: the
  :data:`~dashapp.services.segment_sample.SAMPLE_CUSTOMERS` rows of lowest ``sample_rank``, read once per
  version): exact when the bank is no larger, otherwise counts and revenue are the sample's, scaled, and the page
  says "about";
- the whole base, or whole segments (a filter of segments only), come from the evidence (exact); only their scatter
  comes from the sample;
- the export is a query (exact, streamed).

A risk-band filter is the one query of a view (the sample's customers in those bands, cached per band choice).

Filters arrive as plain values from the page's inputs (validated by :meth:`SegmentFilter.from_inputs`); per-user
state lives in the browser.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import risk
from bankdata import (
    DatabaseError,
    append_audit,
    get_settings,
    neutralise_formulas,  # exports are made safe for spreadsheets in one place
    query,
    query_records,
    read_evidence,
    set_segment_name,
)
from bankdata import segment_names as stored_segment_names
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import audit, ids, segment_sample, validation
from dashapp.services import risk as risk_service
from dashapp.services.served import NotPublished, load_served, served_version
from segmentation import (
    MEMBERS_TABLE,
    MODEL_NAME,
    Segmentation,
    distinctive_words,
    load_served_model,
    mask_products,
)

log = logging.getLogger(__name__)
SCATTER_POINTS = 2_000
"""Most points the PCA scatter draws (the lowest sample ranks of the filtered customers)."""
EXPORT_MAX_ROWS = 50_000
"""Most customers one CSV download holds (:func:`export_frame`); :func:`export_chunks` streams any number."""
EXPORT_CHUNK_ROWS = 10_000
DEFAULT_BOX_FEATURE = "monetary"
PROFILE_FEATURES = ("age", "income", "monetary", "frequency", "recency_days", "n_products")
EXPORT_ID_COLUMNS = ("customer_id", "segment", "segment_name")
EXCLUDE_INELIGIBLE = "exclude-ineligible"
"""The risk filter's value that leaves out customers not eligible for credit offers (every role may use it)."""
_M = MEMBERS_TABLE


class ExportTooLarge(ValueError):
    """More customers match than one download may hold (:data:`EXPORT_MAX_ROWS`)."""


@dataclass(frozen=True)
class SegmentFilter:
    """What the user picked; ``None`` (or an empty list) means "no restriction"."""

    segments: tuple[int, ...] = ()
    age: tuple[float, float] | None = None
    income: tuple[float, float] | None = None
    regions: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    risk_bands: tuple[str, ...] = ()
    exclude_ineligible: bool = False  # leave out customers not eligible for credit offers (the blocked bands)

    @classmethod
    def from_inputs(
        cls,
        segments: Any = None,
        age: Any = None,
        income: Any = None,
        regions: Any = None,
        products: Any = None,
        risk: Any = None,
        *,
        role: str | None = None,
    ) -> SegmentFilter:
        """Build a filter from the page's input values (dropdown lists and range-slider pairs), as ``role`` may.

        ``risk`` lists risk bands to keep, or :data:`EXCLUDE_INELIGIBLE` to leave out the customers who may not be
        offered credit. Keeping customers *by* band needs ``Capability.SELECT_BY_RISK_BAND``.

        Raises
        ------
        InputError
            A value of the wrong type or shape, naming the filter.
        PermissionError
            ``role`` may not select customers by risk band.
        """
        segs = tuple(
            validation.whole_number(s, "segment filter", lo=0, hi=10_000)
            for s in validation.items(segments, "segment filter")
        )
        picked = [
            validation.text(r, "risk filter", max_len=40) for r in validation.items(risk, "risk filter")
        ]
        bands = tuple(b for b in picked if b != EXCLUDE_INELIGIBLE)
        if bands and not policy.may(role, Capability.SELECT_BY_RISK_BAND):
            raise PermissionError(
                f"role {role!r} may not select customers by risk band; it may only leave out "
                "customers who are not eligible for credit offers"
            )
        return cls(
            segs,
            validation.number_range(age, "age filter"),
            validation.number_range(income, "income filter"),
            tuple(
                validation.text(r, "region filter", max_len=200)
                for r in validation.items(regions, "region filter")
            ),
            tuple(
                validation.text(p, "product filter", max_len=200)
                for p in validation.items(products, "product filter")
            ),
            bands,
            EXCLUDE_INELIGIBLE in picked,
        )

    def describe(self) -> dict[str, Any]:
        """The filter as plain data (for the audit log)."""
        return {
            "segments": list(self.segments),
            "age": self.age,
            "income": self.income,
            "regions": list(self.regions),
            "products": list(self.products),
            "risk_bands": list(self.risk_bands),
            "exclude_ineligible": self.exclude_ineligible,
        }

    @property
    def is_empty(self) -> bool:
        """No restriction at all (the whole base)."""
        return self == SegmentFilter()


@dataclass(frozen=True)
class FilterOptions:
    """Choices and bounds for the page's filter inputs."""

    segments: list[dict[str, Any]]  # label/value for the dropdown
    age: tuple[float, float] | None
    income: tuple[float, float] | None
    regions: list[str]
    products: list[str]
    risk_bands: list[str] | None  # None: no risk model, the filter is hidden
    box_features: list[str]


@dataclass(frozen=True)
class SegmentView:
    """Everything the page draws for one filter (small frames only)."""

    n_customers: int
    n_total: int
    sample: pd.DataFrame  # customer_id, segment, pc1, pc2 (at most SCATTER_POINTS rows)
    sizes: pd.DataFrame  # segment, name, customers, total, revenue
    z_means: (
        pd.DataFrame
    )  # segment name x feature: z-score of the filtered segment mean against the whole base
    boxes: pd.DataFrame  # segment, name, q1, median, q3, lower, upper, mean
    box_feature: str
    cards: (
        pd.DataFrame
    )  # segment, name, customers, share, revenue_share, distinctive, medians of PROFILE_FEATURES
    names: dict[int, str] = field(default_factory=dict)
    explained: list[float] = field(default_factory=list)  # PCA explained variance ratio of PC1, PC2
    sample_rows: int = 0  # customers the medians and quartiles come from (n_customers when not sampled)
    estimated: bool = False  # counts, revenue and means are estimated from the sample (large banks)

    @property
    def sampled(self) -> bool:
        """Means, medians and boxes come from a random sample of the matching customers, not all of them."""
        return self.sample_rows < self.n_customers


@dataclass(frozen=True)
class Published:
    """The served segmentation's evidence (small documents written at publish time)."""

    version: str
    segments: pd.DataFrame  # segment, name (automatic), size, share, revenue, revenue_share, distinctive
    profiles: pd.DataFrame  # segment, feature, mean, median, base_mean, base_median, z
    boxes: pd.DataFrame  # segment, feature, q1, median, q3, min, max, mean (all customers)
    features: pd.DataFrame  # index feature name: column, base_mean, base_std
    selection: dict[str, Any]
    bounds: dict[str, Any]
    products: list[str]
    explained: list[float]
    metrics: dict[str, Any]
    n_customers: int
    attributes: list[str]

    @property
    def stable_ari(self) -> float | None:
        """The bootstrap ARI at which a k counted as stable; versions published before it was stored give it in
        their rule's words ("stability (ARI) >= 0.75"), and ``None`` when neither says."""
        value = self.selection.get("stable_ari")
        if value is None:
            found = re.search(r"ARI\)\s*>=\s*([0-9]*\.?[0-9]+)", str(self.selection.get("rule", "")))
            value = found.group(1) if found else None
        return None if value is None else float(value)

    @property
    def feature_names(self) -> list[str]:
        """The features the page shows, in the model's order."""
        return list(self.features.index)

    def column(self, feature: str) -> sa.ColumnElement:
        """The column of ``segment_members`` holding ``feature``."""
        return _M.c[str(self.features.at[feature, "column"])]


# --- the served version ------------------------------------------------------------------------------------------


def get_segmentation() -> Segmentation:
    """The served segmentation's model (no customers: see ``segmentation.load_served_model``), once per worker.

    Raises
    ------
    NotTrained
        No ``segments`` version, or its artifact fails verification.
    """
    return load_served(MODEL_NAME, load_served_model)


def _url() -> str:
    return get_settings().database_url


@functools.lru_cache(maxsize=4)
def _published(version: str, url: str) -> Published:
    def doc(kind: str) -> Any:
        return read_evidence(MODEL_NAME, version, kind, url)

    model = doc("model")
    if model is None:
        raise NotPublished(MODEL_NAME, version, "its members")
    features = pd.DataFrame(doc("features")).set_index("name")
    features["base_std"] = pd.to_numeric(features["base_std"], errors="coerce")
    return Published(
        version=version,
        segments=pd.DataFrame(doc("segments")),
        profiles=pd.DataFrame(doc("profiles")),
        boxes=pd.DataFrame(doc("boxes")),
        features=features,
        selection=doc("selection") or {},
        bounds=doc("bounds") or {},
        products=list(doc("products") or []),
        explained=[float(v) for v in model["explained_variance_ratio"]],
        metrics=dict(model.get("metrics", {})),
        n_customers=int(model["n_customers"]),
        attributes=list(model.get("attributes", [])),
    )


def published() -> Published:
    """The served version's evidence (read once per worker and version).

    Raises
    ------
    NotTrained
        No served version, its artifact fails verification, or it was never published.
    DatabaseError
        The database does not answer.
    """
    get_segmentation()  # verifies the served artifact (cached)
    return _published(served_version(MODEL_NAME), _url())


def segment_names() -> dict[int, str]:
    """Segment names: the names users gave (database) over the automatic ones."""
    pub = published()
    names = {int(s): str(n) for s, n in zip(pub.segments["segment"], pub.segments["name"], strict=True)}
    try:
        stored = stored_segment_names(pub.version)
    except DatabaseError as exc:  # the page still works with the automatic names
        log.warning("segment names: database unavailable, using automatic names (%s)", exc)
        stored = {}
    return {s: stored.get(s, n) for s, n in names.items()}


def rename_segment(segment: int, name: str, user: str) -> dict[int, str]:
    """Store a user's name for a segment; returns the names after the change.

    Raises
    ------
    InputError
        Not a segment of the served model, or a name that is empty or longer than 60 characters.
    """
    pub = published()
    known = pub.segments["segment"].astype(int).tolist()
    segment = validation.choice(
        validation.whole_number(segment, "segment", lo=0, hi=10_000), "segment", known
    )
    name = validation.text(name, "segment name", max_len=200, default="").strip()
    if not name or len(name) > 60:
        raise validation.InputError("segment name", "needs 1 to 60 characters")
    try:
        set_segment_name(pub.version, int(segment), name, user)
    except DatabaseError as exc:
        raise ValueError(f"the name was not saved: the database does not answer ({exc})") from exc
    append_audit(user, "rename_segment", f"segments/{pub.version}/{int(segment)}", name)
    return segment_names()


def risk_band_options() -> list[str] | None:
    """The risk bands the filter offers (the risk master scale), or None while no risk model is served."""
    return None if risk_service.customers_in_bands(list(risk.BANDS)) is None else list(risk.BANDS)


def filter_options() -> FilterOptions:
    """The filter choices of the served segmentation (and risk bands when a risk model is served)."""
    pub, names = published(), segment_names()

    def bounds(col: str) -> tuple[float, float] | None:
        span = pub.bounds.get(col)
        return None if span is None else (float(span[0]), float(span[1]))

    return FilterOptions(
        segments=[{"label": f"{s}: {n}", "value": s} for s, n in names.items()],
        age=bounds("age"),
        income=bounds("income"),
        regions=list(pub.bounds.get("regions", [])),
        products=list(pub.products),
        risk_bands=risk_band_options(),
        box_features=pub.feature_names,
    )


# --- filtering ---------------------------------------------------------------------------------------------------


def _risk_subquery(bands: list[str]) -> sa.Select:
    sub = risk_service.customers_in_bands(bands)
    if sub is None:
        raise ValueError("the risk filter needs a trained risk model (ledgerlight risk train)")
    return sub


def _where(pub: Published, flt: SegmentFilter, *, use_index: bool = True) -> list[sa.ColumnElement]:
    """The SQL conditions of ``flt`` on ``segment_members`` (values bound as parameters, checked against the
    served version's choices). ``use_index=False`` hides the age, income and region columns from the query
    planner (``coalesce(c, c)``), so a sample query walks the ``sample_rank`` index and stops early instead of
    sorting every matching row."""

    def column(name: str) -> sa.ColumnElement:
        return _M.c[name] if use_index else sa.func.coalesce(_M.c[name], _M.c[name])

    conds: list[sa.ColumnElement] = [_M.c.model_version == pub.version]
    if flt.segments:
        conds.append(_M.c.segment.in_([int(s) for s in flt.segments]))
    for col, rng in (("age", flt.age), ("income", flt.income)):
        if rng is not None and pub.bounds.get(col) is not None:
            conds.append(column(col).between(float(rng[0]), float(rng[1])))
    if flt.regions and pub.bounds.get("regions"):
        unknown = sorted(set(flt.regions) - set(pub.bounds["regions"]))
        if unknown:
            raise validation.InputError("region filter", f"unknown region(s): {', '.join(unknown[:5])}")
        conds.append(column("region").in_(list(flt.regions)))
    if flt.products:
        unknown = [p for p in flt.products if p not in pub.products]
        if unknown:
            raise validation.InputError(
                "product filter", f"unknown product(s) in the filter: {', '.join(unknown[:5])}"
            )
        mask = sum(1 << pub.products.index(p) for p in set(flt.products))
        conds.append(_M.c.products_mask.op("&")(sa.literal(mask, sa.BigInteger)) != 0)
    if flt.risk_bands:
        unknown = sorted(set(flt.risk_bands) - set(risk.BANDS))
        if unknown:
            raise validation.InputError("risk filter", f"unknown band(s): {', '.join(unknown[:5])}")
        conds.append(_M.c.customer_id.in_(_risk_subquery(list(flt.risk_bands))))
    if flt.exclude_ineligible:
        blocked = [b for b in get_settings().credit_blocked_bands if b in risk.BANDS]
        sub = _risk_subquery(blocked or list(risk.BANDS))
        if blocked:
            conds.append(_M.c.customer_id.not_in(sub))
    return conds


def _effective(pub: Published, flt: SegmentFilter) -> SegmentFilter:
    """``flt`` without an age or income range that spans the served version's whole range (a slider left at its
    ends): no restriction, so the view is the exact one of the whole base rather than a filter of everybody."""

    def spans(col: str, rng: tuple[float, float] | None) -> bool:
        bounds = pub.bounds.get(col)
        return (
            rng is not None
            and bounds is not None
            and rng[0] <= float(bounds[0])
            and rng[1] >= float(bounds[1])
        )

    return replace(
        flt,
        age=None if spans("age", flt.age) else flt.age,
        income=None if spans("income", flt.income) else flt.income,
    )


def _feature(pub: Published, feature: str) -> str:
    if feature not in pub.features.index:
        raise validation.InputError("boxplot feature", f"unknown feature {feature!r} for the boxplots")
    return feature


def _profile_features(pub: Published) -> list[str]:
    return [c for c in PROFILE_FEATURES if c in pub.features.index]


@dataclass(frozen=True)
class _Stats:
    """The numbers of one filter before names are applied."""

    agg: pd.DataFrame  # index segment: customers, revenue, the mean of every feature (exact)
    boxes: pd.DataFrame  # index segment: q1, median, q3, min, max of the box feature
    medians: pd.DataFrame  # index segment: medians of PROFILE_FEATURES
    scatter: pd.DataFrame  # customer_id, segment, pc1, pc2
    sample_rows: int
    estimated: bool = False


def member_sample() -> segment_sample.MemberSample:
    """The served version's uniform sample (:mod:`dashapp.services.segment_sample`), read once per worker."""
    pub = published()
    columns = tuple((f, str(pub.features.at[f, "column"])) for f in pub.feature_names)
    return segment_sample.cached_sample(
        pub.version, pub.n_customers, columns, _url(), segment_sample.SAMPLE_CUSTOMERS
    )


def _mask(pub: Published, sample: segment_sample.MemberSample, flt: SegmentFilter) -> np.ndarray:
    """The sample's rows that match ``flt`` (values checked by :func:`_where` first, exactly as for a query)."""
    _where(
        pub, flt
    )  # refuses unknown regions, products and bands; needs a served risk model for a risk filter
    keep = np.ones(sample.size, dtype=bool)
    if flt.segments:
        keep &= np.isin(sample.segment, [int(s) for s in flt.segments])
    for col, rng in (("age", flt.age), ("income", flt.income)):
        if rng is not None and pub.bounds.get(col) is not None:
            values = sample.feature(col)
            keep &= (values >= float(rng[0])) & (values <= float(rng[1]))
    if flt.regions and pub.bounds.get("regions"):
        keep &= np.isin(sample.region, list(flt.regions))
    if flt.products:
        mask = sum(1 << pub.products.index(p) for p in set(flt.products))
        keep &= (sample.products_mask & mask) != 0
    if flt.risk_bands:
        keep &= segment_sample.ranks_in(sample, _risk_subquery(list(flt.risk_bands)), _url())
    if flt.exclude_ineligible:
        blocked = [b for b in get_settings().credit_blocked_bands if b in risk.BANDS]
        if blocked:
            keep &= ~segment_sample.ranks_in(sample, _risk_subquery(blocked), _url())
    return keep


def _scatter(sample: segment_sample.MemberSample, rows: np.ndarray) -> pd.DataFrame:
    """The first :data:`SCATTER_POINTS` of the matching sample rows (lowest sample ranks)."""
    pick = rows[:SCATTER_POINTS]
    return pd.DataFrame(
        {
            "customer_id": sample.customer_id[pick],
            "segment": sample.segment[pick],
            "pc1": sample.pcs[pick, 0],
            "pc2": sample.pcs[pick, 1],
        }
    )


@functools.lru_cache(maxsize=64)
def _evidence_parts(
    version: str, url: str, segments: tuple[int, ...], box_feature: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Counts, revenue and means; boxes; medians of whole segments, from the evidence (once per worker and
    choice: a handful of segments and features)."""
    pub = _published(version, url)
    keep = list(segments) if segments else pub.segments["segment"].tolist()
    seg = pub.segments.set_index("segment").reindex(keep).dropna(subset=["size"])
    means = pub.profiles.pivot(index="segment", columns="feature", values="mean").reindex(
        columns=pub.feature_names
    )
    box = pub.boxes[pub.boxes["feature"] == box_feature].set_index("segment").reindex(seg.index)
    agg = pd.DataFrame(
        {"customers": seg["size"].astype(np.int64), "revenue": seg["revenue"].astype(np.float64)}
    ).join(means)
    medians = pub.profiles.pivot(index="segment", columns="feature", values="median").reindex(seg.index)
    return agg, box[["q1", "median", "q3", "min", "max"]], medians[_profile_features(pub)]


def _evidence_stats(pub: Published, flt: SegmentFilter, box_feature: str) -> _Stats:
    """The whole base or whole segments (a filter of segments only), exact from the evidence; the scatter from
    the sample."""
    agg, boxes, medians = _evidence_parts(
        pub.version, _url(), tuple(int(s) for s in flt.segments), box_feature
    )
    sample = member_sample()
    rows = np.flatnonzero(_mask(pub, sample, flt))
    return _Stats(
        agg=agg,
        boxes=boxes,
        medians=medians,
        scatter=_scatter(sample, rows),
        sample_rows=int(agg["customers"].sum()),
    )


def _filtered_stats(pub: Published, flt: SegmentFilter, box_feature: str) -> _Stats:
    """One filter's numbers from the matching rows of the worker's uniform sample (no query but a risk band's):
    exact when the sample is the whole bank; above, counts and revenue are the sample's scaled by
    ``n_customers / sample size`` and means, medians and quartiles are the sample's."""
    sample = member_sample()
    rows = np.flatnonzero(_mask(pub, sample, flt))
    names = list(sample.feature_names)
    profile = _profile_features(pub)
    box, prof = names.index(box_feature), [names.index(f) for f in profile]
    money = names.index("monetary") if "monetary" in names else None
    segments = np.unique(sample.segment[rows])
    order = rows[np.argsort(sample.segment[rows], kind="stable")]
    bounds = np.searchsorted(sample.segment[order], segments, side="left").tolist() + [len(order)]
    means, medians, quarts, counts, revenue = [], [], [], [], []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        block = sample.matrix[order[a:b]]
        means.append(block.mean(axis=0))
        medians.append(np.median(block[:, prof], axis=0) if prof else np.zeros(0))
        values = block[:, box]
        quarts.append([*np.quantile(values, [0.25, 0.5, 0.75]), values.min(), values.max()])
        counts.append(b - a)
        revenue.append(float(block[:, money].sum()) if money is not None else 0.0)
    index = pd.Index(segments.astype(np.int64), name="segment")
    agg = pd.DataFrame(
        {
            "customers": np.rint(np.asarray(counts, dtype=np.float64) * sample.scale).astype(np.int64),
            "revenue": np.asarray(revenue, dtype=np.float64) * sample.scale,
        },
        index=index,
    )
    agg = agg.join(
        pd.DataFrame(np.asarray(means).reshape(len(index), len(names)), index=index, columns=names)
    )
    boxes = pd.DataFrame(
        np.asarray(quarts).reshape(len(index), 5), index=index, columns=["q1", "median", "q3", "min", "max"]
    )
    return _Stats(
        agg=agg,
        boxes=boxes,
        medians=pd.DataFrame(
            np.asarray(medians).reshape(len(index), len(prof)), index=index, columns=profile
        ),
        scatter=_scatter(sample, rows),
        sample_rows=len(rows),
        estimated=not sample.exact,
    )


def segment_view(flt: SegmentFilter, box_feature: str = DEFAULT_BOX_FEATURE) -> SegmentView:
    """Everything the page shows for a filter: scatter sample, sizes, mean heat map, boxes and cards.

    Raises
    ------
    InputError
        An unknown box feature, product or region.
    ValueError
        A risk filter while no risk model is served.
    NotTrained
        No served, published segmentation.
    """
    pub = published()
    flt = _effective(pub, flt)
    box_feature = _feature(pub, box_feature)
    names = segment_names()
    by_evidence = flt == SegmentFilter(segments=flt.segments)  # the whole base, or whole segments
    stats = (_evidence_stats if by_evidence else _filtered_stats)(pub, flt, box_feature)
    agg = stats.agg[stats.agg["customers"] > 0]
    n = int(agg["customers"].sum())
    order = [s for s in names if s in agg.index]

    totals = pub.segments.set_index("segment")["size"]
    sizes = pd.DataFrame({"segment": list(names)})
    sizes["name"] = sizes["segment"].map(names)
    sizes["customers"] = sizes["segment"].map(agg["customers"]).fillna(0).astype(int)
    sizes["total"] = sizes["segment"].map(totals).fillna(0).astype(int)
    sizes["revenue"] = sizes["segment"].map(agg["revenue"]).fillna(0.0)

    features = pub.feature_names
    means = agg.reindex(order)[features]
    z_means = ((means - pub.features["base_mean"]) / pub.features["base_std"]).fillna(0.0)
    z_means.index = [names[s] for s in z_means.index]

    quart = stats.boxes.reindex(order)
    q1, q3 = quart["q1"].to_numpy(dtype=np.float64), quart["q3"].to_numpy(dtype=np.float64)
    part = agg.reindex(order)
    boxes = pd.DataFrame(
        {
            "segment": order,
            "name": [names[s] for s in order],
            "q1": q1,
            "median": quart["median"].to_numpy(dtype=np.float64),
            "q3": q3,
            "mean": part[box_feature].to_numpy(dtype=np.float64),
            "lower": np.maximum(quart["min"].to_numpy(dtype=np.float64), q1 - 1.5 * (q3 - q1)),
            "upper": np.minimum(quart["max"].to_numpy(dtype=np.float64), q3 + 1.5 * (q3 - q1)),
        }
    )

    cards = sizes[sizes["customers"] > 0][["segment", "name", "customers"]].copy()
    cards["share"] = cards["customers"] / max(n, 1)
    total_revenue = float(sizes["revenue"].sum())
    cards["revenue_share"] = (
        cards["segment"].map(sizes.set_index("segment")["revenue"]) / total_revenue if total_revenue else 0.0
    )
    cards["distinctive"] = cards["segment"].map(
        pub.segments.set_index("segment")["distinctive"].astype(str).map(distinctive_words)
    )
    cards = cards.merge(stats.medians, left_on="segment", right_index=True, how="left")
    scatter = ids.show(
        stats.scatter.sort_values("customer_id").reset_index(drop=True), "customer_id", "customer"
    )
    return SegmentView(
        n_customers=n,
        n_total=pub.n_customers,
        sample=scatter,
        sizes=sizes,
        z_means=z_means,
        boxes=boxes,
        box_feature=box_feature,
        cards=cards.reset_index(drop=True),
        names=names,
        explained=list(pub.explained),
        sample_rows=min(stats.sample_rows, n),
        estimated=stats.estimated,
    )


# --- one customer ------------------------------------------------------------------------------------------------


def customer_segment(customer_id: int) -> dict[str, Any] | None:
    """The segment card of one customer: segment, name, customers, share, revenue_share, distinctive and the segment's
    medians of :data:`PROFILE_FEATURES` (evidence of the whole base); None when the customer is not in the served
    segmentation. One indexed look-up.

    Raises
    ------
    NotTrained
        No served, published segmentation.
    """
    pub = published()
    stmt = (
        sa.select(_M.c.segment)
        .where(_M.c.model_version == pub.version, _M.c.customer_id == int(customer_id))
        .limit(1)
    )
    hit = query_records(stmt, _url())
    if not hit:
        return None
    segment = int(hit[0]["segment"])
    card = dict(_segment_cards(pub.version, _url())[segment])
    card["name"] = segment_names().get(segment, card["name"])
    return card


def top_customers(limit: int = 5) -> list[dict[str, Any]]:
    """The ``limit`` customers with the highest income in the served segmentation: customer_id (internal), segment
    (its name), income, balance; the members' (model_version, income, ...) index read from its high end, so the
    query reads ``limit`` rows whatever the bank's size.

    Raises
    ------
    NotTrained
        No served, published segmentation.
    """
    pub = published()
    stmt = (
        sa.select(_M.c.customer_id, _M.c.segment, _M.c.income, _M.c.balance)
        .where(_M.c.model_version == pub.version, _M.c.income.is_not(None))
        .order_by(_M.c.income.desc())
        .limit(int(limit))
    )
    names = segment_names()
    return [
        {
            **r,
            "customer_id": int(r["customer_id"]),
            "segment": names.get(int(r["segment"]), str(r["segment"])),
        }
        for r in query_records(stmt, _url())
    ]


@functools.lru_cache(maxsize=4)
def _segment_cards(version: str, url: str) -> dict[int, dict[str, Any]]:
    """Each segment's card from the evidence of ``version`` (automatic names), built once per worker."""
    pub = _published(version, url)
    cards = {}
    for rec in pub.segments.to_dict("records"):
        segment = int(rec["segment"])
        medians = pub.profiles[
            (pub.profiles["segment"] == segment) & pub.profiles["feature"].isin(PROFILE_FEATURES)
        ]
        values = dict(zip(medians["feature"], medians["median"].astype(float), strict=True))
        cards[segment] = {
            "segment": segment,
            "name": str(rec["name"]),
            "customers": int(rec["size"]),
            "share": float(rec["share"]),
            "revenue_share": float(rec["revenue_share"]),
            "distinctive": distinctive_words(str(rec["distinctive"])),
            **{f: values[f] for f in PROFILE_FEATURES if f in values},
        }
    return cards


# --- export ------------------------------------------------------------------------------------------------------


def count_matching(flt: SegmentFilter) -> int:
    """How many customers of the served segmentation match ``flt`` (one ``COUNT``)."""
    pub = published()
    flt = _effective(pub, flt)
    if flt.is_empty:
        return pub.n_customers
    return int(
        query(sa.select(sa.func.count().label("n")).select_from(_M).where(*_where(pub, flt)), _url())[
            "n"
        ].iloc[0]
    )


def export_chunks(
    flt: SegmentFilter, role: str | None = None, *, chunk_rows: int = EXPORT_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The filtered customers for a CSV, ``chunk_rows`` at a time in customer_id order (keyset paging: one indexed
    query per chunk, nothing bank-sized held): customer_id (the bank's id), segment, segment_name, the features, then the attributes
    (region, gender, employment, products). Columns ``role`` may not receive are dropped; text is formula-neutralised.
    Not audited (the caller audits what it sent).
    """
    pub = published()
    conds = _where(pub, _effective(pub, flt))
    names = segment_names()
    attrs = [a for a in pub.attributes if a in ("region", "gender", "employment")]
    cols = [
        _M.c.customer_id,
        _M.c.segment,
        *(pub.column(f).label(f) for f in pub.feature_names),
        *(_M.c[a] for a in attrs),
    ]
    with_products = "products" in pub.attributes
    if with_products:
        cols.append(_M.c.products_mask)
    last: int | None = None
    while True:
        page = conds if last is None else [*conds, _M.c.customer_id > last]
        frame = query(sa.select(*cols).where(*page).order_by(_M.c.customer_id).limit(int(chunk_rows)), _url())
        if frame.empty:
            return
        last = int(frame["customer_id"].iloc[-1])
        frame = ids.show(frame, "customer_id", "customer")  # the bank's ids (one indexed query a chunk)
        frame.insert(2, "segment_name", frame["segment"].map(names))
        if with_products:
            frame["products"] = [mask_products(m, pub.products) for m in frame.pop("products_mask")]
        yield neutralise_formulas(policy.redact(frame, role))
        if len(frame) < chunk_rows:
            return


def export_frame(flt: SegmentFilter, role: str | None = None) -> pd.DataFrame:
    """The filtered customer list for the CSV download (see :func:`export_chunks`), at most
    :data:`EXPORT_MAX_ROWS` customers; audited with the filter and the number of rows.

    Raises
    ------
    ExportTooLarge
        More customers match than one download may hold (narrow the filters).
    """
    n = count_matching(flt)
    if n > EXPORT_MAX_ROWS:
        raise ExportTooLarge(
            f"{n:,} customers match; a download holds at most {EXPORT_MAX_ROWS:,}: narrow the filters "
            "(for example pick segments or regions)"
        )
    parts = list(export_chunks(flt, role))
    out = pd.concat(parts, ignore_index=True) if parts else _empty_export(role)
    audit.served(
        "export_segments", f"segment list {list(flt.segments)}", {**flt.describe(), "rows": len(out)}
    )
    return out


def _empty_export(role: str | None) -> pd.DataFrame:
    pub = published()
    columns = [
        *EXPORT_ID_COLUMNS,
        *pub.feature_names,
        *(a for a in pub.attributes if a in ("region", "gender", "employment", "products")),
    ]
    return policy.redact(pd.DataFrame(columns=columns), role)
