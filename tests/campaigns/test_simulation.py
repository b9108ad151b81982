"""The demo bank's campaign simulation: known true uplift, sure things and do-not-disturb, seeded draws."""

from __future__ import annotations

import numpy as np
import pytest

from bankdata import Bank, simulate_campaign, true_uplift


def test_true_uplift_is_seeded_and_bounded(small_bank: Bank) -> None:
    truth = true_uplift(small_bank, "Credit card", seed=3)
    assert len(truth) == small_bank.n_customers
    assert truth.equals(true_uplift(small_bank, "Credit card", seed=3))
    assert not truth["uplift"].equals(true_uplift(small_bank, "Credit card", seed=4)["uplift"])
    treated_p = truth["baseline"] + truth["uplift"]
    assert truth["baseline"].between(0, 1).all() and treated_p.between(0, 1).all()


def test_baseline_is_affinity_scaled_to_the_window(small_bank: Bank) -> None:
    truth = true_uplift(small_bank, "Savings account", months=12)
    aff = small_bank.truth.affinity
    assert np.allclose(truth["baseline"], aff.loc[aff["product_id"] == 2, "affinity"].to_numpy())
    assert (true_uplift(small_bank, "Savings account", months=3)["baseline"] < truth["baseline"]).all()


def test_sure_things_and_do_not_disturb_exist(small_bank: Bank) -> None:
    truth = true_uplift(small_bank, "Credit card")
    high = truth["baseline"] > truth["baseline"].quantile(0.9)
    low = truth["baseline"] < truth["baseline"].quantile(0.5)
    assert truth.loc[high, "uplift"].mean() < 0.5 * truth.loc[low, "uplift"].mean()  # sure things gain little
    assert (truth["uplift"] < 0).mean() > 0.02  # some are put off by contact
    by_persona = truth.groupby("persona")["uplift"].mean()
    assert by_persona["young_digital"] > 0 > by_persona["retired_saver"]  # the effect varies by persona


def test_the_effect_varies_by_product(small_bank: Bank) -> None:
    card = true_uplift(small_bank, "Credit card").groupby("persona")["uplift"].mean()
    fund = true_uplift(small_bank, "Investment fund").groupby("persona")["uplift"].mean()
    assert card["struggling_borrower"] > 0 > fund["struggling_borrower"]  # keen on cards, put off by funds
    assert card["retired_saver"] < 0 < fund["retired_saver"]


def test_responses_follow_the_truth(small_bank: Bank) -> None:
    truth = true_uplift(small_bank, "Credit card")
    treated = np.arange(len(truth)) % 2 == 0
    draws = [simulate_campaign(truth, treated, seed=s) for s in range(8)]
    rate_t = np.mean([d.loc[d["treated"], "responded"].mean() for d in draws])
    rate_c = np.mean([d.loc[~d["treated"], "responded"].mean() for d in draws])
    expected_t = (truth["baseline"] + truth["uplift"])[treated].mean()
    assert rate_t == pytest.approx(expected_t, abs=0.01)
    assert rate_c == pytest.approx(truth["baseline"][~treated].mean(), abs=0.01)
    assert draws[0].equals(simulate_campaign(truth, treated, seed=0))
    assert not draws[0]["responded"].equals(draws[1]["responded"])


def test_bad_inputs_are_named(small_bank: Bank) -> None:
    with pytest.raises(ValueError, match="unknown product"):
        true_uplift(small_bank, "Yacht")
    with pytest.raises(ValueError, match="months"):
        true_uplift(small_bank, "Credit card", months=0)
    truth = true_uplift(small_bank, "Credit card")
    with pytest.raises(ValueError, match="booleans"):
        simulate_campaign(truth, np.ones(3, dtype=bool))
