"""Permutation importance, partial dependence / ICE, cumulative gains and interaction partners (risk.insights)."""

from __future__ import annotations

import numpy as np
import pytest

from risk import FeatureSpec, insights


class LinearModel:
    """A stand-in for RiskModel: PD is a fixed linear function of the encoded columns."""

    def __init__(self, spec: FeatureSpec, weights: list[float]) -> None:
        self.spec, self.weights = spec, np.asarray(weights)

    def predict_encoded(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights)))


def _spec(*numeric: str, categorical: dict | None = None) -> FeatureSpec:
    cats = categorical or {}
    return FeatureSpec(numeric=list(numeric), categorical=cats, fill=dict.fromkeys([*numeric, *cats], 0.0))


def test_gains_of_a_perfect_ranking_catch_every_default_first() -> None:
    y = np.r_[np.ones(10), np.zeros(90)]
    g = insights.cumulative_gains(y, np.linspace(1, 0, 100), points=11)
    assert g.share_caught[1] == pytest.approx(1.0)  # the riskiest 10% are the 10 defaults
    assert g.lift[1] == pytest.approx(10.0) and g.lift[-1] == pytest.approx(1.0) and np.isnan(g.lift[0])


def test_gains_of_a_constant_score_are_the_diagonal_whatever_the_row_order() -> None:
    y = np.r_[np.ones(30), np.zeros(70)]
    g = insights.cumulative_gains(y, np.full(100, 0.2), points=11)
    assert np.allclose(g.share_caught, g.share_targeted)
    with pytest.raises(ValueError, match="default"):
        insights.cumulative_gains(np.zeros(5), np.ones(5))


def test_permutation_importance_finds_the_only_feature_the_model_uses() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2_000, 3))
    y = (rng.random(2_000) < 1 / (1 + np.exp(-2 * x[:, 1]))).astype(int)
    before = x.copy()
    out = insights.permutation_importance(LinearModel(_spec("a", "b", "c"), [0, 2, 0]), x, y, repeats=3)
    assert out["features"] == ["a", "b", "c"] and out["rows"] == 2_000
    assert out["mean"][1] > 0.1 and abs(out["mean"][0]) < 1e-12 and abs(out["mean"][2]) < 1e-12
    assert np.array_equal(x, before)  # the caller's matrix is left as it was
    with pytest.raises(ValueError, match="both"):
        insights.permutation_importance(LinearModel(_spec("a", "b", "c"), [0, 2, 0]), x, np.zeros(2_000))


def test_ice_and_partial_dependence_move_one_feature() -> None:
    spec = _spec("a", "b")
    model = LinearModel(spec, [1.0, 0.5])
    x = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 3.0]])
    grid = np.array([-1.0, 0.0, 1.0])
    ice = insights.ice_curve(model, x[1:2], "a", grid)
    assert np.allclose(ice, model.predict_encoded(np.c_[grid, np.full(3, -1.0)]))
    pdp = insights.partial_dependence(model, x, "a", grid)
    assert np.allclose(pdp, [model.predict_encoded(np.c_[np.full(3, g), x[:, 1]]).mean() for g in grid])
    assert np.all(np.diff(ice) > 0)  # PD rises with a positive weight


def test_feature_grid_takes_every_category_and_keeps_whole_numbers_whole() -> None:
    spec = _spec("n", "f", categorical={"colour": ["red", "green", "blue"]})
    rng = np.random.default_rng(1)
    x = np.c_[rng.integers(0, 50, 500).astype(float), rng.normal(size=500), rng.integers(0, 3, 500)]
    assert insights.feature_grid(spec, x, "colour").tolist() == [0.0, 1.0, 2.0]
    whole = insights.feature_grid(spec, x, "n")
    assert np.all(whole == np.round(whole)) and len(whole) <= insights.GRID_POINTS
    assert np.all(np.diff(insights.feature_grid(spec, x, "f")) > 0)


def test_interaction_partner_is_the_feature_that_spreads_the_shap_values() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3_000, 3))
    shap = np.c_[x[:, 0] * (1 + x[:, 2]), 0.3 * x[:, 1], 0.1 * x[:, 2]]  # a's effect depends on c, not on b
    spec = _spec("a", "b", "c")
    assert insights.interaction_partner(spec, x, shap, "a") == "c"
    shap[:, 0] = x[:, 0] * (1 + x[:, 1])
    assert insights.interaction_partner(spec, x, shap, "a") == "b"
