"""Metric functions against hand-computed cases and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from risk.metrics import all_metrics, brier, calibration_bins, decision_metrics, ks_statistic, pr_auc, roc_auc

Y = np.array([0, 0, 1, 1])
S = np.array([0.1, 0.4, 0.35, 0.8])


def test_roc_auc_hand_computed() -> None:
    # pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) lose, (0.8,0.1) win, (0.8,0.4) win -> 3/4
    assert roc_auc(Y, S) == pytest.approx(0.75)


def test_roc_auc_counts_ties_half() -> None:
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_pr_auc_hand_computed() -> None:
    # ranked: 0.8 (pos) P=1, 0.4 (neg), 0.35 (pos) P=2/3 -> AP = (1 + 2/3) / 2
    assert pr_auc(Y, S) == pytest.approx((1 + 2 / 3) / 2)


def test_ks_hand_computed() -> None:
    # threshold between 0.1 and 0.35: cdf_neg = 1/2, cdf_pos = 0 -> 0.5; between 0.4 and 0.8: 1 vs 1/2 -> 0.5
    assert ks_statistic(Y, S) == pytest.approx(0.5)
    assert ks_statistic(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)


def test_brier_hand_computed() -> None:
    assert brier(Y, S) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_decision_metrics_hand_computed() -> None:
    m = decision_metrics(Y, S, threshold=0.3)  # flags 0.4 (fp), 0.35 (tp), 0.8 (tp)
    assert m == pytest.approx({"accuracy": 0.75, "precision": 2 / 3, "recall": 1.0, "f1": 0.8})


def test_nothing_flagged_gives_zero_precision_not_an_error() -> None:
    assert decision_metrics(Y, S, threshold=0.99)["precision"] == 0.0


def test_agrees_with_scikit_learn_on_random_scores_with_ties() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.2).astype(int)
    s = np.round(rng.random(500) + 0.3 * y, 2)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s))


def test_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.zeros(3), np.array([0.1, 0.2, 0.3]))


def test_all_metrics_keys_and_calibration_bins() -> None:
    assert set(all_metrics(Y, S, 0.5)) == {
        "roc_auc",
        "pr_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "ks",
        "brier",
    }
    pred, obs, size = calibration_bins(Y, S, n_bins=2)
    assert (
        pred == pytest.approx([0.225, 0.6]) and obs == pytest.approx([0.5, 0.5]) and size.tolist() == [2, 2]
    )
