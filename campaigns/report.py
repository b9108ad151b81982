"""The measurement of one stored campaign: take-up and uplift overall and per stratum, the Qini curve of the
ranking it was built from, and its economics. Shared by ``ledgerlight campaigns show`` and the Campaigns page."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from campaigns.measure import cost_per_incremental, measure, measure_segments
from campaigns.qini import TOP_SHARES, qini_coefficient, qini_curve, uplift_at_top

#: the Qini curve is returned at most at this many points (enough for a figure, small for a browser)
CURVE_POINTS = 201


def campaign_report(
    outcomes: pd.DataFrame, *, cost_per_contact: float | None = None, margin: float | None = None
) -> dict[str, Any]:
    """Measure a campaign from its members' outcomes.

    Parameters
    ----------
    outcomes : DataFrame
        One row per member: ``treated`` (bool), ``responded`` (bool), ``stratum`` and ``score`` (NaN for an
        unranked audience), as :func:`bankdata.campaign_outcomes` returns.
    cost_per_contact, margin : float, optional
        Add the cost per incremental customer (and the net with a margin).

    Returns
    -------
    dict
        ``overall`` (a :class:`~campaigns.measure.Measurement` as a dict), ``segments`` (one dict per stratum,
        ``small`` flagged), ``responses`` (how many recorded), ``ranked`` (whether every member has a score), and
        when ranked and both arms are present: ``qini``, ``qini_curve`` (``share``, ``incremental`` lists) and
        ``uplift_top_10/20/30``; ``economics`` with a cost.
    """
    treated = outcomes["treated"].to_numpy(dtype=bool)
    responded = outcomes["responded"].to_numpy(dtype=bool)
    overall = measure(treated, responded)
    segments = measure_segments(treated, responded, outcomes["stratum"].astype(str).to_numpy())
    report: dict[str, Any] = {
        "overall": overall.to_dict(),
        "segments": _records(segments),
        "responses": int(responded.sum()),
        "ranked": bool(len(outcomes)) and bool(outcomes["score"].notna().all()),
    }
    if report["ranked"] and treated.any() and (~treated).any():
        score = outcomes["score"].to_numpy(dtype=float)
        curve = qini_curve(score, treated, responded)
        report["qini"] = qini_coefficient(curve)
        report["qini_curve"] = _thinned(curve)
        for share in TOP_SHARES:
            report[f"uplift_top_{round(share * 100)}"] = _finite(
                uplift_at_top(score, treated, responded, share)
            )
    if cost_per_contact is not None:
        report["economics"] = {
            k: _finite(v) for k, v in cost_per_incremental(overall, cost_per_contact, margin).items()
        }
    return report


def _thinned(curve: pd.DataFrame) -> dict[str, list[float]]:
    """The curve at most at :data:`CURVE_POINTS` evenly spaced points (its first and last kept)."""
    keep = np.unique(np.linspace(0, len(curve) - 1, min(len(curve), CURVE_POINTS)).round().astype(int))
    part = curve.iloc[keep]
    return {col: [float(v) for v in part[col]] for col in part.columns}


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _finite(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]  # fmt: skip
