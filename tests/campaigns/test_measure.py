"""Wilson and Newcombe intervals against Newcombe's (1998) published values; take-up, small groups and cost."""

from __future__ import annotations

import math

import numpy as np
import pytest

from campaigns import (
    MIN_ARM,
    cost_per_incremental,
    measure,
    measure_segments,
    newcombe_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe_1998_single_proportion(x: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(x, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "diff", "low", "high"),
    [
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
    ],
)
def test_newcombe_hybrid_score_matches_method_10(
    x1: int, n1: int, x2: int, n2: int, diff: float, low: float, high: float
) -> None:
    d, lo, hi = newcombe_interval(x1, n1, x2, n2)
    assert (d, lo, hi) == pytest.approx((diff, low, high), abs=5e-5)


def test_wider_confidence_gives_a_wider_interval() -> None:
    _, lo95, hi95 = newcombe_interval(56, 70, 48, 80, 0.95)
    _, lo99, hi99 = newcombe_interval(56, 70, 48, 80, 0.99)
    assert lo99 < lo95 and hi99 > hi95


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 3)
    assert all(math.isnan(v) for v in newcombe_interval(1, 0, 1, 10))


def test_measure_counts_each_arm() -> None:
    treated = np.array([True] * 70 + [False] * 80)
    responded = np.array([True] * 56 + [False] * 14 + [True] * 48 + [False] * 32)
    m = measure(treated, responded)
    assert (m.n_treated, m.n_control, m.responders_treated, m.responders_control) == (70, 80, 56, 48)
    assert m.takeup_treated == pytest.approx(0.8) and m.takeup_control == pytest.approx(0.6)
    assert (m.uplift_low, m.uplift_high) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert m.incremental == pytest.approx(0.2 * 70)
    assert not m.small


def test_small_groups_are_flagged_not_read() -> None:
    rng = np.random.default_rng(0)
    segments = np.array(["big"] * 2000 + ["tiny"] * 60)
    treated = rng.random(len(segments)) > 0.3
    responded = rng.random(len(segments)) < 0.2
    table = measure_segments(treated, responded, segments).set_index("segment")
    assert table.loc["tiny", "n_control"] < MIN_ARM
    assert bool(table.loc["tiny", "small"]) and not bool(table.loc["big", "small"])
    few = measure(np.array([True] * 100 + [False] * 100), np.array([True] * 2 + [False] * 198))
    assert few.small  # 2 responders in all: too few to read


def test_cost_per_incremental() -> None:
    treated = np.array([True] * 1000 + [False] * 1000)
    responded = np.r_[np.arange(1000) < 150, np.arange(1000) < 100]
    m = measure(treated, responded)
    econ = cost_per_incremental(m, cost_per_contact=2.0, margin=100.0)
    assert econ["incremental"] == pytest.approx(50.0)
    assert econ["cost_per_incremental"] == pytest.approx(2000.0 / 50.0)
    assert econ["net"] == pytest.approx(50 * 100.0 - 2000.0)
    low, high = econ["cost_per_incremental_range"]
    assert low < econ["cost_per_incremental"] < high
    flat = measure(treated, np.r_[np.arange(1000) < 100, np.arange(1000) < 100])
    assert cost_per_incremental(flat, 2.0)["cost_per_incremental"] is None
    with pytest.raises(ValueError, match="cost per contact"):
        cost_per_incremental(m, -1.0)
