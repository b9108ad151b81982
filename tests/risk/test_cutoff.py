"""Cost-based cut-off: confusion matrix, approval rate, expected loss and the cost-minimising threshold."""

from __future__ import annotations

import numpy as np
import pytest

from risk.cutoff import bayes_threshold, cost_curve, optimal_threshold, summarize_cutoff

Y = np.array([0, 0, 0, 1, 1])
P = np.array([0.05, 0.2, 0.6, 0.3, 0.9])


def test_summary_at_a_threshold_hand_computed() -> None:
    s = summarize_cutoff(Y, P, 0.25, cost_missed_default=10, cost_rejected_good=2)
    # declined: 0.6 (good -> fp), 0.3 and 0.9 (defaults -> tp); approved 0.05, 0.2 (good)
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 1, 0, 2)
    assert s.approval_rate == pytest.approx(0.4)
    assert s.default_rate_approved == 0.0
    assert s.expected_loss == pytest.approx(2.0)


def test_exposure_weights_missed_defaults() -> None:
    s = summarize_cutoff(
        Y, P, 0.95, cost_missed_default=1, cost_rejected_good=1, exposure=np.array([1, 1, 1, 100, 50])
    )
    assert s.fn == 2 and s.expected_loss == pytest.approx(150)


def test_optimal_threshold_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.25).astype(int)
    p = np.clip(0.25 + 0.3 * (y - 0.25) + 0.2 * rng.standard_normal(300), 0, 1)
    t = optimal_threshold(y, p, 5, 1)
    brute = min(np.r_[np.unique(p), 1.01], key=lambda c: summarize_cutoff(y, p, c, 5, 1).expected_loss)
    assert summarize_cutoff(y, p, t, 5, 1).expected_loss == pytest.approx(
        summarize_cutoff(y, p, brute, 5, 1).expected_loss
    )
    thresholds, costs = cost_curve(y, p, 5, 1)
    assert costs.min() == pytest.approx(summarize_cutoff(y, p, t, 5, 1).expected_loss)
    assert len(thresholds) == len(costs)


def test_when_defaults_cost_nothing_approve_everyone() -> None:
    assert optimal_threshold(Y, P, cost_missed_default=0, cost_rejected_good=1) == 1.0


def test_bayes_threshold_and_bad_costs() -> None:
    assert bayes_threshold(5, 1) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="costs"):
        bayes_threshold(-1, 1)
