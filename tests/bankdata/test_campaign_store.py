"""Campaigns in the database: stored with their holdout, responses recorded once, outcomes read back, and the
demo bank's simulated responses drawn from its ground truth."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from bankdata import (
    Bank,
    campaign_outcomes,
    create_campaign,
    holdings_responses,
    read_campaign,
    read_campaigns,
    record_responses,
    simulated_responses,
    treated_customers,
    write_bank,
)
from bankdata._db import append_load


def _members(n: int = 40) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    return pd.DataFrame({
        "customer_id": ids, "stratum": np.where(ids % 2 == 0, "even", "odd"),
        "arm": np.where(ids % 5 == 0, "control", "treated"), "score": ids / n,
    })  # fmt: skip


def _create(url: str, members: pd.DataFrame | None = None, **kw: object):
    args = {"name": "Card spring", "product_id": 3, "source": "segments", "audience": {"segments": [1, 2]},
            "control_share": 0.2, "seed": 5, "members": _members() if members is None else members,
            "created_by": "mia", "url": url, **kw}  # fmt: skip
    return create_campaign(**args)


def test_a_campaign_is_stored_with_its_members_and_read_back(url: str) -> None:
    c = _create(url)
    assert (c.n_treated, c.n_control) == (32, 8)
    back = read_campaign(c.campaign_id, url)
    assert back == c
    assert back.audience == {"segments": [1, 2]}
    out = campaign_outcomes(c.campaign_id, url)
    assert len(out) == 40 and not out["responded"].any()
    assert out.loc[out["customer_id"] == 5, "arm"].item() == "control"
    treated = treated_customers(c.campaign_id, url)
    assert len(treated) == 32 and treated["score"].is_monotonic_decreasing  # best first
    second = _create(url, name="Card autumn")
    assert [x.campaign_id for x in read_campaigns(url)] == [second.campaign_id, c.campaign_id]  # newest first


@pytest.mark.parametrize("bad, message", [
    ({"name": "  "}, "needs a name"),
    ({"control_share": 1.0}, "strictly between 0 and 1"),
    ({"members": _members().assign(arm="control")}, "at least one treated"),
    ({"members": pd.concat([_members(), _members().head(1)])}, "appears twice"),
    ({"members": _members().assign(arm="maybe")}, "unknown arm"),
    ({"source": "sms"}, "unknown campaign source"),
    ({"window_days": 0}, "response window"),
])  # fmt: skip
def test_a_bad_campaign_is_refused_and_nothing_is_stored(url: str, bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _create(url, **bad)
    assert read_campaigns(url) == []


def test_responses_are_recorded_once_and_outsiders_are_counted_not_stored(url: str) -> None:
    c = _create(url)
    t0 = c.created_at + timedelta(days=3)
    rows = pd.DataFrame({
        "customer_id": [1, 2, 2, 5, 999, 3],
        "responded_at": [t0, t0, t0 + timedelta(days=1), t0, t0, c.created_at + timedelta(days=200)],
    })  # fmt: skip
    done = record_responses(c.campaign_id, rows, source="file", url=url)
    assert (done.recorded, done.duplicates, done.not_members, done.outside_window) == (3, 1, 1, 1)
    assert "3 response(s) recorded" in done.describe() and "not in the campaign" in done.describe()
    again = record_responses(c.campaign_id, rows, source="file", url=url)
    assert again.recorded == 0 and again.duplicates == 4  # a retried file never double-counts
    out = campaign_outcomes(c.campaign_id, url).set_index("customer_id")
    assert out.loc[[1, 2, 5], "responded"].all() and not out.loc[3, "responded"]
    assert out.loc[5, "arm"] == "control"  # controls' take-up is recorded too: it is the baseline


def test_responses_of_an_unknown_campaign_or_without_dates_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="no campaign 7"):
        record_responses(7, pd.DataFrame({"customer_id": [1], "responded_at": ["2026-01-01"]}), source="file",
                         url=url)  # fmt: skip
    c = _create(url)
    with pytest.raises(ValueError, match="responded_at"):
        record_responses(c.campaign_id, pd.DataFrame({"customer_id": [1]}), source="file", url=url)
    with pytest.raises(ValueError, match="unknown response source"):
        record_responses(c.campaign_id, pd.DataFrame({"customer_id": [1], "responded_at": [c.created_at]}),
                         source="phone", url=url)  # fmt: skip


def test_responses_from_new_holdings_and_simulated_ones_come_from_the_bank(
    url: str, small_bank: Bank
) -> None:
    write_bank(small_bank, url)
    customers = small_bank.customers["customer_id"].to_numpy()[:600]
    members = pd.DataFrame({"customer_id": customers, "stratum": "all",
                            "arm": np.where(np.arange(600) % 2 == 0, "treated", "control")})  # fmt: skip
    c = _create(url, members=members, product_id=3)
    bought = pd.DataFrame({"customer_id": customers[:3], "product_id": [3, 3, 4], "event": "purchase",
                           "ts": [c.created_at + timedelta(days=1)] * 3})  # fmt: skip
    append_load("interactions", bought, url)
    found = holdings_responses(c.campaign_id, url)
    assert sorted(found["customer_id"]) == sorted(customers[:2])  # product 4 is another product
    sims = simulated_responses(c.campaign_id, small_bank, url=url)
    assert sims["customer_id"].isin(customers).all()
    assert (sims["responded_at"] > pd.Timestamp(c.created_at)).all()
    assert (sims["responded_at"] < pd.Timestamp(c.window_ends_at)).all()
    pd.testing.assert_frame_equal(sims, simulated_responses(c.campaign_id, small_bank, url=url))  # seeded
    assert 0 < len(sims) < 600
    write_bank(small_bank, url)  # a replaced bank takes its campaigns with it
    assert read_campaigns(url) == []
