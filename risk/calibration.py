"""Probability calibration fitted on held-out (out-of-fold) scores: isotonic regression or Platt scaling.

Stored as plain numbers (JSON), so loading a model never unpickles anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from risk.metrics import brier

METHODS = ("isotonic", "sigmoid", "auto")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class ScoreCalibrator(BaseEstimator):
    """Map a model's scores to calibrated default probabilities.

    Parameters
    ----------
    method : {"isotonic", "sigmoid", "auto"}
        ``sigmoid`` is Platt scaling on the score's log-odds; ``auto`` picks the one with the lower cross-fitted
        Brier score on the data given to :meth:`fit`.
    random_state : int
        Seed of the folds used by ``auto``.

    Attributes
    ----------
    method_ : str
        The method in use after fitting.
    x_, y_ : ndarray
        Isotonic knots (score -> probability), linearly interpolated.
    coef_, intercept_ : float
        Platt parameters: ``p = 1 / (1 + exp(-(coef_ * logit(score) + intercept_)))``.
    """

    def __init__(self, method: str = "auto", random_state: int = 0) -> None:
        self.method = method
        self.random_state = random_state

    def fit(self, scores: np.ndarray, y: np.ndarray) -> ScoreCalibrator:
        """Learn the mapping from held-out ``scores`` (probabilities from an uncalibrated model) and 0/1 labels."""
        if self.method not in METHODS:
            raise ValueError(
                f"unknown calibration method {self.method!r}; expected one of {', '.join(METHODS)}"
            )
        scores = np.asarray(scores, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if scores.size != y.size or scores.size < 10 or y.min() == y.max():
            raise ValueError("calibration needs at least 10 held-out scores with both classes")
        method = self.method
        if method == "auto":
            method = min(("isotonic", "sigmoid"), key=lambda m: self._cross_fitted_brier(m, scores, y))
        self.method_ = method
        self._fit_method(method, scores, y)
        return self

    def _fit_method(self, method: str, scores: np.ndarray, y: np.ndarray) -> None:
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y)
            self.x_, self.y_ = iso.X_thresholds_.copy(), iso.y_thresholds_.copy()
        else:
            lr = LogisticRegression(C=1e6).fit(_logit(scores)[:, None], y)
            self.coef_, self.intercept_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])

    def _cross_fitted_brier(self, method: str, scores: np.ndarray, y: np.ndarray) -> float:
        n_splits = int(min(3, y.sum(), (1 - y).sum()))
        if n_splits < 2:
            return 0.0 if method == "sigmoid" else 1.0
        out = np.empty_like(scores)
        folds = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(scores, y):
            part = ScoreCalibrator(method).fit(scores[train], y[train])
            out[test] = part.predict(scores[test])
        return brier(y, out)

    def _check_fitted(self) -> None:
        if not hasattr(self, "method_"):
            raise NotFittedError("ScoreCalibrator is not fitted yet: call fit() or from_dict()")

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for ``scores``."""
        self._check_fitted()
        scores = np.asarray(scores, dtype=np.float64)
        if self.method_ == "isotonic":
            return np.interp(scores, self.x_, self.y_)
        return 1.0 / (1.0 + np.exp(-(self.coef_ * _logit(scores) + self.intercept_)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fitted mapping (``method`` is the one in use) and the hyperparameters (``params``)."""
        self._check_fitted()
        params = self.get_params()
        if self.method_ == "isotonic":
            return {"method": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist(), "params": params}
        return {"method": "sigmoid", "coef": self.coef_, "intercept": self.intercept_, "params": params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreCalibrator:
        """Rebuild a calibrator written by :meth:`to_dict` (older files without ``params``: the method in use)."""
        params = data.get("params", {"method": data["method"]})
        try:
            cal = cls(**params)
        except TypeError as exc:
            raise ValueError(f"stored calibrator has unknown hyperparameters ({exc})") from None
        cal.method_ = data["method"]
        if cal.method_ == "isotonic":
            cal.x_, cal.y_ = np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.float64)
        elif cal.method_ == "sigmoid":
            cal.coef_, cal.intercept_ = float(data["coef"]), float(data["intercept"])
        else:
            raise ValueError(f"unknown calibration method {cal.method_!r} in stored calibrator")
        return cal


def cross_fitted_calibration(
    scores: np.ndarray, y: np.ndarray, folds: np.ndarray, method: str = "auto"
) -> np.ndarray:
    """Calibrated out-of-fold probabilities: fold k's scores are mapped by a calibrator fitted on the other folds.

    ``folds`` gives each row's fold number, so no row is calibrated with its own label.
    """
    out = np.empty(len(scores), dtype=np.float64)
    for k in np.unique(folds):
        test = folds == k
        cal = ScoreCalibrator(method).fit(scores[~test], y[~test])
        out[test] = cal.predict(scores[test])
    return out
