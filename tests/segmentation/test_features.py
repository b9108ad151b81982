"""Feature computation on small hand-made logs, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.features import FEATURES, customer_features


@pytest.fixture()
def log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 2, 3],
            "ts": pd.to_datetime(
                ["2024-01-05", "2024-03-01", "2024-01-10", "2024-02-10", "2024-03-10", "2024-02-01"]
            ),
            "amount": [10.0, 30.0, 100.0, 5.0, 50.0, 20.0],
            "category": ["food", "travel", "food", "food", "salary", "food"],
            "channel": ["app", "app", "branch", "app", "online", "app"],
            "direction": ["debit", "debit", "debit", "debit", "credit", "debit"],
        }
    )


@pytest.fixture()
def profile() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "age": [30, 40, 50, 60],
            "income": [1e4, 2e4, 3e4, 4e4],
            "tenure_months": [1, 2, 3, 4],
        }
    )


def test_rfm_counts_only_spending(log: pd.DataFrame, profile: pd.DataFrame) -> None:
    f = customer_features(log, profile)
    assert f.loc[1, ["recency_days", "frequency", "monetary", "avg_ticket"]].tolist() == [
        10.0,
        2.0,
        40.0,
        20.0,
    ]
    # the 50.0 credit of customer 2 is income, not spending; reference date is the day after 2024-03-10
    assert f.loc[2, ["recency_days", "frequency", "monetary"]].tolist() == [30.0, 2.0, 105.0]
    assert f.loc[2, "avg_ticket"] == pytest.approx(52.5)


def test_customer_without_transactions_gets_zero_spending_and_full_recency(log, profile) -> None:
    f = customer_features(log, profile)
    assert f.loc[4, ["frequency", "monetary", "avg_ticket", "balance_trend"]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert f.loc[4, "recency_days"] == 66.0  # 2024-01-05 .. 2024-03-11


def test_mixes_are_shares_of_spending_transactions_and_profile_columns_pass_through(log, profile) -> None:
    f = customer_features(log, profile)
    # customer 1 spent 10 on food and 30 on travel: one transaction each, so half and half (not by amount)
    assert f.loc[1, "spend_food"] == pytest.approx(0.5)
    assert f.loc[1, "spend_travel"] == pytest.approx(0.5)
    assert f.loc[2, "spend_food"] == pytest.approx(1.0)
    assert "spend_salary" not in f.columns  # credits are not spending
    # customer 2: two spending transactions (branch, app); the salary credit arrived online and is left out
    assert f.loc[2, ["channel_app", "channel_branch", "channel_online"]].tolist() == pytest.approx(
        [0.5, 0.5, 0.0]
    )
    assert f.loc[3, ["age", "income", "tenure_months"]].tolist() == [50.0, 3e4, 3.0]


def test_balance_trend_is_slope_of_running_net_flow(log, profile) -> None:
    f = customer_features(log, profile)
    # customer 1: monthly flows -10, 0, -30 -> running -10, -10, -40 -> slope -15 per month
    assert f.loc[1, "balance_trend"] == pytest.approx(-15.0)
    # customer 2: -100, -5, +50 -> running -100, -105, -55 -> slope +22.5
    assert f.loc[2, "balance_trend"] == pytest.approx(22.5)


def test_holdings_give_flags_and_counts(log, profile) -> None:
    held = pd.DataFrame({"customer_id": [1, 1, 3], "family": ["card", "loan", "card"]})
    f = customer_features(log, profile, held)
    assert f.loc[1, ["n_products", "holds_card", "holds_loan"]].tolist() == [2.0, 1.0, 1.0]
    assert f.loc[2, ["n_products", "holds_card", "holds_loan"]].tolist() == [0.0, 0.0, 0.0]


def test_bare_log_gives_rfm_and_tenure_from_first_purchase(log) -> None:
    f = customer_features(log[["customer_id", "ts", "amount"]])
    assert list(f.index) == [1, 2, 3]
    assert f.loc[2, "frequency"] == 3.0  # no direction column: every row is spending
    assert f.loc[1, "tenure_months"] == pytest.approx(66 / 30.4375)
    assert set(f.columns) <= set(FEATURES)


def test_every_fixed_feature_is_documented(log, profile) -> None:
    f = customer_features(log, profile.assign(balance=1.0))
    fixed = [c for c in f.columns if not c.startswith(("spend_", "channel_", "holds_"))]
    assert set(fixed) <= set(FEATURES)


def test_features_are_finite(log, profile) -> None:
    assert np.isfinite(customer_features(log, profile).to_numpy()).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="ts"), "missing column"),
        (lambda d: d.assign(ts=None), "no valid dates"),
        (
            lambda d: d.assign(
                ts=["2024-01-05", "x", "2024-01-10", "2024-02-10", "2024-03-10", "2024-02-01"]
            ),
            "row",
        ),
        (lambda d: d.assign(amount=[10.0, -3.0, 1.0, 1.0, 1.0, -1.0]), "negative amounts"),
        (lambda d: d.assign(customer_id=[1, 1, 2, 99, 2, 3]), "not in the profile"),
        (lambda d: d.iloc[0:0], "no transactions"),
        (lambda d: d.assign(direction="sideways"), "direction"),
    ],
)
def test_bad_input_gives_clear_errors(log, profile, change, message) -> None:
    with pytest.raises(ValueError, match=message) as info:
        customer_features(change(log), profile, name="mylog.csv")
    assert "mylog.csv" in str(info.value) or "profile" in str(info.value)


def test_negative_amount_error_names_the_rows(log) -> None:
    with pytest.raises(ValueError, match=r"mylog.csv: column 'amount': negative amounts.*rows 2, 6"):
        customer_features(log.assign(amount=[10.0, -3.0, 1.0, 1.0, 1.0, -1.0]), name="mylog.csv")


def test_text_customer_ids_work_and_unknown_ones_are_named(log, profile) -> None:
    ids = {1: "c-1", 2: "c-2", 3: "c-3", 4: "c-4"}
    f = customer_features(
        log.assign(customer_id=log["customer_id"].map(ids)), profile.assign(customer_id=list(ids.values()))
    )
    assert f.loc["c-2", "monetary"] == 105.0
    bad = log.assign(customer_id=["c-1", "c-1", "zz", "c-2", "c-2", "c-3"])
    with pytest.raises(ValueError, match=r"customer ids not in the profile \(e.g. zz\).* row 3 "):
        customer_features(bad, profile.assign(customer_id=list(ids.values())))
