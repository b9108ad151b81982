"""SHAP explanations of the LightGBM champion, from LightGBM's native TreeSHAP (``pred_contrib``).

LightGBM's ``pred_contrib`` computes the same exact TreeSHAP values as ``shap.TreeExplainer`` (the tests check
this), in C++ and without the Python overhead, so it is what scoring uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np


@dataclass(frozen=True)
class Contributions:
    """Per-applicant SHAP values on the log-odds scale.

    Attributes
    ----------
    values : ndarray, shape (n, n_features)
        Each feature's push on the model's log-odds of default.
    base : float
        The model's expected log-odds (the start of every waterfall).
    """

    values: np.ndarray
    base: float

    @property
    def logit(self) -> np.ndarray:
        """The model's raw log-odds per row (base + sum of contributions)."""
        return self.base + self.values.sum(axis=1)


def contributions(booster: lgb.Booster, x: np.ndarray, num_threads: int = 1) -> Contributions:
    """Exact TreeSHAP values of ``booster`` for the encoded rows ``x``."""
    out = np.asarray(
        booster.predict(np.asarray(x, dtype=np.float64), pred_contrib=True, num_threads=num_threads)
    )
    return Contributions(values=out[:, :-1], base=float(out[0, -1]) if len(out) else 0.0)


def to_probability(values: np.ndarray, p_start: float, p_end: np.ndarray) -> np.ndarray:
    """Share each row's probability change ``p_end - p_start`` among its features, in proportion to their log-odds push.

    The shares add up exactly to the change, keep each feature's sign and its rank, so a waterfall in probability
    terms ends at the applicant's (calibrated) probability of default.
    """
    values = np.atleast_2d(values)
    total = values.sum(axis=1, keepdims=True)
    delta = np.atleast_1d(p_end).reshape(-1, 1) - p_start
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(np.abs(total) > 1e-12, values / total, 0.0)
    return share * delta


def global_importance(values: np.ndarray) -> np.ndarray:
    """Mean absolute SHAP value of each feature (log-odds)."""
    return np.abs(values).mean(axis=0)
