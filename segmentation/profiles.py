"""Segment profiles: size, share of revenue, each feature's mean and median against the whole base, and the
features that set each segment apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bankdata import feature_label

N_DISTINCTIVE = 3
_RAW_PART = re.compile(r"^([a-z0-9_]+) ([+-]\d+(?:\.\d+)?)$")


def distinctive_words(text: str) -> str:
    """A segment's distinctive features in words: ``"spend_dining +1.2; age -0.8"`` -> ``"Share of spending on
    dining +1.2 sd; Age -0.8 sd"`` (:func:`bankdata.feature_label`); text already in words is left as it is.

    Parameters
    ----------
    text : str
        ``; ``-separated ``feature z`` parts, as :func:`segment_profiles` writes (or older artifacts stored).

    Returns
    -------
    str
        The same parts with labels and the unit (standard deviations from the whole base).
    """
    parts = []
    for part in str(text).split("; "):
        match = _RAW_PART.match(part.strip())
        parts.append(f"{feature_label(match[1])} {match[2]} sd" if match else part)
    return "; ".join(parts)


@dataclass(frozen=True)
class SegmentProfiles:
    """Profiles of every segment.

    Attributes
    ----------
    summary : DataFrame
        One row per segment: segment, size, share (of customers), revenue_share, distinctive (the
        ``N_DISTINCTIVE`` features with the largest |z|, e.g. ``"age -1.2; channel_app +0.9"``).
    stats : DataFrame
        One row per (segment, feature): mean, median, base_mean, base_median and z, the distance of the
        segment mean from the base mean in base standard deviations.
    """

    summary: pd.DataFrame
    stats: pd.DataFrame


def segment_profiles(
    features: pd.DataFrame, labels: np.ndarray, *, revenue: str = "monetary"
) -> SegmentProfiles:
    """Profile each segment against the whole customer base.

    Parameters
    ----------
    features : DataFrame
        Raw (unscaled) features, one row per customer.
    labels : array of int
        Segment of each row.
    revenue : str
        Column whose total is the revenue; its share per segment is ``revenue_share`` (0 when absent).
    """
    labels = np.asarray(labels)
    if len(labels) != len(features):
        raise ValueError(f"labels has {len(labels)} rows but features has {len(features)}")
    numeric = features.astype(np.float64)
    groups = numeric.groupby(labels)
    means, medians = groups.mean(), groups.median()
    base_mean, base_median = numeric.mean(), numeric.median()
    base_std = numeric.std(ddof=0).replace(0.0, np.nan)
    z = ((means - base_mean) / base_std).fillna(0.0)
    stats = (
        pd.concat(
            {
                "mean": means.stack(),
                "median": medians.stack(),
                "z": z.stack(),
            },
            axis=1,
        )
        .rename_axis(["segment", "feature"])
        .reset_index()
    )
    stats["base_mean"] = stats["feature"].map(base_mean)
    stats["base_median"] = stats["feature"].map(base_median)
    sizes = groups.size()
    if revenue in numeric.columns and numeric[revenue].sum() > 0:
        revenue_share = groups[revenue].sum() / numeric[revenue].sum()
    else:
        revenue_share = pd.Series(0.0, index=sizes.index)
    distinctive = {
        seg: "; ".join(
            distinctive_words(f"{feat} {row[feat]:+.1f}")
            for feat in row.abs().sort_values(ascending=False).index[:N_DISTINCTIVE]
        )
        for seg, row in z.iterrows()
    }
    summary = pd.DataFrame(
        {
            "segment": sizes.index.astype(np.int64),
            "size": sizes.to_numpy(dtype=np.int64),
            "share": (sizes / sizes.sum()).to_numpy(),
            "revenue_share": revenue_share.reindex(sizes.index).to_numpy(),
            "distinctive": [distinctive[s] for s in sizes.index],
        }
    )
    stats["segment"] = stats["segment"].astype(np.int64)
    return SegmentProfiles(
        summary=summary,
        stats=stats[["segment", "feature", "mean", "median", "base_mean", "base_median", "z"]],
    )
