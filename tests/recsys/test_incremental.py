"""Incremental ALS and EASE: new purchases change the affected customer's recommendations, nobody else's, without a refit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankdata import Bank, DataValidationError
from recsys import (
    ALSRecommender,
    EASERecommender,
    InteractionMatrix,
    bank_interactions,
    customer_side_features,
)
from recsys.incremental import affected_history, fold_in_users, partial_fit_users, with_held


@pytest.fixture(scope="module")
def fitted(small_bank: Bank) -> tuple[ALSRecommender, pd.DataFrame]:
    log = bank_interactions(small_bank)[["user_id", "item_id", "weight"]]
    matrix = InteractionMatrix.from_frame(log, item_ids=small_bank.products["product_id"].to_numpy())
    model = ALSRecommender(factors=3, regularization=30.0, alpha=1.0, iterations=5, n_jobs=1)
    return model.fit(matrix), log


def _purchase(customer: int, items: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"user_id": customer, "item_id": items, "weight": 8.0})


def test_new_purchases_change_the_customers_recommendations(
    fitted: tuple[ALSRecommender, pd.DataFrame],
) -> None:
    model, log = fitted
    customer = int(log["user_id"].iloc[0])
    ranked = model.recommend([customer], 12)[0][0]
    bought = ranked[ranked >= 0][-2:]  # the two products the model thought least likely
    before, before_scores = model.recommend([customer], 5)
    updated = partial_fit_users(model, affected_history(log, _purchase(customer, bought)))
    # the held rows are unchanged here, so any change comes from the refreshed factors alone
    after, after_scores = updated.recommend([customer], 5)
    assert not np.allclose(before_scores, after_scores)
    assert not np.array_equal(before, after)
    assert set(bought) & set(after[0])  # what they just bought now ranks among their top 5
    row = updated.user_ids_.searchsorted(customer)
    assert not np.allclose(updated.user_factors_[row], model.user_factors_[row])


def test_only_the_affected_customers_move(fitted: tuple[ALSRecommender, pd.DataFrame]) -> None:
    model, log = fitted
    customer = int(log["user_id"].iloc[0])
    updated = partial_fit_users(model, affected_history(log, _purchase(customer, model.item_ids_[:1])))
    changed = np.flatnonzero(np.abs(updated.user_factors_ - model.user_factors_).sum(axis=1) > 0)
    assert updated.user_ids_[changed].tolist() == [customer]
    np.testing.assert_array_equal(updated.item_factors_, model.item_factors_)
    assert model.user_factors_ is not updated.user_factors_  # the served model is not touched


def test_held_products_are_no_longer_recommended(fitted: tuple[ALSRecommender, pd.DataFrame]) -> None:
    model, log = fitted
    customer = int(log["user_id"].iloc[1])
    top = model.recommend([customer], 3)[0][0]
    new = _purchase(customer, top[:1])
    updated = partial_fit_users(model, affected_history(log, new), held=new[["user_id", "item_id"]])
    assert top[0] not in updated.recommend([customer], 5)[0][0]


def test_a_new_customer_gets_personal_factors(fitted: tuple[ALSRecommender, pd.DataFrame]) -> None:
    model, log = fitted
    newcomer = int(log["user_id"].max()) + 1000
    updated = partial_fit_users(model, _purchase(newcomer, model.item_ids_[:2]))
    assert len(updated.user_ids_) == len(model.user_ids_) + 1
    assert np.all(np.diff(updated.user_ids_) > 0)
    cold = model.recommend([newcomer], 5)[1]
    warm = updated.recommend([newcomer], 5)[1]
    assert not np.allclose(cold, warm)  # popularity scores before, ALS scores after


def test_with_held_updates_any_model_and_skips_unknown_users(
    fitted: tuple[ALSRecommender, pd.DataFrame],
) -> None:
    model, log = fitted
    customer = int(log["user_id"].iloc[2])
    copy = partial_fit_users(model, log[log["user_id"] == customer])  # a copy to mutate
    item = int(copy.item_ids_[-1])
    held = pd.DataFrame({"user_id": [customer, 10**9], "item_id": [item, item]})
    with_held(copy, held)
    assert copy.held_mask([customer])[0][-1]
    assert 10**9 not in copy.user_ids_


def test_bad_input_is_named(fitted: tuple[ALSRecommender, pd.DataFrame]) -> None:
    model, _ = fitted
    with pytest.raises(DataValidationError, match="item_id"):
        partial_fit_users(model, _purchase(1, np.array([999_999])), source="new.csv")
    with pytest.raises(DataValidationError, match="weight"):
        partial_fit_users(model, pd.DataFrame({"user_id": [1], "item_id": [1]}))
    with pytest.raises(TypeError, match="ALSRecommender"):
        partial_fit_users(object(), _purchase(1, model.item_ids_[:1]))  # type: ignore[arg-type]


# --- EASE: the customer's input row is rebuilt, the item-item matrix kept -------------------------------------------


@pytest.fixture(scope="module")
def fitted_ease(small_bank: Bank) -> tuple[EASERecommender, pd.DataFrame, pd.DataFrame]:
    log = bank_interactions(small_bank)[["user_id", "item_id", "weight"]]
    matrix = InteractionMatrix.from_frame(log, item_ids=small_bank.products["product_id"].to_numpy())
    side = customer_side_features(small_bank.customers)
    return EASERecommender(regularization=100.0).fit(matrix, user_features=side), log, side


def test_ease_fold_in_of_the_same_history_changes_nothing(fitted_ease) -> None:
    model, log, side = fitted_ease
    customer = int(log["user_id"].iloc[0])
    same = fold_in_users(model, log[log["user_id"] == customer], user_features=side)
    assert (same.inputs_ != model.inputs_).nnz == 0
    assert same.weights_ is model.weights_  # no refit


def test_ease_recommendations_follow_a_new_purchase_at_once(fitted_ease) -> None:
    model, log, side = fitted_ease
    customer = int(log["user_id"].iloc[3])
    ranked = model.recommend([customer], 12)[0][0]
    bought = ranked[ranked >= 0][-1:]  # the product EASE thought least likely
    new = _purchase(customer, bought)
    updated = fold_in_users(
        model, affected_history(log, new), held=new[["user_id", "item_id"]], user_features=side
    )
    before, before_scores = model.recommend([customer], 5)
    after, after_scores = updated.recommend([customer], 5)
    assert bought[0] not in after[0]  # now held
    assert not np.allclose(before_scores, after_scores)  # the new product's weights now add to the others
    expected = updated.inputs_[updated.user_ids_.searchsorted(customer)] @ model.weights_
    np.testing.assert_allclose(updated.score([customer])[0], np.asarray(expected).ravel(), rtol=1e-6)
    others = updated.user_ids_[updated.user_ids_ != customer]
    np.testing.assert_array_equal(updated.score(others), model.score(others))
    col = int(model.item_ids_.searchsorted(bought[0]))
    assert not model.held_mask([customer])[0][col] and updated.held_mask([customer])[0][col]


def test_ease_new_customer_gets_a_row_with_side_features(fitted_ease) -> None:
    model, log, side = fitted_ease
    newcomer = int(log["user_id"].max()) + 1000
    features = side.iloc[[0]].set_axis([newcomer])
    updated = fold_in_users(model, _purchase(newcomer, model.item_ids_[:1]), user_features=features)
    assert np.all(np.diff(updated.user_ids_) > 0) and newcomer in updated.user_ids_
    cold = model.score([newcomer], features)[0]
    warm = updated.score([newcomer])[0]
    assert not np.allclose(cold, warm)  # the purchase adds its weights to the side features' scores
    np.testing.assert_allclose(warm - cold, np.log1p(8.0) * model.weights_[0], rtol=1e-5, atol=1e-6)


def test_ease_fold_in_refuses_unknown_products(fitted_ease) -> None:
    model, log, _ = fitted_ease
    with pytest.raises(DataValidationError, match="full retrain"):
        fold_in_users(model, _purchase(int(log["user_id"].iloc[0]), np.array([10**9])))


def test_a_slice_of_users_scores_and_folds_as_the_whole_model(fitted, fitted_ease) -> None:
    """``users_only``: what the events worker folds a few customers with, instead of copying every user's state."""
    from recsys import users_only

    als, log = fitted
    ease, _log, side = fitted_ease
    ids = np.unique(log["user_id"].to_numpy())[[3, 50, 400]]
    for model in (als, ease):
        part = users_only(model, np.append(ids, -1))  # an unknown id is left out
        assert part.user_ids_.tolist() == ids.tolist()
        np.testing.assert_array_equal(part.score(ids, side), model.score(ids, side))
        np.testing.assert_array_equal(part.held_mask(ids), model.held_mask(ids))
    new = _purchase(int(ids[0]), np.array([int(log["item_id"].iloc[0])]))
    history = affected_history(log, new)
    history = history[history["user_id"] == ids[0]]
    whole = partial_fit_users(als, history)
    sliced = partial_fit_users(users_only(als, ids[:1]), history)
    np.testing.assert_allclose(sliced.score(ids[:1]), whole.score(ids[:1]), rtol=1e-5)
    whole_e = fold_in_users(ease, history, user_features=side)
    sliced_e = fold_in_users(users_only(ease, ids[:1]), history, user_features=side)
    np.testing.assert_allclose(sliced_e.score(ids[:1], side), whole_e.score(ids[:1], side), rtol=1e-5)
