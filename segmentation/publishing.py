"""Publishing a trained segmentation: one row per customer in :data:`MEMBERS_TABLE` and small evidence documents,
so the app answers every Segments question with a query and never loads the per-customer files of the artifact.

The table has a fixed set of columns (a table cannot change shape with each model):

- ``customer_id``, ``segment``, ``pc1``, ``pc2``; ``sample_rank``, a fixed random rank (a permutation of 0..n-1)
  so "the lowest ranks of the filtered rows" is a stable random sample (rows are written in rank order, so that
  sample is read from the front of the table and the read stops early);
- the filter columns ``age``, ``income``, ``region`` and ``products_mask`` (bit *i* set when the customer holds
  product *i* of the catalogue stored in the ``products`` evidence, at most :data:`MAX_PRODUCTS` products), and the
  descriptive ``gender`` and ``employment`` for the export;
- the fixed features of ``segmentation.features.FEATURES`` under their own names (NULL when a segmentation lacks
  one, e.g. ``age`` without a profile);
- the pattern features (``spend_<category>``, ``channel_<channel>``, ``holds_<family>``), whose names depend on the
  data, in the slots ``pattern_00`` .. ``pattern_{PATTERN_SLOTS-1}``; the ``features`` evidence maps every
  feature name to its column. A segmentation with more pattern features than slots serves the first
  :data:`PATTERN_SLOTS` of them (the model still uses all).

Evidence (``bankdata.write_evidence("segments", version, ...)``), each a small JSON document:
``segments`` (one record per segment: size, share, revenue, revenue_share, distinctive, name), ``profiles`` (mean,
median, z per segment and feature), ``boxes`` (quartiles, min, max, mean per segment and feature: the unfiltered
view is exact without a query), ``features`` (name, column, base mean and standard deviation), ``selection`` (the
k-selection evidence: per k inertia, silhouette, Davies-Bouldin, stability, gap and gap_se; the chosen k, the
elbow, the rule, and ``stable_ari``, the stability threshold), ``bounds`` (age and income range, regions), ``products`` (the bitmask's catalogue) and
``model`` (explained variance of the PCA, metrics, customers, feature names, attribute columns).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import Artifact, Bank, served_table, write_evidence, write_served
from segmentation.artifact import MODEL_NAME, load_segmentation
from segmentation.features import FEATURES
from segmentation.selection import STABLE_ARI

log = logging.getLogger(__name__)

FIXED_FEATURES: tuple[str, ...] = tuple(FEATURES)
"""Features stored under their own name (every other feature goes into a pattern slot)."""
PATTERN_SLOTS = 40
"""Columns ``pattern_00`` .. for the data-dependent features (``spend_*``, ``channel_*``, ``holds_*``)."""
PATTERN_COLUMNS: tuple[str, ...] = tuple(f"pattern_{i:02d}" for i in range(PATTERN_SLOTS))
MAX_PRODUCTS = 63
"""Products the bitmask can hold (bits 0..62 of a signed 64-bit integer)."""
SAMPLE_SEED = 20_240_601
TEXT_ATTRIBUTES: tuple[str, ...] = ("region", "gender", "employment")

MEMBERS_TABLE = served_table(
    "segment_members",
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("segment", sa.Integer, nullable=False),
    sa.Column("pc1", sa.Float, nullable=False),
    sa.Column("pc2", sa.Float, nullable=False),
    sa.Column("sample_rank", sa.BigInteger, nullable=False),
    sa.Column("region", sa.String(200), nullable=True),
    sa.Column("gender", sa.String(200), nullable=True),
    sa.Column("employment", sa.String(200), nullable=True),
    sa.Column("products_mask", sa.BigInteger, nullable=False),
    *(sa.Column(name, sa.Float, nullable=True) for name in FIXED_FEATURES),
    *(sa.Column(name, sa.Float, nullable=True) for name in PATTERN_COLUMNS),
    # the count-and-revenue aggregate of an age, income or region filter is a range of a covering index
    indexes=[
        ("customer_id",),
        ("segment",),
        ("sample_rank",),
        ("age", "segment", "monetary"),
        ("income", "segment", "monetary"),
        ("region", "segment", "monetary"),
    ],
)
"""One row per customer per published segmentation version (see the module docstring)."""


def feature_columns(feature_names: list[str]) -> dict[str, str]:
    """Where each feature lives in :data:`MEMBERS_TABLE`: ``{feature name: column}`` (features beyond the pattern
    slots are left out)."""
    out: dict[str, str] = {}
    slots = iter(PATTERN_COLUMNS)
    for name in feature_names:
        if name in FIXED_FEATURES:
            out[name] = name
        else:
            slot = next(slots, None)
            if slot is None:
                continue
            out[name] = slot
    return out


def product_catalogue(held: pd.Series, bank: Bank | None = None) -> list[str]:
    """The products of the bitmask, bit order: the bank's products by id, then any other held name (sorted); at
    most :data:`MAX_PRODUCTS`."""
    names = sorted({p for text in held.dropna().astype(str) for p in text.split(";") if p})
    ordered: list[str] = []
    if bank is not None and bank.products is not None and "name" in bank.products.columns:
        ordered = [str(n) for n in bank.products.sort_values("product_id")["name"] if str(n) in set(names)]
    ordered += [n for n in names if n not in set(ordered)]
    if len(ordered) > MAX_PRODUCTS:
        log.warning(
            "segments: %d products held; the product filter offers the first %d", len(ordered), MAX_PRODUCTS
        )
    return ordered[:MAX_PRODUCTS]


def products_mask(held: pd.Series, catalogue: list[str]) -> np.ndarray:
    """The bitmask of each customer's ``";"``-joined product names (bit ``i`` = ``catalogue[i]``)."""
    mask = np.zeros(len(held), dtype=np.int64)
    parts = held.reset_index(drop=True).fillna("").astype(str).str.split(";").explode()
    bits = parts.map({name: bit for bit, name in enumerate(catalogue)}).dropna()
    if len(bits):
        np.bitwise_or.at(
            mask,
            bits.index.to_numpy(dtype=np.int64),
            np.left_shift(np.int64(1), bits.to_numpy(dtype=np.int64)),
        )
    return mask


def mask_products(mask: int, catalogue: list[str]) -> str:
    """The ``";"``-joined product names of one bitmask (the inverse of :func:`products_mask`)."""
    return ";".join(sorted(name for bit, name in enumerate(catalogue) if int(mask) >> bit & 1))


def members_frame(customers: pd.DataFrame, feature_names: list[str], catalogue: list[str]) -> pd.DataFrame:
    """The rows of :data:`MEMBERS_TABLE` for a segmentation's customer table (assignments, features, attributes)."""
    n = len(customers)
    columns = feature_columns(feature_names)
    out = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(dtype=np.int64),
            "segment": customers["segment"].to_numpy(dtype=np.int64),
            "pc1": customers["pc1"].to_numpy(dtype=np.float64),
            "pc2": customers["pc2"].to_numpy(dtype=np.float64),
            "sample_rank": np.random.default_rng(SAMPLE_SEED).permutation(n).astype(np.int64),
        }
    )
    for col in TEXT_ATTRIBUTES:
        values = customers[col] if col in customers.columns else pd.Series([None] * n, dtype=object)
        out[col] = values.astype(object).where(values.notna(), None).to_numpy()
    held = customers["products"] if "products" in customers.columns else pd.Series([""] * n)
    out["products_mask"] = products_mask(held, catalogue)
    for name in (*FIXED_FEATURES, *PATTERN_COLUMNS):
        out[name] = np.nan
    for feature, column in columns.items():
        out[column] = customers[feature].to_numpy(dtype=np.float64)
    # rows stored in sample-rank order: "the lowest ranks that match" then reads the table front to back and stops
    return out.sort_values("sample_rank", kind="stable").reset_index(drop=True)


def _bounds(customers: pd.DataFrame) -> dict[str, Any]:
    def span(col: str) -> list[float] | None:
        if col not in customers.columns or customers[col].isna().all():
            return None
        return [float(np.floor(customers[col].min())), float(np.ceil(customers[col].max()))]

    regions = (
        sorted(customers["region"].dropna().astype(str).unique().tolist())
        if "region" in customers.columns
        else []
    )
    return {"age": span("age"), "income": span("income"), "regions": regions}


def box_statistics(customers: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """segment, feature, q1, median, q3, min, max, mean of every feature per segment (the unfiltered boxplots)."""
    parts = []
    groups = customers.groupby("segment")
    for feature in features:
        g = groups[feature]
        quart = g.quantile([0.25, 0.5, 0.75]).unstack()
        parts.append(
            pd.DataFrame(
                {
                    "segment": quart.index.astype(np.int64),
                    "feature": feature,
                    "q1": quart[0.25].to_numpy(),
                    "median": quart[0.5].to_numpy(),
                    "q3": quart[0.75].to_numpy(),
                    "min": g.min().to_numpy(),
                    "max": g.max().to_numpy(),
                    "mean": g.mean().to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def selection_evidence(selection: dict[str, Any]) -> dict[str, Any]:
    """The k-selection evidence as published: the artifact's record (its table already holds gap and gap_se where
    the version was chosen by the gap rule) plus the stability threshold the rule used, for the page to draw."""
    out = dict(selection)
    if out.get("table"):
        out.setdefault("stable_ari", STABLE_ARI)  # the threshold every version so far was chosen with
    return out


def evidence_documents(seg: Any, catalogue: list[str]) -> dict[str, Any]:
    """The evidence documents of one segmentation (see the module docstring); ``seg`` is a full
    :class:`segmentation.Segmentation` (with its customers)."""
    customers = seg.customers
    columns = feature_columns(seg.feature_names)
    values = customers[list(columns)].astype(np.float64)
    means, stds = values.mean(), values.std(ddof=0)
    features = [
        {
            "name": f,
            "column": c,
            "base_mean": float(means[f]),
            "base_std": None if not np.isfinite(stds[f]) or stds[f] == 0 else float(stds[f]),
        }
        for f, c in columns.items()
    ]
    if len(columns) < len(seg.feature_names):
        log.warning(
            "segments %s: %d features, the page shows the first %d",
            seg.version,
            len(seg.feature_names),
            len(columns),
        )
    segments = seg.segments[["segment", "name", "size", "share", "revenue_share", "distinctive"]].copy()
    revenue = (
        customers.groupby("segment")["monetary"].sum()
        if "monetary" in customers.columns
        else pd.Series(dtype=np.float64)
    )
    segments["revenue"] = segments["segment"].map(revenue).fillna(0.0).astype(np.float64)
    attributes = [c for c in TEXT_ATTRIBUTES if c in customers.columns]
    if "products" in customers.columns:
        attributes.append("products")
    return {
        "segments": segments.to_dict(orient="records"),
        "profiles": seg.profiles.to_dict(orient="records"),
        "boxes": box_statistics(customers, list(columns)).to_dict(orient="records"),
        "features": features,
        "selection": selection_evidence(seg.selection),
        "bounds": _bounds(customers),
        "products": catalogue,
        "model": {
            "explained_variance_ratio": [float(v) for v in seg.model.explained_variance_ratio_],
            "metrics": seg.metrics,
            "n_customers": len(customers),
            "feature_names": list(seg.feature_names),
            "attributes": attributes,
        },
    }


def publish(artifact: Artifact, bank: Bank | None = None, url: str | None = None) -> dict[str, int]:
    """Write the serving rows and evidence of one ``segments`` artifact; returns rows written per table.

    The customers come from the artifact itself (its assignments, features and attributes), so a segmentation of
    a user's own log publishes the same way; ``bank`` only orders the product catalogue.
    """
    if artifact.model != MODEL_NAME:
        raise ValueError(f"not a segments artifact: {artifact.model!r}")
    seg = load_segmentation(artifact)
    if seg.customers is None:  # load_segmentation reads them unless told not to
        raise ValueError(f"segments {artifact.version}: the artifact's customers were not read")
    held = seg.customers["products"] if "products" in seg.customers.columns else pd.Series([], dtype=object)
    catalogue = product_catalogue(held, bank)
    rows = members_frame(seg.customers, seg.feature_names, catalogue)
    written = write_served(MEMBERS_TABLE, artifact.version, rows, url)
    write_evidence(MODEL_NAME, artifact.version, evidence_documents(seg, catalogue), url)
    return {MEMBERS_TABLE.name: written}
