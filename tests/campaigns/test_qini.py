"""Qini curve and coefficient: a hand-worked example, ties, and oracle >= uplift >= random on a simulated campaign."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankdata import generate_bank
from campaigns import evaluate_campaigns, qini, qini_curve, true_qini_curve, uplift_at_top
from campaigns.qini import qini_coefficient


def test_hand_worked_qini() -> None:
    score = np.array([4.0, 3.0, 2.0, 1.0])
    treated = np.array([True, False, True, False])
    responded = np.array([True, False, False, True])
    curve = qini_curve(score, treated, responded)
    assert curve["share_targeted"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    # incremental responders after 1..4: 0 (no control yet), 1 - 0, 1 - 0 * 2, 1 - 1 * 2/2; over N = 4
    assert curve["incremental"].tolist() == pytest.approx([0.0, 0.0, 0.25, 0.25, 0.0])
    assert qini(score, treated, responded) == pytest.approx(0.125)
    assert qini(-score, treated, responded) < 0.125


def test_tied_scores_are_one_block() -> None:
    rng = np.random.default_rng(0)
    treated, responded = rng.random(500) < 0.5, rng.random(500) < 0.3
    curve = qini_curve(np.ones(500), treated, responded)
    assert len(curve) == 2
    assert qini(np.ones(500), treated, responded) == pytest.approx(0.0)


def test_true_qini_prefers_the_true_order() -> None:
    uplift = np.linspace(-0.05, 0.1, 200)
    best = qini_coefficient(true_qini_curve(uplift, uplift))
    assert best > 0 > qini_coefficient(true_qini_curve(-uplift, uplift))


def test_uplift_at_top_reads_the_top_share() -> None:
    score = np.arange(100.0)[::-1]
    treated = np.tile([True, False], 50)
    responded = np.zeros(100, dtype=bool)
    responded[:20:2] = True  # every treated customer of the top 20 responds, no control does
    assert uplift_at_top(score, treated, responded, 0.2) == pytest.approx(1.0)
    assert uplift_at_top(score, treated, responded, 1.0) == pytest.approx(0.2)


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate_campaigns(generate_bank(n_customers=6_000, seed=11), seed=11, control_share=0.3)


def test_oracle_beats_uplift_beats_random(report: dict) -> None:
    oracle, models = report["oracle"], report["models"]
    assert oracle["qini_true"] >= models["uplift"]["qini_true"] > models["random"]["qini_true"]
    assert models["uplift"]["qini_true"] > 0.25 * oracle["qini_true"]
    assert oracle["qini"] > models["random"]["qini"]
    assert oracle["true_uplift_top_10"] > oracle["true_uplift_top_30"]


def test_custom_segments_must_match_the_customers() -> None:
    bank = generate_bank(n_customers=1_000, seed=2)
    with pytest.raises(ValueError, match="segments has 10 labels"):
        evaluate_campaigns(bank, segments=pd.Series(["a"] * 10))
    report = evaluate_campaigns(
        bank, segments=pd.Series(np.where(bank.customers["income"] > 50_000, "hi", "lo"))
    )
    assert {row["segment"] for row in report["segments"]} == {"hi", "lo"}


def test_measured_figures_are_averaged_over_draws_of_the_same_campaign(report: dict) -> None:
    paired = report["uplift_vs_response"]
    assert paired["draws"] == report["data"]["replicates"] == 20
    up, resp = report["models"]["uplift"], report["models"]["response"]
    assert paired["qini_gap"] == pytest.approx(
        up["qini"] - resp["qini"]
    )  # paired draws: the gap of the means
    assert up["qini_sd"] > 0 and 0 <= paired["wins"] <= 20
    assert "averaged over 20 draws" in report["note"]


def test_one_draw_is_the_first_campaign_and_bad_replicates_are_refused() -> None:
    bank = generate_bank(n_customers=1_000, seed=2)
    one = evaluate_campaigns(bank, replicates=1)
    assert all(m["qini"] == m["qini_first_campaign"] and m["qini_sd"] is None for m in one["models"].values())
    for bad in (0, 201, 2.5, True):
        with pytest.raises(ValueError, match="replicates must be a whole number"):
            evaluate_campaigns(bank, replicates=bad)
