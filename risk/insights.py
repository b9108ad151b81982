"""Global and per-applicant views of the champion beyond SHAP: permutation importance, partial dependence and ICE
curves, lift and cumulative gains, and the feature that most colours another's SHAP dependence.

Permutation importance and the portfolio's partial dependence are computed when a version is published (they score
thousands of rows per feature); one applicant's ICE curve scores one row per grid point and is cheap on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from risk.features import FeatureSpec
from risk.metrics import roc_auc
from risk.scoring import RiskModel

#: rows of the held-out sample the permutation importance scores, and how often each feature is shuffled
PERMUTATION_ROWS = 20_000
PERMUTATION_REPEATS = 5
#: rows of the stored explanation sample the portfolio partial dependence averages over, and its grid's size
PDP_ROWS = 500
GRID_POINTS = 20


@dataclass(frozen=True)
class Gains:
    """Cumulative gains of ranking loans by predicted PD, riskiest first.

    Attributes
    ----------
    share_targeted : ndarray
        Share of loans targeted (0..1), riskiest first.
    share_caught : ndarray
        Share of all defaults among the targeted loans.
    """

    share_targeted: np.ndarray
    share_caught: np.ndarray

    @property
    def lift(self) -> np.ndarray:
        """Default rate of the targeted loans over the overall default rate (undefined at 0% targeted: NaN)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.share_targeted > 0, self.share_caught / self.share_targeted, np.nan)


def cumulative_gains(y: np.ndarray, p: np.ndarray, points: int = 101) -> Gains:
    """Share of defaults caught when the riskiest ``share_targeted`` of loans are targeted, on ``points`` shares.

    Ties in ``p`` are taken as a block (their defaults are spread evenly), so the curve does not depend on row order.
    """
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    if len(y) == 0 or y.sum() == 0:
        raise ValueError("cumulative gains need at least one default")
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    # at the end of each block of equal scores: loans and defaults so far
    ends = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True])
    n_at, caught_at = ends + 1.0, np.cumsum(ys)[ends]
    grid = np.linspace(0.0, 1.0, points)
    caught = np.interp(grid * len(y), np.r_[0.0, n_at], np.r_[0.0, caught_at]) / y.sum()
    return Gains(grid, caught)


def permutation_importance(
    model: RiskModel, x: np.ndarray, y: np.ndarray, *, repeats: int = PERMUTATION_REPEATS, seed: int = 0
) -> dict[str, Any]:
    """Drop in ROC-AUC when each feature's column of the encoded rows ``x`` is shuffled (mean and std over repeats).

    Returns
    -------
    dict
        ``features``, ``mean`` and ``std`` (one per feature, model order), the unshuffled ``auc``, ``rows`` and
        ``repeats``.
    """
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        raise ValueError("permutation importance needs both defaults and repaid loans in the held-out sample")
    rng = np.random.default_rng(seed)
    base = roc_auc(y, model.predict_encoded(x))
    drops = np.empty((x.shape[1], repeats))
    shuffled = x.copy()
    for j in range(x.shape[1]):
        for r in range(repeats):
            shuffled[:, j] = x[rng.permutation(len(x)), j]
            drops[j, r] = base - roc_auc(y, model.predict_encoded(shuffled))
        shuffled[:, j] = x[:, j]
    return {
        "features": list(model.spec.features),
        "mean": drops.mean(axis=1).tolist(),
        "std": drops.std(axis=1).tolist(),
        "auc": float(base),
        "rows": int(len(y)),
        "repeats": int(repeats),
    }


def feature_grid(spec: FeatureSpec, x: np.ndarray, feature: str, points: int = GRID_POINTS) -> np.ndarray:
    """Encoded values a feature is moved through: every category's code, or up to ``points`` quantiles (2%..98%)
    of the sample ``x`` (whole numbers stay whole)."""
    j = spec.features.index(feature)
    if feature in spec.categorical:
        return np.arange(len(spec.categorical[feature]), dtype=np.float64)
    grid = np.quantile(x[:, j], np.linspace(0.02, 0.98, points))
    whole = bool(spec.ranges.get(feature, {}).get("integer")) or bool(np.all(x[:, j] == np.round(x[:, j])))
    return np.unique(np.round(grid) if whole else grid)


def ice_curve(model: RiskModel, row: np.ndarray, feature: str, grid: np.ndarray) -> np.ndarray:
    """PD of one encoded applicant ``row`` (1 x n) with ``feature`` set to each value of ``grid`` (the ICE curve)."""
    j = model.spec.features.index(feature)
    rows = np.repeat(np.atleast_2d(row), len(grid), axis=0)
    rows[:, j] = grid
    return model.predict_encoded(rows)


def partial_dependence(model: RiskModel, x: np.ndarray, feature: str, grid: np.ndarray) -> np.ndarray:
    """Mean PD of the rows ``x`` with ``feature`` set to each value of ``grid`` (the portfolio's PDP)."""
    j = model.spec.features.index(feature)
    out = np.empty(len(grid))
    moved = x.copy()
    for i, value in enumerate(grid):
        moved[:, j] = value
        out[i] = model.predict_encoded(moved).mean()
    return out


def pdp_evidence(model: RiskModel, x: np.ndarray, *, rows: int = PDP_ROWS, seed: int = 0) -> dict[str, Any]:
    """Every feature's grid and portfolio partial dependence over at most ``rows`` rows of the sample ``x``."""
    rng = np.random.default_rng(seed)
    take = x if len(x) <= rows else x[np.sort(rng.choice(len(x), size=rows, replace=False))]
    out: dict[str, Any] = {}
    for feature in model.spec.features:
        grid = feature_grid(model.spec, x, feature)
        out[feature] = {"grid": grid.tolist(), "pd": partial_dependence(model, take, feature, grid).tolist()}
    return {"features": out, "rows": int(len(take))}


def interaction_partner(spec: FeatureSpec, x: np.ndarray, shap: np.ndarray, feature: str) -> str | None:
    """The feature whose values best explain the spread of ``feature``'s SHAP values at equal ``feature`` values.

    The SHAP values of ``feature`` are centred within bins of its value (what the feature alone explains) and the
    rest is correlated with every other feature (the ``shap.approximate_interactions`` idea); the largest absolute
    correlation wins. None when no other feature varies.
    """
    j = spec.features.index(feature)
    values, s = x[:, j], shap[:, j]
    edges = np.unique(np.quantile(values, np.linspace(0, 1, 11)))
    bins = (
        np.searchsorted(edges[1:-1], values, side="right")
        if len(edges) > 2
        else np.zeros(len(values), dtype=int)
    )
    means = np.bincount(bins, weights=s) / np.maximum(np.bincount(bins), 1)
    rest = s - means[bins]
    best, best_score = None, -1.0
    for k, other in enumerate(spec.features):
        col = x[:, k]
        if k == j or np.std(col) == 0 or np.std(rest) == 0:
            continue
        score = abs(float(np.corrcoef(rest, col)[0, 1]))
        if score > best_score:
            best, best_score = other, score
    return best
