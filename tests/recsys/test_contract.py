"""The contract every Recommender honours, run on each model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys import (
    ALSRecommender,
    EASERecommender,
    MFRecommender,
    NotFittedError,
    PopularityRecommender,
    Recommender,
)
from recsys.interactions import InteractionMatrix


def _make(kind: str) -> Recommender:
    return {
        "popularity": lambda: PopularityRecommender(),
        "als": lambda: ALSRecommender(factors=4, iterations=5, regularization=0.1),
        "mf": lambda: MFRecommender(factors=4, epochs=5, batch_size=16),
        "ease": lambda: EASERecommender(regularization=10.0),
    }[kind]()


KINDS = ["popularity", "als", "mf", "ease"]


@pytest.fixture(scope="module")
def toy() -> tuple[InteractionMatrix, pd.DataFrame]:
    """60 users in two tastes over 8 items (ids 100..107): even users like 100-103, odd users 104-107."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(60):
        liked = np.arange(100, 104) if u % 2 == 0 else np.arange(104, 108)
        for item in rng.choice(liked, size=3, replace=False):
            rows.append((1000 + u, int(item), float(rng.integers(1, 5))))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])
    side = pd.DataFrame(
        {"taste": ["even" if u % 2 == 0 else "odd" for u in range(60)]}, index=1000 + np.arange(60)
    )
    return InteractionMatrix.from_frame(frame), side


@pytest.mark.parametrize("kind", KINDS)
def test_recommend_shapes_order_and_no_held(kind: str, toy) -> None:
    matrix, side = toy
    model = _make(kind).fit(matrix, user_features=side)
    users = matrix.user_ids[:10]
    items, scores = model.recommend(users, 4)
    assert items.shape == scores.shape == (10, 4)
    held = model.held_mask(users)
    for row, user_items in enumerate(items):
        cols = matrix.item_index(user_items[user_items >= 0])
        assert not held[row, cols].any(), "a held item was recommended"
    finite = np.isfinite(scores)
    assert (np.diff(np.where(finite, scores, -1e30), axis=1) <= 1e-6).all(), "scores not best first"
    assert set(items[items >= 0].ravel()) <= set(matrix.item_ids.tolist())


@pytest.mark.parametrize("kind", KINDS)
def test_short_lists_are_padded_when_everything_is_held_or_blocked(kind: str, toy) -> None:
    matrix, side = toy
    model = _make(kind).fit(matrix, user_features=side)
    user = matrix.user_ids[:1]
    blocked = np.ones((1, 8), dtype=bool)
    items, scores = model.recommend(user, 3, blocked=blocked)
    assert (items == -1).all() and np.isneginf(scores).all()
    items, _ = model.recommend(user, 8)
    assert (items[0] == -1).sum() == 3  # the user holds 3 of the 8 items


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(kind: str, toy, tmp_path) -> None:
    matrix, side = toy
    model = _make(kind).fit(matrix, user_features=side)
    path = model.save(tmp_path / f"{kind}.npz")
    loaded = Recommender.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    users = np.append(matrix.user_ids[:5], 999_999)  # one cold-start user
    cold = pd.DataFrame({"taste": ["odd"]}, index=[999_999])
    np.testing.assert_array_equal(
        loaded.recommend(users, 3, user_features=cold)[0], model.recommend(users, 3, user_features=cold)[0]
    )
    np.testing.assert_allclose(loaded.score(users, cold), model.score(users, cold), rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_similar_items_excludes_the_item_itself(kind: str, toy) -> None:
    matrix, side = toy
    model = _make(kind).fit(matrix, user_features=side)
    items, scores = model.similar_items([100, 105], 3)
    assert items.shape == (2, 3)
    assert 100 not in items[0] and 105 not in items[1]
    with pytest.raises(KeyError, match="unknown item"):
        model.similar_items([42], 3)


@pytest.mark.parametrize("kind", KINDS)
def test_unfitted_and_bad_arguments(kind: str, toy) -> None:
    matrix, _ = toy
    with pytest.raises(NotFittedError):
        _make(kind).recommend([1], 3)
    model = _make(kind).fit(matrix)
    with pytest.raises(ValueError, match="n must be"):
        model.recommend(matrix.user_ids[:2], 0)
    with pytest.raises(ValueError, match="blocked must have shape"):
        model.recommend(matrix.user_ids[:2], 2, blocked=np.zeros((1, 8), dtype=bool))


def test_load_refuses_the_wrong_kind_and_junk(toy, tmp_path) -> None:
    matrix, _ = toy
    path = PopularityRecommender().fit(matrix).save(tmp_path / "pop.npz")
    with pytest.raises(ValueError, match="'popularity' model, expected 'als'"):
        ALSRecommender.load(path)
    junk = tmp_path / "junk.npz"
    np.savez(junk, a=np.zeros(3))
    with pytest.raises(ValueError, match="missing array"):
        Recommender.load(junk)


def test_learning_models_find_the_two_tastes(toy) -> None:
    matrix, side = toy
    for model in (_make("als"), MFRecommender(factors=4, epochs=40, batch_size=16, weight_decay=0.01)):
        model.fit(matrix, user_features=side)
        even, odd = matrix.user_ids[0], matrix.user_ids[1]
        items, _ = model.recommend([even, odd], 1)
        assert 100 <= items[0, 0] <= 103, type(model).__name__
        assert 104 <= items[1, 0] <= 107, type(model).__name__


def test_mf_cold_start_follows_side_features(toy) -> None:
    matrix, side = toy
    model = MFRecommender(factors=4, epochs=60, batch_size=16, weight_decay=0.01, user_dropout=0.5).fit(
        matrix, user_features=side
    )
    cold = pd.DataFrame({"taste": ["even", "odd"]}, index=[5001, 5002])
    items, _ = model.recommend([5001, 5002], 2, user_features=cold)
    assert ((items[0] >= 100) & (items[0] <= 103)).all()
    assert ((items[1] >= 104) & (items[1] <= 107)).all()
