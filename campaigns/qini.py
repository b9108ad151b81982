"""The Qini curve of a ranking and its Qini coefficient (Radcliffe 2007), measured on a campaign's responses.

Rank customers by score, best first. After the top ``k`` (``n_t`` treated with ``r_t`` responders, ``n_c`` controls
with ``r_c`` responders) the Qini curve counts the incremental responders ``r_t - r_c * n_t / n_c``. Here both axes
are shares of the whole population: x = k / N, y = incremental responders / N. The **Qini coefficient** is the area
between that curve and the straight line from (0, 0) to its end point (random targeting), by the trapezoidal rule:
0 for a random ranking, positive when the ranking puts the persuadable first, and in the same unit for every
ranking of one campaign, so it can be compared with the oracle's (ranking by the true uplift).
Tied scores are cut only as a block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOP_SHARES = (0.1, 0.2, 0.3)


def qini_curve(score: np.ndarray, treated: np.ndarray, responded: np.ndarray) -> pd.DataFrame:
    """Points of the Qini curve: share targeted (x) and incremental responders as a share of everyone (y).

    Parameters
    ----------
    score : array of float
        The ranking's score; higher is targeted first.
    treated, responded : array of bool
        Per customer: contacted and took the product up.

    Returns
    -------
    DataFrame
        share_targeted, incremental (both in [0, 1] shares of the population), starting at (0, 0).
    """
    s, t, r = _arrays(score, treated, responded)
    order = np.argsort(-s, kind="stable")
    s, t, r = s[order], t[order], r[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    r_t, r_c = np.cumsum(t & r), np.cumsum(~t & r)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # the end of each block of tied scores
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(n_c[last] > 0, r_t[last] - r_c[last] * n_t[last] / n_c[last], 0.0)
    n = len(s)
    return pd.DataFrame({"share_targeted": np.r_[0.0, (last + 1) / n], "incremental": np.r_[0.0, inc / n]})


def true_qini_curve(score: np.ndarray, uplift: np.ndarray) -> pd.DataFrame:
    """The expected Qini curve from known true uplifts: cumulative true uplift of the top k, as shares of everyone."""
    s = np.asarray(score, dtype=float)
    u = np.asarray(uplift, dtype=float)
    if s.shape != u.shape or s.ndim != 1 or not np.isfinite(s).all() or not np.isfinite(u).all():
        raise ValueError("score and uplift must be finite 1-d arrays of one length")
    order = np.argsort(-s, kind="stable")
    s, u = s[order], u[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    n = len(s)
    return pd.DataFrame(
        {"share_targeted": np.r_[0.0, (last + 1) / n], "incremental": np.r_[0.0, np.cumsum(u)[last] / n]}
    )


def qini_coefficient(curve: pd.DataFrame) -> float:
    """Area between a Qini curve and the random line to its end point (trapezoidal rule)."""
    x = curve["share_targeted"].to_numpy(dtype=float)
    y = curve["incremental"].to_numpy(dtype=float)
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    return area - float(y[-1]) * float(x[-1]) / 2


def qini(score: np.ndarray, treated: np.ndarray, responded: np.ndarray) -> float:
    """Qini coefficient of ``score`` measured on a campaign's responses."""
    return qini_coefficient(qini_curve(score, treated, responded))


def uplift_at_top(score: np.ndarray, treated: np.ndarray, responded: np.ndarray, share: float) -> float:
    """Take-up of the treated minus take-up of the controls among the top ``share`` by score (nan if an arm is empty)."""
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    s, t, r = _arrays(score, treated, responded)
    top = np.argsort(-s, kind="stable")[: max(1, int(round(share * len(s))))]
    tt, rr = t[top], r[top]
    if tt.all() or not tt.any():
        return float("nan")
    return float(rr[tt].mean() - rr[~tt].mean())


def _arrays(score: np.ndarray, treated: np.ndarray, responded: np.ndarray) -> tuple[np.ndarray, ...]:
    s = np.asarray(score, dtype=float)
    t, r = np.asarray(treated), np.asarray(responded)
    if t.dtype != bool or r.dtype != bool:
        raise ValueError("treated and responded must be booleans")
    if not (s.shape == t.shape == r.shape) or s.ndim != 1 or len(s) == 0:
        raise ValueError(
            f"score, treated and responded must be 1-d of one length, got {s.shape}, {t.shape}, {r.shape}"
        )
    if not np.isfinite(s).all():
        raise ValueError("score must be finite")
    return s, t, r
