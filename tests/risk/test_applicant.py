"""One applicant's values checked against what the model knows: training ranges with a margin, known categories."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from risk import FeatureSpec, InvalidApplicant, allowed_range, check_applicant, infer_spec

FRAME = pd.DataFrame(
    {
        "amount": [1_000.0, 5_000.0, 20_000.0, 9_000.0],
        "term_months": [12, 36, 60, 24],
        "dti": [0.0, 0.2, 0.5, 0.3],
        "purpose": ["car", "home", "car", "education"],
    }
)
SPEC = infer_spec(FRAME)
GOOD = {"amount": 5_000.0, "term_months": 36, "dti": 0.25, "purpose": "car"}


def test_training_ranges_are_kept_in_the_spec_and_its_json() -> None:
    assert SPEC.ranges["amount"] == {"min": 1_000.0, "max": 20_000.0, "integer": True}
    assert SPEC.ranges["dti"]["integer"] is False
    assert FeatureSpec.from_dict(SPEC.to_dict()).ranges == SPEC.ranges
    old = {k: v for k, v in SPEC.to_dict().items() if k != "ranges"}  # an artifact from before ranges existed
    assert FeatureSpec.from_dict(old).ranges == {}


def test_the_allowed_range_widens_training_but_never_below_zero_where_training_never_was() -> None:
    assert allowed_range({"min": 12, "max": 60}) == pytest.approx((7.2, 64.8))
    assert allowed_range({"min": 0, "max": 0.5}) == pytest.approx((0.0, 0.55))
    assert allowed_range({"min": 1_000, "max": 20_000})[0] == pytest.approx(500.0)
    assert allowed_range({"min": -10, "max": 10}) == pytest.approx((-12.0, 12.0))


def test_good_values_come_back_in_model_order() -> None:
    assert list(check_applicant(SPEC, GOOD)) == SPEC.features


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("amount", math.nan, "finite"),
        ("amount", math.inf, "finite"),
        ("amount", -1e9, "below"),
        ("amount", 1e308, "above"),
        ("amount", "5000", "must be a number"),
        ("amount", True, "must be a number"),
        ("dti", -5, "below"),
        ("term_months", 0, "below"),
        ("term_months", 36.5, "whole number"),
        ("purpose", "free money", "not one of"),
        ("purpose", 3, "not one of"),
        ("amount", None, "required"),
    ],
)
def test_each_bad_value_is_named_with_the_reason(field, value, why) -> None:
    with pytest.raises(InvalidApplicant) as caught:
        check_applicant(SPEC, {**GOOD, field: value})
    assert set(caught.value.problems) == {field}
    assert why in caught.value.problems[field] and str(caught.value).startswith(f"{field}: ")


def test_every_problem_is_reported_at_once_and_unknown_fields_too() -> None:
    with pytest.raises(InvalidApplicant) as caught:
        check_applicant(SPEC, {**GOOD, "amount": -1.0, "purpose": "x", "salary": 10})
    assert set(caught.value.problems) == {"amount", "purpose", "salary"}
    assert "not a feature" in caught.value.problems["salary"]


def test_a_spec_without_ranges_still_refuses_what_is_not_a_finite_number() -> None:
    bare = FeatureSpec.from_dict({k: v for k, v in SPEC.to_dict().items() if k != "ranges"})
    assert check_applicant(bare, {**GOOD, "amount": 1e9})["amount"] == 1e9
    with pytest.raises(InvalidApplicant, match="amount: must be a finite number"):
        check_applicant(bare, {**GOOD, "amount": math.inf})
