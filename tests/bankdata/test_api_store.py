"""API keys, their token buckets and API events in the database (no app), on SQLite and (``DATABASE_URL_TEST``)
PostgreSQL."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bankdata import (
    DataValidationError,
    add_api_key,
    append_events,
    list_api_keys,
    read_tables,
    revoke_api_key,
    use_api_key,
    write_bank,
)

T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path: Path, small_bank) -> str:
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    if request.param == "postgres":
        url = os.environ.get("DATABASE_URL_TEST", "")
        if not url:
            pytest.skip("DATABASE_URL_TEST is not set")
        from bankdata import api_keys_table, engine_for

        with engine_for(url).begin() as conn:  # the keys outlive a bank (like users): start with none
            api_keys_table.drop(conn, checkfirst=True)
    write_bank(small_bank, url)
    return url


def test_a_bucket_allows_the_burst_then_refills_at_the_rate(url: str) -> None:
    add_api_key("k", "h" * 64, "risk", rate_per_s=2.0, burst=3, now=T0, url=url)
    waits = [use_api_key("h" * 64, T0, url)[1] for _ in range(4)]
    assert waits[:3] == [0, 0, 0] and waits[3] == pytest.approx(0.5)
    assert use_api_key("h" * 64, T0 + timedelta(seconds=0.5), url)[1] == 0  # one token back after 1/rate
    assert use_api_key("h" * 64, T0 + timedelta(seconds=0.6), url)[1] > 0
    later = T0 + timedelta(hours=1)  # never more than the burst saved up
    assert [use_api_key("h" * 64, later, url)[1] == 0 for _ in range(4)] == [True, True, True, False]


def test_unknown_and_revoked_keys_are_not_found_and_names_are_never_reused(url: str) -> None:
    assert use_api_key("x" * 64, T0, url) == (None, 0.0)
    add_api_key("k", "a" * 64, "marketing", 1.0, 1, T0, url)
    assert revoke_api_key("k", T0, url) and not revoke_api_key("k", T0, url)
    assert use_api_key("a" * 64, T0, url)[0] is None
    with pytest.raises(ValueError, match="exists already"):
        add_api_key("k", "b" * 64, "marketing", 1.0, 1, T0, url)
    assert [(k.name, k.revoked_at is not None) for k in list_api_keys(url)] == [("k", True)]


def _events(ids: list[str], **change) -> pd.DataFrame:
    n = len(ids)
    frame = pd.DataFrame(
        {
            "event_id": ids,
            "customer_id": [1 + i for i in range(n)],
            "product_id": [1] * n,
            "ts": ["2025-01-01T00:00:00"] * n,
            "event": ["view"] * n,
        }
    )
    return frame.assign(**change)


def test_events_are_stored_once_by_event_id(url: str) -> None:
    before = len(read_tables(("interactions",), url)["interactions"])
    assert append_events(_events(["a", "b"]), "test", url).accepted == 2
    again = append_events(_events(["a", "b", "c"]), "test", url)
    assert (again.accepted, again.duplicates, again.duplicate_ids) == (1, 2, ("a", "b"))
    assert len(read_tables(("interactions",), url)["interactions"]) == before + 3


def test_a_bad_batch_stores_nothing_and_names_column_and_rows(url: str) -> None:
    before = len(read_tables(("interactions",), url)["interactions"])
    for frame, column, rows in [
        (_events(["a", "b"], event=["view", "buy"]), "event", [2]),
        (_events(["a", "a"]), "event_id", [1, 2]),
        (_events(["a", "b"], customer_id=[1, 10**9]), "customer_id", [2]),
    ]:
        with pytest.raises(DataValidationError) as caught:
            append_events(frame, "test", url)
        assert [(p.column, p.rows) for p in caught.value.problems] == [(column, rows)]
    assert len(read_tables(("interactions",), url)["interactions"]) == before
    append_events(_events(["z"]), "test", url)
    with pytest.raises(DataValidationError, match="other values"):
        append_events(_events(["z"], event="click"), "test", url)


def test_replacing_the_bank_forgets_its_events(url: str, small_bank) -> None:
    assert append_events(_events(["r"]), "test", url).accepted == 1
    write_bank(small_bank, url)  # a new bank: its customers' events may carry the same ids again
    assert append_events(_events(["r"]), "test", url).accepted == 1


def test_concurrent_retries_of_a_batch_never_double_count(url: str) -> None:
    import threading

    before = len(read_tables(("interactions",), url)["interactions"])
    batches = [_events([f"{k % 2}-{i}" for i in range(50)]) for k in range(4)]  # two batches, each sent twice
    done = []
    threads = [
        threading.Thread(target=lambda b=b: done.append(append_events(b, "test", url))) for b in batches
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((d.accepted, d.duplicates) for d in done) == [(0, 50), (0, 50), (50, 0), (50, 0)]
    assert len(read_tables(("interactions",), url)["interactions"]) == before + 100
