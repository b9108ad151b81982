"""The two-model uplift estimator: learns a known effect, round-trips through save/load, refuses misuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from campaigns import TwoModelUplift


def _campaign(n: int = 8_000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.random(n), "b": rng.random(n)})
    baseline = 0.05 + 0.3 * X["b"].to_numpy()  # b drives take-up anyway
    effect = np.where(X["a"] > 0.5, 0.25, -0.02)  # a drives the effect of contact
    treated = rng.random(n) < 0.5
    responded = rng.random(n) < baseline + treated * effect
    return X, treated, responded, effect


def test_learns_who_is_persuadable() -> None:
    X, treated, responded, effect = _campaign()
    model = TwoModelUplift(random_state=1).fit(X, treated, responded)
    pred = model.predict(X)
    assert pred[effect > 0].mean() - pred[effect < 0].mean() > 0.15
    assert np.corrcoef(pred, effect)[0, 1] > 0.6


def test_save_load_round_trip(tmp_path: Path) -> None:
    X, treated, responded, _ = _campaign(3_000)
    model = TwoModelUplift(n_estimators=30, random_state=2).fit(X, treated, responded)
    loaded = TwoModelUplift.load(model.save(tmp_path / "uplift"))
    assert loaded.get_params() == model.get_params()
    assert list(loaded.feature_names_in_) == ["a", "b"]
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.predict(X[["b", "a"]]), model.predict(X))  # by name, not position


def test_misuse_is_refused(tmp_path: Path) -> None:
    X, treated, responded, _ = _campaign(500)
    with pytest.raises(ValueError, match="not fitted"):
        TwoModelUplift().predict(X)
    with pytest.raises(ValueError, match="booleans"):
        TwoModelUplift().fit(X, treated.astype(int), responded)
    with pytest.raises(ValueError, match="control arm"):
        TwoModelUplift().fit(X, treated, np.where(treated, responded, False))
    with pytest.raises(ValueError, match="cannot load"):
        TwoModelUplift.load(tmp_path / "missing")
    model = TwoModelUplift(n_estimators=5).fit(X, treated, responded)
    with pytest.raises(ValueError, match="lacks the features"):
        model.predict(X[["a"]])
