"""SHAP values, their probability form, and reason codes that never name a protected attribute."""

from __future__ import annotations

import numpy as np
import pytest
import shap

from risk.explain import contributions, to_probability
from risk.features import FeatureSpec
from risk.models import Candidate, make_pipeline
from risk.reasons import reason_codes


@pytest.fixture(scope="module")
def fitted() -> tuple:
    rng = np.random.default_rng(0)
    x = np.c_[rng.standard_normal((800, 2)), rng.integers(0, 3, 800)]
    logit = -1.5 + x[:, 0] + 0.8 * (x[:, 2] == 2)
    y = (rng.random(800) < 1 / (1 + np.exp(-logit))).astype(int)
    pipe = make_pipeline(Candidate("lightgbm", "none"), [2], 3, quick=True).fit(x, y)
    return pipe.named_steps["model"].model_.booster_, x


def test_native_contributions_equal_tree_explainer(fitted: tuple) -> None:
    booster, x = fitted
    ours = contributions(booster, x[:50])
    theirs = shap.TreeExplainer(booster).shap_values(x[:50])
    theirs = theirs[1] if isinstance(theirs, list) else theirs
    assert np.allclose(ours.values, theirs, atol=1e-6)
    assert np.allclose(ours.logit, booster.predict(x[:50], raw_score=True), atol=1e-8)


def test_probability_shares_add_up_and_keep_signs() -> None:
    values = np.array([[0.5, -0.2, 0.1], [0.0, 0.0, 0.0]])
    shares = to_probability(values, 0.1, np.array([0.3, 0.1]))
    assert shares.sum(axis=1) == pytest.approx([0.2, 0.0])
    assert np.sign(shares[0]).tolist() == [1.0, -1.0, 1.0]


SPEC = FeatureSpec(
    numeric=["dti", "age", "credit_score"],
    categorical={"employment": ["employed", "unemployed"]},
    fill={"dti": 0.3, "age": 40.0, "credit_score": 680.0, "employment": 0.0},
)


def test_reasons_are_plain_words_strongest_first() -> None:
    reasons = reason_codes(SPEC, np.array([0.6, 30, 600, 1]), np.array([0.4, 0.0, 0.9, 0.2]))
    assert reasons == [
        "Credit score of 600 is lower than typical (680)",
        "Debt-to-income ratio of 0.60 is higher than typical (0.30)",
        "Employment is Unemployed",
    ]


def test_reasons_use_the_label_map_words_and_formats() -> None:
    spec = FeatureSpec(
        numeric=["tenure_months", "income", "prior_delinquencies"],
        categorical={"purpose": ["car", "debt_consolidation"], "employment": ["employed", "self_employed"]},
        fill={
            "tenure_months": 48.0,
            "income": 45000.0,
            "prior_delinquencies": 0.0,
            "purpose": 0.0,
            "employment": 0.0,
        },
    )
    x = np.array([3.0, 23000.0, 2.0, 1.0, 1.0])
    reasons = reason_codes(spec, x, np.array([0.5, 0.4, 0.3, 0.2, 0.1]), top=5)
    assert reasons == [
        "Months with the bank of 3 months is lower than typical (48 months)",
        "Income of 23,000 is lower than typical (45,000)",
        "Past delinquencies of 2 is higher than typical (0)",
        "Loan purpose is Debt consolidation",
        "Employment is Self-employed",
    ]
    assert not any("_" in r for r in reasons)


def test_reasons_never_name_a_protected_attribute() -> None:
    # even if a spec (wrongly) carried age as a feature with the largest push, no reason may name it
    reasons = reason_codes(SPEC, np.array([0.6, 22, 600, 1]), np.array([0.1, 2.0, 0.3, 0.2]), top=4)
    assert reasons and not any("age" in r.lower() for r in reasons)
    assert len(reasons) == 3


def test_no_reasons_when_nothing_raised_the_risk() -> None:
    assert reason_codes(SPEC, np.array([0.1, 30, 800, 0]), np.array([-0.3, 0.0, -0.5, -0.1])) == []
