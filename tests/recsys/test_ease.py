"""EASE: the closed form is each item's ridge regression on the other inputs; side features serve cold starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys import EASERecommender, InteractionMatrix


@pytest.fixture(scope="module")
def toy() -> tuple[InteractionMatrix, pd.DataFrame]:
    """80 users in two tastes over 8 items: even users like 100-103, odd users 104-107."""
    rng = np.random.default_rng(3)
    rows = []
    for u in range(80):
        liked = np.arange(100, 104) if u % 2 == 0 else np.arange(104, 108)
        rows += [
            (2000 + u, int(i), float(rng.choice([1.0, 2.0, 8.0])))
            for i in rng.choice(liked, 2, replace=False)
        ]
    side = pd.DataFrame({"taste": ["even" if u % 2 == 0 else "odd" for u in range(80)],
                         "region": rng.choice(["north", "south"], 80)}, index=2000 + np.arange(80))  # fmt: skip
    return InteractionMatrix.from_frame(pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])), side


def test_weights_are_each_items_ridge_regression_on_the_other_inputs(toy) -> None:
    matrix, side = toy
    lam = 5.0
    model = EASERecommender(regularization=lam).fit(matrix, user_features=side)
    x = model.inputs_.toarray().astype(np.float64)
    assert x.shape[1] == 8 + 3 + 3  # 8 items, then taste and region one-hot (2 values and "<unknown>" each)
    np.testing.assert_allclose(x[:, :8], np.log1p(matrix.matrix.toarray()), rtol=1e-6)
    for j in (0, 5):
        others = np.delete(np.arange(x.shape[1]), j)
        a = x[:, others]
        w = np.linalg.solve(a.T @ a + lam * np.eye(len(others)), a.T @ x[:, j])
        np.testing.assert_allclose(model.weights_[others, j], w, rtol=1e-4, atol=1e-6)
        assert model.weights_[j, j] == 0.0  # an item never predicts itself


def test_cold_starts_follow_the_side_features(toy) -> None:
    matrix, side = toy
    model = EASERecommender(regularization=1.0).fit(matrix, user_features=side)
    cold = pd.DataFrame({"taste": ["even", "odd"], "region": ["north", "mars"]}, index=[9001, 9002])
    items, _ = model.recommend([9001, 9002], 3, user_features=cold)
    assert ((items[0] >= 100) & (items[0] <= 103)).all()
    assert ((items[1] >= 104) & (items[1] <= 107)).all()  # an unseen region adds nothing


def test_without_side_features_cold_starts_get_popularity(toy) -> None:
    matrix, side = toy
    model = EASERecommender(regularization=1.0, side_features=False).fit(matrix, user_features=side)
    assert model.inputs_.shape[1] == 8
    cold = side.iloc[:2].set_axis([9001, 9002])
    share = (matrix.matrix.toarray() > 0).mean(axis=0)
    np.testing.assert_allclose(model.score([9001, 9002], cold), np.tile(share, (2, 1)), rtol=1e-6)


def test_known_users_rank_their_own_taste_first(toy) -> None:
    matrix, _ = toy
    model = EASERecommender(regularization=1.0).fit(matrix)
    items, _ = model.recommend(matrix.user_ids[:2], 2)
    assert ((items[0] >= 100) & (items[0] <= 103)).all() and ((items[1] >= 104) & (items[1] <= 107)).all()


def test_refuses_a_non_positive_penalty(toy) -> None:
    with pytest.raises(ValueError, match="regularization must be positive"):
        EASERecommender(regularization=0.0).fit(toy[0])
