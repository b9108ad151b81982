"""Measure a campaign: take-up of the treated against the holdout, the uplift with its Newcombe interval, per segment.

The interval for a difference of two proportions is Newcombe's hybrid score interval (Newcombe 1998, method 10),
built from the two Wilson score intervals without continuity correction. A segment is *small*, and its uplift is
reported but not to be read, when either arm has fewer than ``MIN_ARM`` customers or the two arms together have
fewer than ``MIN_RESPONDERS`` responders.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

MIN_ARM = 30
MIN_RESPONDERS = 5


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for one proportion (no continuity correction); (nan, nan) when ``n`` is 0."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return math.nan, math.nan
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference ``x1/n1 - x2/n2`` with Newcombe's hybrid score interval (method 10).

    Returns
    -------
    (difference, lower, upper)
        nan where either arm is empty.
    """
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@dataclass(frozen=True)
class Measurement:
    """Take-up of one group's treated and control arms and the uplift between them."""

    n_treated: int
    n_control: int
    responders_treated: int
    responders_control: int
    takeup_treated: float
    takeup_control: float
    uplift: float
    uplift_low: float
    uplift_high: float
    incremental: float  # uplift x treated: responders the contact added
    small: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (nan becomes None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def measure(treated: np.ndarray, responded: np.ndarray, confidence: float = 0.95) -> Measurement:
    """Take-up in treated vs control and the uplift with its Newcombe interval.

    Parameters
    ----------
    treated, responded : array of bool
        Per customer: contacted (False: held out) and took the product up.
    confidence : float
        Level of the interval.
    """
    t, r = _bools(treated, "treated"), _bools(responded, "responded")
    if t.shape != r.shape:
        raise ValueError(f"treated and responded differ in length ({len(t)} vs {len(r)})")
    n1, n2 = int(t.sum()), int((~t).sum())
    x1, x2 = int((t & r).sum()), int((~t & r).sum())
    d, low, high = newcombe_interval(x1, n1, x2, n2, confidence)
    small = min(n1, n2) < MIN_ARM or x1 + x2 < MIN_RESPONDERS
    return Measurement(
        n_treated=n1,
        n_control=n2,
        responders_treated=x1,
        responders_control=x2,
        takeup_treated=x1 / n1 if n1 else math.nan,
        takeup_control=x2 / n2 if n2 else math.nan,
        uplift=d,
        uplift_low=low,
        uplift_high=high,
        incremental=d * n1 if n1 and n2 else math.nan,
        small=bool(small),
    )


def measure_segments(
    treated: np.ndarray, responded: np.ndarray, segments: pd.Series | np.ndarray, confidence: float = 0.95
) -> pd.DataFrame:
    """One row per segment: its :class:`Measurement` (``small`` flags groups too small to read), largest first."""
    t, r = _bools(treated, "treated"), _bools(responded, "responded")
    labels = pd.Series(np.asarray(segments, dtype=object)).fillna("(missing)").astype("str").to_numpy()
    if len(labels) != len(t):
        raise ValueError(f"segments and treated differ in length ({len(labels)} vs {len(t)})")
    rows = []
    for label in pd.unique(labels):
        mask = labels == label
        rows.append({"segment": label, **asdict(measure(t[mask], r[mask], confidence))})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["n_treated", "segment"], ascending=[False, True], ignore_index=True)


def cost_per_incremental(
    m: Measurement, cost_per_contact: float, margin: float | None = None
) -> dict[str, Any]:
    """What the campaign's extra customers cost and earned.

    Parameters
    ----------
    m : Measurement
        The campaign's overall measurement.
    cost_per_contact : float
        Cost of contacting one customer (>= 0).
    margin : float, optional
        Margin earned per customer who takes the product up.

    Returns
    -------
    dict
        cost (of contacting the treated), incremental customers (with its interval), cost_per_incremental
        (None when the uplift is not above zero) and its range over the uplift's interval, and, with a margin,
        net = incremental x margin - cost.
    """
    for name, value in (("cost per contact", cost_per_contact), ("margin", margin)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    cost = cost_per_contact * m.n_treated
    inc = m.incremental
    low, high = m.uplift_low * m.n_treated, m.uplift_high * m.n_treated

    def per(extra: float) -> float | None:
        return cost / extra if extra > 0 and math.isfinite(extra) else None

    out: dict[str, Any] = {
        "cost": cost,
        "incremental": inc,
        "incremental_low": low,
        "incremental_high": high,
        "cost_per_incremental": per(inc),
        "cost_per_incremental_range": [per(high), per(low)],
    }
    if margin is not None:
        out["net"] = inc * margin - cost
    return out


def _bools(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype != bool:
        raise ValueError(f"{name} must be booleans, got dtype {arr.dtype}")
    return arr
