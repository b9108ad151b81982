"""Calibration fitted on held-out folds repairs what SMOTE does to probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from risk.calibration import ScoreCalibrator, cross_fitted_calibration
from risk.metrics import brier, roc_auc
from risk.models import Candidate, make_pipeline
from risk.validation import assign_folds


def _imbalanced(n: int = 3000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    logit = -3.0 + 1.2 * x[:, 0] - 0.8 * x[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def test_calibration_improves_brier_of_a_smote_model() -> None:
    x, y = _imbalanced()
    folds = assign_folds(y, 3)
    raw = np.empty(len(y))
    for k in range(3):
        pipe = make_pipeline(
            Candidate("lightgbm", "smote"), [], 4, quick=True, n_minority=int(y[folds != k].sum())
        )
        raw[folds == k] = pipe.fit(x[folds != k], y[folds != k]).predict_proba(x[folds == k])[:, 1]
    assert raw.mean() > 2 * y.mean()  # SMOTE inflates the probabilities
    calibrated = cross_fitted_calibration(raw, y, folds)
    assert brier(y, calibrated) < 0.8 * brier(y, raw)
    assert abs(calibrated.mean() - y.mean()) < 0.02
    assert roc_auc(y, calibrated) == pytest.approx(roc_auc(y, raw), abs=0.02)


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_round_trip_through_json_gives_the_same_probabilities(method: str) -> None:
    rng = np.random.default_rng(0)
    s = rng.random(500)
    y = (rng.random(500) < s**2).astype(int)
    cal = ScoreCalibrator(method).fit(s, y)
    again = ScoreCalibrator.from_dict(cal.to_dict())
    assert np.allclose(cal.predict(s), again.predict(s))
    assert np.all(np.diff(cal.predict(np.sort(s))) >= -1e-12)  # monotone


def test_unknown_method_and_unfitted_use_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown calibration method"):
        ScoreCalibrator("magic").fit(np.linspace(0, 1, 20), np.arange(20) % 2)
    with pytest.raises(NotFittedError, match="not fitted"):
        ScoreCalibrator().predict(np.array([0.5]))
