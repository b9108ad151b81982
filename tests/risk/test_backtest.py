"""The back-test: predicted vs realised default rate by month and band, the Jeffreys interval, the one-sided
binomial test and its traffic lights, and the realised rate against the demo bank's true PD."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import risk
from bankdata import Artifact, ArtifactStore, Bank, generate_bank, generate_cohort
from risk.backtest import backtest_loans, backtest_version, binomial_p_value, jeffreys_interval, traffic_light
from risk.bankbook import join_customers


@dataclass(frozen=True)
class Book:
    """A bank, a version trained on it and the bank's tables with later months appended."""

    bank: Bank
    artifact: Artifact
    later: Bank
    loans: pd.DataFrame
    customers: pd.DataFrame
    truth: pd.DataFrame


def _book(bank: Bank, store: ArtifactStore, *, customers: int, pd_shift: float = 0.0) -> Book:
    artifact = risk.train_from_bank(bank, store, quick=True)
    later = generate_cohort(
        bank.loans["issued_at"].max(),
        n_customers=customers,
        seed=99,
        months=12,
        customer_offset=int(bank.customers["customer_id"].max()),
        loan_offset=int(bank.loans["loan_id"].max()),
        pd_shift=pd_shift,
    )
    return Book(
        bank,
        artifact,
        later,
        pd.concat([bank.loans, later.loans], ignore_index=True),
        pd.concat([bank.customers, later.customers], ignore_index=True),
        pd.concat([bank.truth.loan_pd, later.truth.loan_pd], ignore_index=True),
    )


@pytest.fixture(scope="module")
def small(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Book:
    return _book(small_bank, ArtifactStore(tmp_path_factory.mktemp("bt-small")), customers=3_000)


def test_jeffreys_interval_matches_the_beta_posterior_integrated_numerically() -> None:
    defaults, n = 7, 120
    low, high = jeffreys_interval(defaults, n)
    grid = np.linspace(0.0, 1.0, 2_000_001)[1:-1]
    a, b = defaults + 0.5, n - defaults + 0.5
    log_density = (
        (a - 1) * np.log(grid)
        + (b - 1) * np.log1p(-grid)
        - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    )
    cdf = np.cumsum(np.exp(log_density)) * (grid[1] - grid[0])
    assert np.interp(low, grid, cdf) == pytest.approx(0.025, abs=2e-4)
    assert np.interp(high, grid, cdf) == pytest.approx(0.975, abs=2e-4)
    assert low < defaults / n < high
    assert jeffreys_interval(0, 50)[0] == 0.0 and jeffreys_interval(50, 50)[1] == 1.0  # the edges
    with pytest.raises(ValueError, match="defaults <= n"):
        jeffreys_interval(5, 3)


def test_binomial_p_value_is_the_upper_tail_and_the_lights_follow_the_documented_rule() -> None:
    n, d, p = 40, 6, 0.08
    tail = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(d, n + 1))
    assert binomial_p_value(d, n, p) == pytest.approx(tail, rel=1e-9)
    assert binomial_p_value(0, n, p) == pytest.approx(1.0)
    assert [traffic_light(v) for v in (1.0, 0.05, 0.0499, 0.01, 0.0099, 0.0)] == [
        "green",
        "green",
        "amber",
        "amber",
        "red",
        "red",
    ]
    with pytest.raises(ValueError, match="p-value"):
        traffic_light(float("nan"))


def test_backtest_numbers_equal_a_groupby_of_the_scored_later_loans(small: Book) -> None:
    report = backtest_version(small.artifact, small.loans, small.customers, truth=small.truth)
    assert report["window_found_by"] == "metadata" and report["training_loans"] == len(small.bank.loans)
    assert report["trained_through"] == small.bank.loans["issued_at"].max().strftime("%Y-%m-%d")
    frame = risk.loan_frame(small.later).assign(true_pd=small.later.truth.loan_pd["true_pd"].to_numpy())
    frame["pd"] = risk.RiskModel.load(small.artifact).predict_pd(frame)
    frame["band"] = np.asarray(risk.risk_band(frame["pd"].to_numpy()).astype(str))
    frame["month"] = frame["issued_at"].dt.to_period("M").astype(str)
    assert report["later_loans"] == len(frame) and report["has_true_pd"]
    for key, records in (("band", report["bands"]), ("month", report["months"])):
        expected = frame.groupby(key).agg(
            n=("pd", "size"),
            mean_pd=("pd", "mean"),
            realised=("defaulted", "mean"),
            true_pd=("true_pd", "mean"),
        )
        got = pd.DataFrame(records).set_index(key)
        assert list(got.index) == list(expected.index)
        pd.testing.assert_frame_equal(
            got[list(expected.columns)], expected, check_dtype=False, check_names=False
        )
        assert np.allclose(got["calibration_in_the_large"], got["mean_pd"] - got["realised"])
    for b in report["bands"]:
        assert b["jeffreys_low"] <= b["realised"] <= b["jeffreys_high"]
        assert b["light"] == traffic_light(binomial_p_value(b["defaults"], b["n"], b["mean_pd"]))
    month = report["months"][0]
    rows = frame[frame["month"] == month["month"]]
    assert month["roc_auc"] == pytest.approx(
        risk.roc_auc(rows["defaulted"].to_numpy(), rows["pd"].to_numpy())
    )
    train_pd = risk.RiskModel.load(small.artifact).predict_pd(risk.loan_frame(small.bank))
    assert month["psi"] == pytest.approx(risk.psi(train_pd, rows["pd"].to_numpy()))


def test_a_month_of_one_class_has_no_auc_and_concept_drift_turns_the_lights_red(
    small: Book, small_bank: Bank, tmp_path: Path
) -> None:
    model = risk.RiskModel.load(small.artifact)
    later = risk.loan_frame(small.later)
    first = later[later["issued_at"].dt.month == later["issued_at"].dt.month.iloc[0]].assign(defaulted=0)
    report = backtest_loans(model, risk.loan_frame(small_bank), first)
    assert report["months"][0]["roc_auc"] is None and report["overall"]["realised"] == 0.0
    assert {b["light"] for b in report["bands"]} == {
        "green"
    }  # fewer defaults than predicted: one-sided, green

    drifted = _book(small_bank, ArtifactStore(tmp_path), customers=3_000, pd_shift=1.5)
    doc = backtest_version(drifted.artifact, drifted.loans, drifted.customers, truth=drifted.truth)
    assert (
        doc["overall"]["realised"] > doc["overall"]["mean_pd"]
        and doc["overall"]["calibration_in_the_large"] < 0
    )
    assert [b["light"] for b in doc["bands"] if b["n"] >= 200] and all(
        b["light"] == "red" for b in doc["bands"] if b["n"] >= 200
    )


def test_trained_through_in_the_metadata_sets_the_window(small: Book) -> None:
    extra = {**small.artifact.metadata["extra"], "trained_through": "2025-06-30 23:59:59"}
    artifact = dataclasses.replace(small.artifact, metadata={**small.artifact.metadata, "extra": extra})
    report = backtest_version(artifact, small.loans, small.customers, truth=small.truth)
    issued = small.loans["issued_at"]
    assert report["window_found_by"] == "metadata" and report["trained_through"] == "2025-06-30"
    assert report["training_loans"] == int((issued < "2025-07-01").sum())
    assert report["later_loans"] == int((issued >= "2025-07-01").sum()) and report["first_month"] == "2025-07"


def test_a_version_saved_before_trained_through_finds_its_loans_by_fingerprint(small: Book) -> None:
    extra = {k: v for k, v in small.artifact.metadata["extra"].items() if k != "trained_through"}
    artifact = dataclasses.replace(small.artifact, metadata={**small.artifact.metadata, "extra": extra})
    report = backtest_version(artifact, small.loans, small.customers, truth=small.truth)
    ours = backtest_version(small.artifact, small.loans, small.customers, truth=small.truth)
    assert report["window_found_by"] == "fingerprint" and report["training_loans"] == len(small.bank.loans)
    assert report["bands"] == ours["bands"] and report["later_loans"] == ours["later_loans"]


def test_no_later_loans_or_another_bank_is_a_clear_message(small: Book) -> None:
    with pytest.raises(ValueError, match="ledgerlight demo extend --months 12"):
        backtest_version(small.artifact, small.bank.loans, small.bank.customers)
    other = generate_bank(n_customers=3_500, seed=8)
    with pytest.raises(ValueError, match="not the loans .* was trained on"):
        backtest_version(small.artifact, other.loans, other.customers)
    assert len(join_customers(small.loans, small.customers)) == len(small.loans)


def test_realised_rate_of_every_band_covers_its_true_pd(tmp_path_factory: pytest.TempPathFactory) -> None:
    """On an 8,000-customer bank and 12 later months (about 6,000 loans) each band's Jeffreys interval of the
    realised rate holds the band's mean true PD: the back-test recovers the ground truth. The check uses the
    99.9% interval (five bands at 95% would miss one by chance about one seed in five; the report keeps 95%)."""
    book = _book(
        generate_bank(n_customers=8_000, seed=3),
        ArtifactStore(tmp_path_factory.mktemp("bt-big")),
        customers=8_000,
    )
    report = backtest_version(book.artifact, book.loans, book.customers, truth=book.truth)
    assert report["later_loans"] > 5_000 and len(report["bands"]) == 5
    for b in report["bands"]:
        low, high = jeffreys_interval(b["defaults"], b["n"], level=0.999)
        assert low <= b["true_pd"] <= high, b
        assert b["light"] == "green"
