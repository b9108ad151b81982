"""The one label map: feature and category words, unknown names spelled out, numbers formatted by their meaning."""

from __future__ import annotations

import math

import pytest

from bankdata import category_label, feature_label, format_number, format_value, header_labels, value_kind


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("dti", "Debt-to-income ratio"),
        ("prior_delinquencies", "Past delinquencies"),
        ("tenure_months", "Months with the bank"),
        ("credit_score", "Credit score"),
        ("pd", "Probability of default"),
        ("spend_dining", "Share of spending on dining"),
        ("channel_atm", "Share of spending by ATM"),
        ("holds_card", "Holds a card product"),
        ("holds_insurance", "Holds an insurance product"),
        ("loyalty_points_total", "Loyalty points total"),  # unknown: underscores to spaces, capital first
        ("x", "X"),
    ],
)
def test_feature_labels(name: str, label: str) -> None:
    assert feature_label(name) == label


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("debt_consolidation", "Debt consolidation"),
        ("self_employed", "Self-employed"),
        ("home_improvement", "Home improvement"),
        ("car", "Car"),
        ("very_long__odd_value", "Very long odd value"),  # unknown
        ("North East", "North East"),  # already words: kept
        (None, ""),
        (math.nan, ""),
    ],
)
def test_category_labels(value: object, label: str) -> None:
    assert category_label(value) == label


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("age", 46.0, "46 years"),
        ("age", 1, "1 year"),
        ("income", 45123.4, "45,123"),
        ("amount", 1_250_000, "1,250,000"),
        ("balance", -12.5, "-12.50"),
        ("tenure_months", 18.2, "18 months"),
        ("recency_days", 3, "3 days"),
        ("pd", 0.1234, "12.3%"),
        ("spend_dining", 0.25, "25.0%"),
        ("interest_rate", 7.25, "7.2%"),
        ("dti", 0.456, "0.46"),
        ("prior_delinquencies", 2.0, "2"),
        ("n_products", 3.0, "3"),
        ("credit_score", 681.6, "682"),
        ("holds_card", 1.0, "Yes"),
        ("employment", "self_employed", "Self-employed"),
        ("something_new", 0.012345, "0.0123"),
        ("interest_rate", "12.44", "12.4%"),  # a number written as text
        ("amount", "32070", "32,070"),
        ("something_new", 1234.5, "1,234.50"),
        ("income", None, ""),
        ("income", math.nan, ""),
    ],
)
def test_values_are_formatted_by_meaning(name: str, value: object, shown: str) -> None:
    assert format_value(name, value) == shown


def test_kinds_and_plain_numbers() -> None:
    assert value_kind("income") == "money" and value_kind("age") == "years" and value_kind("dti") == "ratio"
    assert value_kind("spend_travel") == "share" and value_kind("unheard_of") == "number"
    assert format_number(0.5, "percent") == "50.0%" and format_number(12, "count") == "12"
    assert format_number("n/a", "money") == "n/a"


def test_header_labels_never_make_duplicate_headers() -> None:
    labels = header_labels(["customer_id", "dti", "Debt-to-income ratio"])
    assert labels["customer_id"] == "Customer id"
    assert len(set(labels.values())) == 3  # the clash keeps its raw names
    assert header_labels(["segment"], {"segment": "Segment number"}) == {"segment": "Segment number"}
