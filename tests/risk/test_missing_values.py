"""Missing numbers stay NaN for LightGBM (its trees learn where they go); the models that need numbers impute."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.features import FeatureSpec
from risk.loanbook import prepare_loan_book
from risk.models import Candidate, make_pipeline
from risk.recourse import find_recourse
from risk.training import imputation_record, train_loan_book


def book_frame(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """Income missing for a fifth of the applicants, and those default far more often than the median earner."""
    rng = np.random.default_rng(seed)
    income = rng.normal(40_000, 8_000, n)
    absent = rng.random(n) < 0.2
    p = np.where(absent, 0.6, 1 / (1 + np.exp((income - 40_000) / 6_000)) * 0.3)
    return pd.DataFrame(
        {
            "income": np.where(absent, np.nan, income),
            "debt": rng.gamma(2.0, 1_000.0, n),
            "purpose": rng.choice(["car", "home", "travel"], n),
            "status": np.where(rng.random(n) < p, "bad", "good"),
        }
    )


def test_the_book_keeps_nan_and_lightgbm_takes_it_while_logistic_imputes() -> None:
    book = prepare_loan_book(book_frame(), "status", "bad")
    assert book.spec.missing == "keep" and np.isnan(book.x[:, 0]).sum() == book.frame["income"].isna().sum()
    cats, width = book.spec.categorical_indices, book.x.shape[1]
    tree = make_pipeline(Candidate("lightgbm", "none"), cats, width, quick=True)
    linear = make_pipeline(Candidate("logistic", "none"), cats, width, quick=True)
    smote = make_pipeline(
        Candidate("lightgbm", "smote"), cats, width, quick=True, n_minority=int(book.y.sum())
    )
    assert (
        "impute" not in tree.named_steps and "impute" in linear.named_steps and "impute" in smote.named_steps
    )
    for pipe in (tree, linear, smote):
        p = pipe.fit(book.x, book.y).predict_proba(book.x)[:, 1]
        assert np.isfinite(p).all()
    # the tree keeps the missing rows apart from the median earners: they default more
    missing = np.isnan(book.x[:, 0])
    p_tree = tree.predict_proba(book.x)[:, 1]
    at_median = tree.predict_proba(book.spec.filled(book.x))[:, 1]
    assert p_tree[missing].mean() > at_median[missing].mean() + 0.1


def test_spec_round_trips_its_missing_mode_and_older_specs_fill() -> None:
    book = prepare_loan_book(book_frame(100), "status", "bad")
    again = FeatureSpec.from_dict(book.spec.to_dict())
    assert again == book.spec and again.missing == "keep"
    old = {k: v for k, v in book.spec.to_dict().items() if k != "missing"}
    assert FeatureSpec.from_dict(old).missing == "fill"
    x = FeatureSpec.from_dict(old).encode(
        pd.DataFrame({"income": [np.nan], "debt": [1.0], "purpose": ["car"]})
    )
    assert x[0, 0] == pytest.approx(book.spec.fill["income"])
    with pytest.raises(ValueError, match="missing must be one of"):
        FeatureSpec(numeric=[], categorical={}, fill={}, missing="zero")


def test_one_applicant_with_a_missing_number_scores_as_the_batch_and_its_shap_adds_up() -> None:
    book = prepare_loan_book(book_frame(), "status", "bad")
    trained = train_loan_book(book, quick=True, models=("lightgbm", "logistic"), imbalance=("none",))
    model = trained.model
    assert model.spec.missing == "keep"
    row = {"income": None, "debt": 2_500.0, "purpose": "home"}
    batch = model.predict_pd(pd.DataFrame([row]))[0]
    one = model.explain(row)
    assert one.pd == pytest.approx(batch, abs=1e-12)
    raw = model.booster.predict(model.spec.encode_row(row), raw_score=True)[0]
    assert one.base_logit + one.shap_logit.sum() == pytest.approx(raw, abs=1e-9)
    assert one.values[0] == "missing"
    median = model.predict_pd(pd.DataFrame([{**row, "income": model.spec.fill["income"]}]))[0]
    assert batch > median  # not scored as a median earner
    assert "kept missing" in imputation_record(model.spec, book.frame)["income"]["filled_with"]
    assert not np.isnan(trained.sample["x"]).any()  # plots get the median


def test_a_smote_champion_is_served_with_the_median_it_was_fitted_on() -> None:
    book = prepare_loan_book(book_frame(), "status", "bad")
    model = train_loan_book(book, quick=True, models=("lightgbm",), imbalance=("smote",)).model
    assert model.spec.missing == "fill"
    row = {"income": None, "debt": 2_500.0, "purpose": "home"}
    median = {**row, "income": model.spec.fill["income"]}
    assert model.explain(row).pd == pytest.approx(model.explain(median).pd, abs=1e-12)


def test_recourse_moves_what_the_applicant_gave_and_never_a_missing_number() -> None:
    book = prepare_loan_book(book_frame(), "status", "bad")
    model = train_loan_book(book, quick=True, models=("lightgbm",), imbalance=("none",)).model
    row = {"income": None, "debt": 9_000.0, "purpose": "home"}
    only_missing = find_recourse(model, row, 0.01, actionable={"income": "increase"})
    assert only_missing.changes == [] and not only_missing.feasible
    both = find_recourse(model, row, 0.01, actionable={"income": "increase", "debt": "decrease"})
    assert both.evaluated > 0 and all(c.feature == "debt" and np.isfinite(c.after) for c in both.changes)
