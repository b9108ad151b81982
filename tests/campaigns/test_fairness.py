"""The adverse-impact ratio of an audience by group (campaigns.fairness)."""

from __future__ import annotations

import math

import pytest

from campaigns.fairness import DI_FLAG, adverse_impact


def test_ratio_is_each_groups_rate_over_the_most_favoured_large_group() -> None:
    population = {"F": 1000, "M": 800, "X": 10}
    selected = {"F": 100, "M": 40, "X": 9}  # X has the highest rate but is too small to be the reference
    table, reference = adverse_impact(selected, population)
    assert reference == "F"
    rows = table.set_index("group")
    assert list(table["group"]) == ["F", "M", "X"]  # largest first
    assert rows.at["F", "rate"] == pytest.approx(0.1) and rows.at["F", "ratio"] == pytest.approx(1.0)
    assert rows.at["M", "ratio"] == pytest.approx(0.05 / 0.1)
    assert bool(rows.at["M", "flag"]) and not bool(rows.at["F", "flag"])
    assert bool(rows.at["X", "small"]) and rows.at["X", "ratio"] == pytest.approx(9.0)


def test_the_flag_and_the_reference_size_are_monitorings() -> None:
    from campaigns.fairness import MIN_REFERENCE
    from risk.fairness import DI_FLAG as MONITORING_FLAG
    from risk.fairness import MIN_REFERENCE_ROWS

    assert DI_FLAG == MONITORING_FLAG and MIN_REFERENCE == MIN_REFERENCE_ROWS


def test_a_group_just_at_four_fifths_is_not_flagged_and_an_unselected_group_is() -> None:
    table, _ = adverse_impact({"a": 50, "b": 40}, {"a": 100, "b": 100, "c": 100})
    rows = table.set_index("group")
    assert rows.at["b", "ratio"] == pytest.approx(0.8) and not bool(rows.at["b", "flag"])
    assert rows.at["c", "selected"] == 0 and rows.at["c", "ratio"] == 0.0 and bool(rows.at["c", "flag"])


def test_no_large_group_gives_no_reference_and_no_flag() -> None:
    table, reference = adverse_impact({"a": 5}, {"a": 10, "b": 12})
    assert reference is None and not table["flag"].any() and table["ratio"].isna().all()


def test_nobody_selected_gives_no_ratio() -> None:
    table, reference = adverse_impact({}, {"a": 100, "b": 100})
    assert reference == "a" and table["ratio"].isna().all() and not table["flag"].any()


@pytest.mark.parametrize(
    ("selected", "population", "message"),
    [
        ({"z": 1}, {"a": 10}, "not in the population"),
        ({"a": 11}, {"a": 10}, "more customers selected"),
        ({"a": -1}, {"a": 10}, "negative"),
    ],
)
def test_inconsistent_counts_are_refused(selected, population, message) -> None:
    with pytest.raises(ValueError, match=message):
        adverse_impact(selected, population)


def test_an_empty_group_has_no_rate() -> None:
    table, reference = adverse_impact({"a": 40}, {"a": 100, "b": 0})
    assert reference == "a" and math.isnan(table.set_index("group").at["b", "rate"])
