"""PSI against hand-computed cases, identical vs shifted data, and the model monitor on a drifted later batch."""

from __future__ import annotations

import json

import numpy as np
import pytest

import risk
from bankdata import ArtifactStore, generate_later_batch
from risk.monitoring import ALERT, characteristic_stability, monitor, psi, psi_bins, quantile_edges, status


def test_psi_hand_computed_two_bins() -> None:
    expected = np.array([1.0, 1.0, 2.0, 2.0])  # median edge 1.5: shares 0.5 / 0.5
    actual = np.array([1.0, 2.0, 2.0, 2.0])  # shares 0.25 / 0.75
    want = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert psi(expected, actual, bins=2) == pytest.approx(want)


def test_psi_categorical_and_empty_bin_epsilon() -> None:
    e = np.array(["a"] * 5 + ["b"] * 5)
    a = np.array(["a"] * 10)
    table = psi_bins(e, a, categorical=True, eps=1e-4)
    b = table.set_index("bin").loc["b"]
    assert b["actual"] == 0.0 and b["psi"] == pytest.approx((1e-4 - 0.5) * np.log(1e-4 / 0.5))
    assert np.isfinite(table["psi"]).all()


def test_identical_data_is_stable_and_shifted_data_alerts() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=20_000)
    assert psi(train, train) == pytest.approx(0.0, abs=1e-12)
    same = psi(train, rng.normal(size=20_000))
    shifted = psi(train, rng.normal(loc=0.7, size=20_000))
    assert same < 0.01 and status(same) == "stable"
    assert shifted > ALERT and status(shifted) == "alert"


def test_quantile_edges_hold_a_tenth_each() -> None:
    values = np.arange(1000, dtype=float)
    edges = quantile_edges(values, 10)
    assert edges.size == 9
    counts = np.bincount(np.searchsorted(edges, values, side="left"))
    assert (counts >= 99).all() and (counts <= 101).all()
    assert quantile_edges(np.zeros(50)).size == 1  # a constant column gives one edge, not nine duplicates


def test_characteristic_stability_is_share_change_times_points() -> None:
    expected = np.array([1.0, 1.0, 2.0, 2.0])
    actual = np.array([2.0, 2.0, 2.0, 2.0])
    points = np.array([-1.0, -1.0, 3.0, 3.0])
    table = characteristic_stability(expected, actual, points, bins=2)
    # low bin: share 0.5 -> 0, points -1: +0.5; high bin: 0.5 -> 1, points 3: +1.5
    assert table["contribution"].tolist() == pytest.approx([0.5, 1.5])


def test_bad_psi_input_is_named() -> None:
    with pytest.raises(ValueError, match="rows on both sides"):
        psi(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        psi(np.array([np.nan]), np.array([1.0]))


def test_monitor_alerts_on_a_drifted_batch(small_bank, tmp_store: ArtifactStore) -> None:
    art = risk.train_from_bank(small_bank, tmp_store, quick=True)
    model = risk.RiskModel.load(art)
    train = risk.loan_frame(small_bank)
    steady = monitor(model, train, train)
    assert steady.score_psi == pytest.approx(0.0, abs=1e-9) and steady.alerts == []
    drifted = risk.loan_frame(generate_later_batch(small_bank, n_customers=6_000, seed=5, shift=1.5))
    report = monitor(model, train, drifted)
    assert report.score_psi > ALERT and report.alerts[0].startswith("score")
    assert report.mean_pd[1] > report.mean_pd[0]
    assert set(report.features["feature"]) == set(model.spec.features)
    # the stability terms of each feature add up to its score_shift
    sums = report.stability.groupby("feature")["contribution"].sum()
    assert np.allclose(
        report.features.set_index("feature")["score_shift"], sums.reindex(report.features["feature"])
    )
    json.dumps(report.to_dict())
