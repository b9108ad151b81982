"""Segments page data: the trained segmentation (loaded once per worker), filtering, the view and the export.

Everything here is computed from the ``segments`` artifact (assignments, PCA coordinates, features and attributes
are stored there), so a request never trains or recomputes the clustering. Filters arrive as plain values from the
page's inputs; per-user state lives in the browser.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankdata import ArtifactError, ArtifactStore, DatabaseError, append_audit, get_settings, set_segment_name
from bankdata import segment_names as stored_segment_names
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import audit, validation
from segmentation import MODEL_NAME, Segmentation, load_segmentation

log = logging.getLogger(__name__)
SCATTER_POINTS = 4_000
"""Most points the PCA scatter draws (a stable random sample of the filtered customers)."""
DEFAULT_BOX_FEATURE = "monetary"
PROFILE_FEATURES = ("age", "income", "monetary", "frequency", "recency_days", "n_products")
EXPORT_ID_COLUMNS = ("customer_id", "segment", "segment_name")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXCLUDE_INELIGIBLE = "exclude-ineligible"
"""The risk filter's value that leaves out customers not eligible for credit offers (every role may use it)."""


class SegmentsNotTrained(RuntimeError):
    """No ``segments`` artifact yet (run ``ledgerlight segments train``) or it cannot be read."""


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
        segs = tuple(validation.whole_number(s, "segment filter", lo=0, hi=10_000)
                     for s in validation.items(segments, "segment filter"))
        picked = [validation.text(r, "risk filter", max_len=40) for r in validation.items(risk, "risk filter")]
        bands = tuple(b for b in picked if b != EXCLUDE_INELIGIBLE)
        if bands and not policy.may(role, Capability.SELECT_BY_RISK_BAND):
            raise PermissionError(f"role {role!r} may not select customers by risk band; it may only leave out "
                                  "customers who are not eligible for credit offers")
        return cls(segs, validation.number_range(age, "age filter"), validation.number_range(income, "income filter"),
                   tuple(validation.text(r, "region filter", max_len=200) for r in validation.items(regions, "region filter")),
                   tuple(validation.text(p, "product filter", max_len=200)
                         for p in validation.items(products, "product filter")),
                   bands, EXCLUDE_INELIGIBLE in picked)

    def describe(self) -> dict[str, Any]:
        """The filter as plain data (for the audit log)."""
        return {"segments": list(self.segments), "age": self.age, "income": self.income, "regions": list(self.regions),
                "products": list(self.products), "risk_bands": list(self.risk_bands),
                "exclude_ineligible": self.exclude_ineligible}


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
    z_means: pd.DataFrame  # segment name x feature: z-score of the filtered segment mean against the whole base
    boxes: pd.DataFrame  # segment, name, q1, median, q3, lower, upper, mean
    box_feature: str
    cards: pd.DataFrame  # segment, name, customers, share, revenue_share, distinctive, medians of PROFILE_FEATURES
    names: dict[int, str] = field(default_factory=dict)
    explained: list[float] = field(default_factory=list)  # PCA explained variance ratio of PC1, PC2


# --- loading (once per worker) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    seg: Segmentation
    table: pd.DataFrame  # customers of the artifact, one row each
    numeric: pd.DataFrame  # the same rows, numbers only (customer_id, segment, pc1, pc2, features): cheap to filter
    totals: pd.Series  # customers per segment
    products: np.ndarray  # bool (customers x product names)
    product_names: list[str]
    base_mean: pd.Series
    base_std: pd.Series
    sample_rank: np.ndarray  # a fixed random rank per customer: the scatter draws the lowest ranks


def get_segmentation() -> Segmentation:
    """The latest trained segmentation.

    Raises
    ------
    SegmentsNotTrained
        When there is no ``segments`` artifact or it fails verification.
    """
    return _loaded().seg


def _loaded() -> _Loaded:
    root = str(get_settings().checkpoints_dir)
    version = ArtifactStore(root).latest(MODEL_NAME)
    if version is None:
        raise SegmentsNotTrained("no segments have been trained yet")
    return _load(root, version)


@functools.cache
def _load(root: str, version: str) -> _Loaded:
    try:
        seg = load_segmentation(ArtifactStore(root).load(MODEL_NAME, version=version))
    except ArtifactError as exc:
        raise SegmentsNotTrained(str(exc)) from exc
    table = seg.customers.reset_index(drop=True)
    held = table["products"].fillna("") if "products" in table.columns else pd.Series("", index=table.index)
    dummies = held.str.get_dummies(sep=";").drop(columns=[""], errors="ignore")
    features = table[seg.feature_names]
    rank = np.random.default_rng(0).permutation(len(table))
    numeric = table[["customer_id", "segment", "pc1", "pc2", *seg.feature_names]]
    return _Loaded(seg=seg, table=table, numeric=numeric, totals=table.groupby("segment").size(), products=dummies.to_numpy(dtype=bool), product_names=list(dummies.columns),
                   base_mean=features.mean(), base_std=features.std(ddof=0).replace(0.0, np.nan), sample_rank=rank)


def segment_names() -> dict[int, str]:
    """Segment names: the names users gave (database) over the automatic ones."""
    seg = get_segmentation()
    names = {int(s): str(n) for s, n in zip(seg.segments["segment"], seg.segments["name"], strict=True)}
    try:
        stored = stored_segment_names(seg.version)
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
    known = get_segmentation().segments["segment"].astype(int).tolist()
    segment = validation.choice(validation.whole_number(segment, "segment", lo=0, hi=10_000), "segment", known)
    name = validation.text(name, "segment name", max_len=200, default="").strip()
    if not name or len(name) > 60:
        raise validation.InputError("segment name", "needs 1 to 60 characters")
    try:
        set_segment_name(get_segmentation().version, int(segment), name, user)
    except DatabaseError as exc:
        raise ValueError(f"the name was not saved: the database does not answer ({exc})") from exc
    append_audit(user, "rename_segment", f"segments/{get_segmentation().version}/{int(segment)}", name)
    return segment_names()


def risk_bands() -> pd.DataFrame | None:
    """customer_id, pd, band from the risk service, or None while no risk model (or no risk service) exists."""
    if importlib.util.find_spec("dashapp.services.risk") is None:
        return None
    provider = getattr(importlib.import_module("dashapp.services.risk"), "customer_risk_bands", None)
    return provider() if provider is not None else None


def filter_options() -> FilterOptions:
    """The filter choices of the current segmentation (and risk bands when a risk model exists)."""
    loaded = _loaded()
    table, names = loaded.table, segment_names()

    def bounds(col: str) -> tuple[float, float] | None:
        if col not in table.columns:
            return None
        return float(np.floor(table[col].min())), float(np.ceil(table[col].max()))

    bands = risk_bands()
    return FilterOptions(
        segments=[{"label": f"{s}: {n}", "value": s} for s, n in names.items()],
        age=bounds("age"),
        income=bounds("income"),
        regions=sorted(table["region"].dropna().astype(str).unique()) if "region" in table.columns else [],
        products=loaded.product_names,
        risk_bands=None if bands is None else sorted(bands["band"].astype(str).unique()),
        box_features=list(loaded.seg.feature_names),
    )


# --- filtering ------------------------------------------------------------------------------------------------


def _mask(loaded: _Loaded, flt: SegmentFilter) -> np.ndarray:
    table = loaded.table
    mask = np.ones(len(table), dtype=bool)
    if flt.segments:
        mask &= np.isin(table["segment"].to_numpy(), flt.segments)
    for col, rng in (("age", flt.age), ("income", flt.income)):
        if rng is not None and col in table.columns:
            values = table[col].to_numpy()
            mask &= (values >= rng[0]) & (values <= rng[1])
    if flt.regions and "region" in table.columns:
        mask &= table["region"].isin(flt.regions).to_numpy()
    if flt.products:
        unknown = [p for p in flt.products if p not in loaded.product_names]
        if unknown:
            raise ValueError(f"unknown product(s) in the filter: {', '.join(unknown)}")
        cols = [loaded.product_names.index(p) for p in flt.products]
        mask &= loaded.products[:, cols].any(axis=1)
    if flt.risk_bands or flt.exclude_ineligible:
        bands = risk_bands()
        if bands is None:
            raise ValueError("the risk filter needs a trained risk model (ledgerlight risk train)")
        band = table["customer_id"].map(bands.set_index("customer_id")["band"].astype(str))
        if flt.risk_bands:
            mask &= band.isin(flt.risk_bands).to_numpy()
        if flt.exclude_ineligible:
            mask &= ~band.isin(get_settings().credit_blocked_bands).to_numpy()
    return mask


def filtered_customers(flt: SegmentFilter) -> pd.DataFrame:
    """The customers matching the filter (every column of the artifact's customer table)."""
    loaded = _loaded()
    return loaded.table[_mask(loaded, flt)]


def segment_view(flt: SegmentFilter, box_feature: str = DEFAULT_BOX_FEATURE) -> SegmentView:
    """Everything the page shows for a filter: scatter sample, sizes, mean heat map, boxes and cards."""
    loaded = _loaded()
    if box_feature not in loaded.seg.feature_names:
        raise ValueError(f"unknown feature {box_feature!r} for the boxplots")
    names = segment_names()
    mask = _mask(loaded, flt)
    part = loaded.numeric[mask]
    present = set(np.unique(part["segment"].to_numpy()).tolist())
    order = [s for s in names if s in present]
    pick = np.flatnonzero(mask)
    pick = pick[np.argsort(loaded.sample_rank[pick])[:SCATTER_POINTS]]
    sample = loaded.numeric.iloc[np.sort(pick)][["customer_id", "segment", "pc1", "pc2"]]

    grouped = part.groupby("segment")
    sizes = pd.DataFrame({"segment": list(names)})
    sizes["name"] = sizes["segment"].map(names)
    sizes["customers"] = sizes["segment"].map(grouped.size()).fillna(0).astype(int)
    sizes["total"] = sizes["segment"].map(loaded.totals).fillna(0).astype(int)
    revenue = grouped["monetary"].sum() if "monetary" in part.columns else pd.Series(dtype=float)
    sizes["revenue"] = sizes["segment"].map(revenue).fillna(0.0)

    features = loaded.seg.feature_names
    means = grouped[features].mean().reindex(order)
    z_means = ((means - loaded.base_mean) / loaded.base_std).fillna(0.0)
    z_means.index = [names[s] for s in z_means.index]

    levels = [0.25, 0.5, 0.75]
    quart = (grouped[box_feature].quantile(levels).unstack() if len(part) else pd.DataFrame(columns=levels))
    quart = quart.reindex(index=order, columns=levels)
    stats = grouped[box_feature].agg(["mean", "min", "max"]).reindex(order)
    q1, q3 = quart[0.25].to_numpy(), quart[0.75].to_numpy()
    boxes = pd.DataFrame({
        "segment": order, "name": [names[s] for s in order], "q1": q1, "median": quart[0.5].to_numpy(), "q3": q3,
        "mean": stats["mean"].to_numpy(), "lower": np.maximum(stats["min"].to_numpy(), q1 - 1.5 * (q3 - q1)),
        "upper": np.minimum(stats["max"].to_numpy(), q3 + 1.5 * (q3 - q1)),
    })

    cards = sizes[sizes["customers"] > 0][["segment", "name", "customers"]].copy()
    cards["share"] = cards["customers"] / max(len(part), 1)
    total_revenue = float(sizes["revenue"].sum())
    cards["revenue_share"] = cards["segment"].map(sizes.set_index("segment")["revenue"]) / total_revenue if total_revenue else 0.0
    cards["distinctive"] = cards["segment"].map(loaded.seg.segments.set_index("segment")["distinctive"])
    medians = grouped[[c for c in PROFILE_FEATURES if c in part.columns]].median()
    cards = cards.merge(medians, left_on="segment", right_index=True, how="left")
    return SegmentView(n_customers=int(mask.sum()), n_total=len(mask), sample=sample, sizes=sizes, z_means=z_means,
                       boxes=boxes, box_feature=box_feature, cards=cards.reset_index(drop=True), names=names,
                       explained=[float(v) for v in loaded.seg.model.explained_variance_ratio_])


# --- export ----------------------------------------------------------------------------------------------------


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells starting with = + - @ tab or CR, so a spreadsheet never runs them as formulas."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            text = out[col].astype("str")
            risky = text.str.startswith(_FORMULA_PREFIXES).fillna(False) & out[col].notna()
            out[col] = text.where(~risky, "'" + text).where(out[col].notna(), None)
    return out


def export_frame(flt: SegmentFilter, role: str | None = None) -> pd.DataFrame:
    """The full filtered customer list for the CSV download: ids, segment and name, attributes and features, without
    the columns ``role`` may not receive; audited with the filter and the number of rows."""
    loaded = _loaded()
    part = loaded.table[_mask(loaded, flt)].drop(columns=["pc1", "pc2"])
    names = segment_names()
    part.insert(2, "segment_name", part["segment"].map(names))
    out = neutralise_formulas(policy.redact(part.reset_index(drop=True), role))
    audit.served("export_segments", f"segment list {list(flt.segments)}", {**flt.describe(), "rows": len(out)})
    return out
