"""``demo extend``: later months of new loans with outcomes and true PD, appended after the bank's last
activity;
refused on your own data and for months outside 1..36."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from bankdata import bank_identity, extend_demo_bank, generate_bank, read_audit, read_bank, write_bank
from ledgerlight.cli import main


@pytest.fixture()
def demo_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    write_bank(generate_bank(n_customers=600, seed=5, months=6), url=url)
    return url


def test_extend_appends_the_next_months_with_outcomes_and_truth(demo_url: str) -> None:
    before = read_bank(demo_url, with_truth=True)
    identity = bank_identity(demo_url)
    last = max(before.loans["issued_at"].max(), before.transactions["ts"].max())
    first = extend_demo_bank(3, customers=500, url=demo_url)
    assert first.start == "2025-07-01" and first.end == "2025-09-30"
    mid = read_bank(demo_url, with_truth=True)
    new = mid.loans.iloc[len(before.loans) :]
    assert len(new) == first.loans > 0 and (new["issued_at"] > last).all()
    assert set(new["issued_at"].dt.to_period("M").astype(str)) == {"2025-07", "2025-08", "2025-09"}
    assert set(new["defaulted"]) <= {0, 1} and new["defaulted"].sum() == first.defaults
    truth = mid.truth.loan_pd.set_index("loan_id")["true_pd"]
    assert new["loan_id"].isin(truth.index).all() and truth.loc[new["loan_id"]].between(0, 1).all()
    assert mid.customers["customer_id"].is_unique and mid.n_customers == before.n_customers + 500
    assert set(new["customer_id"]) <= set(mid.customers["customer_id"].iloc[before.n_customers :])
    assert mid.truth.personas["customer_id"].is_unique and len(mid.truth.personas) == mid.n_customers
    pd.testing.assert_frame_equal(mid.loans.iloc[: len(before.loans)], before.loans)  # nothing rewritten
    assert (
        bank_identity(demo_url) == identity
    )  # the same bank: its versions stay promotable and back-testable

    second = extend_demo_bank(2, customers=300, url=demo_url)  # the next months, not the same ones again
    assert second.start == "2025-10-01" and second.seed != first.seed
    after = read_bank(demo_url, with_truth=True)
    assert after.loans["loan_id"].is_unique and after.customers["customer_id"].is_unique
    assert (after.loans["issued_at"].iloc[len(mid.loans) :] >= pd.Timestamp("2025-10-01")).all()
    assert len(after.truth.loan_pd) == len(after.loans)


def test_extend_is_refused_on_your_own_bank_and_for_months_out_of_range(
    tmp_path: Path, demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for months in (0, 37):
        with pytest.raises(ValueError, match="between 1 and 36"):
            extend_demo_bank(months, url=demo_url)
        assert main(["demo", "extend", "--months", str(months)]) == 2
        assert "--months must lie between 1 and 36" in capsys.readouterr().err
    own_url = f"sqlite:///{tmp_path / 'own.db'}"
    own = dataclasses.replace(generate_bank(n_customers=200, seed=1, months=3), truth=None)
    write_bank(own, url=own_url)
    assert bank_identity(own_url).kind == "own"
    with pytest.raises(ValueError, match="only the demo bank can be extended"):
        extend_demo_bank(2, url=own_url)
    monkeypatch.setenv("DATABASE_URL", own_url)
    assert main(["demo", "extend", "--months", "3"]) == 2
    err = capsys.readouterr().err
    assert "only the demo bank can be extended" in err and "ledgerlight load loans FILE" in err
    assert len(read_bank(own_url).loans) == len(own.loans)


def test_cli_extend_says_what_it_appended_and_about_the_back_test(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "extend", "--months", "2", "--customers", "200"]) == 0
    out = capsys.readouterr().out
    assert "appended 2 month(s), 2025-07-01 to 2025-08-31: 200 new customers" in out
    assert "ledgerlight risk backtest" in out  # no risk model yet: how to back-test once there is one
    audit = read_audit(demo_url)
    assert audit.iloc[0]["action"] == "extend_demo_bank" and audit.iloc[0]["user"].startswith("cli:")


def test_default_extension_carries_about_half_the_banks_loans_a_month(demo_url: str) -> None:
    before = read_bank(demo_url).loans
    ext = extend_demo_bank(6, url=demo_url)
    ratio = (ext.loans / 6) / (len(before) / 6)  # the bank's 6 months against the 6 appended
    assert 0.35 < ratio < 0.65, ratio
    again = extend_demo_bank(6, url=demo_url)  # the average fell a little: a smaller cohort, no compounding
    assert again.customers < ext.customers
