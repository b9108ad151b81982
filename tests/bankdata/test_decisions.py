"""Decision records: appended with a hash chain, read back as written, and any edit or deletion is detected."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bankdata import (
    NewDecision,
    append_decision,
    append_decisions,
    canonical_json,
    read_decision,
    read_decisions,
    sha256_text,
    verify_chain,
)
from bankdata._db import engine_for
from bankdata._decisions import APPEND_ONLY_TRIGGERS


def tamper(url: str, sql: str) -> None:
    """Run ``sql`` as an owner of the database would: dropping the append-only triggers first."""
    with engine_for(url).begin() as conn:
        on = " ON decision_records" if conn.dialect.name == "postgresql" else ""
        for name in APPEND_ONLY_TRIGGERS:
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}{on}"))
        conn.execute(sa.text(sql))


def _decision(customer_id: int, pd: float = 0.3, decision: str = "decline") -> NewDecision:
    return NewDecision(
        recorded_by="tester",
        customer_id=customer_id,
        loan_id=customer_id * 10,
        inputs={"amount": 12_000.5, "term_months": 36, "purpose": "car", "balance": None},
        model="risk",
        model_version="20260101T000000Z",
        model_sha256="a" * 64,
        pd=pd,
        cutoff=0.2,
        decision=decision,
        reasons=[{"code": "dti", "text": "Debt-to-income ratio of 0.45 is higher than typical"}],
        recourse={"feasible": True, "changes": [{"feature": "amount", "before": 12_000.5, "after": 9_000.0}]},
    )


def test_records_read_back_as_written_and_chain(url: str) -> None:
    assert read_decisions(url) == [] and verify_chain(url).rows == 0 and verify_chain(url).ok
    first = append_decision(_decision(1, pd=0.1234567890123456789), url)
    more = append_decisions([_decision(2), _decision(3, pd=0.05, decision="approve")], url)
    assert [first, *more] == [1, 2, 3]
    r = read_decision(1, url)
    assert r is not None and r.pd == 0.1234567890123456789 and r.cutoff == 0.2  # doubles, bit for bit
    assert r.inputs == _decision(1).inputs and r.reasons == list(_decision(1).reasons)
    assert r.input_hash == sha256_text(canonical_json(r.inputs)) and r.declined
    assert r.prev_hash == "0" * 64 and read_decision(2, url).prev_hash == r.row_hash
    assert [d.id for d in read_decisions(url, limit=2)] == [3, 2]
    assert [d.id for d in read_decisions(url, customer_id=2)] == [2]
    assert read_decision(99, url) is None
    report = verify_chain(url)
    assert (
        report.ok
        and report.rows == 3
        and report.head_id == 3
        and report.head_hash == read_decision(3, url).row_hash
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE decision_records SET pd = 0.01 WHERE id = 2",
        "UPDATE decision_records SET decision = 'approve' WHERE id = 2",
        "UPDATE decision_records SET reasons = '[]' WHERE id = 2",
    ],
)
def test_an_edited_row_breaks_the_chain(url: str, sql: str) -> None:
    append_decisions([_decision(1), _decision(2), _decision(3)], url)
    tamper(url, sql)
    report = verify_chain(url)
    assert not report.ok
    assert report.problems == ["decision 2: its content does not match its hash (the row was edited)"]


def test_a_deleted_row_and_a_rewritten_hash_are_detected(url: str) -> None:
    append_decisions([_decision(1), _decision(2), _decision(3)], url)
    tamper(url, "DELETE FROM decision_records WHERE id = 2")
    problems = verify_chain(url).problems
    assert any("expected id 2" in p for p in problems) and any("does not chain" in p for p in problems)
    # an edit that also rewrites the row's own hash breaks the next link
    tamper(url, "UPDATE decision_records SET pd = 0.9, row_hash = 'f' WHERE id = 1")
    assert any(p.startswith("decision 3: does not chain") for p in verify_chain(url).problems)


@pytest.mark.parametrize(
    "sql", ["UPDATE decision_records SET pd = 0.01", "DELETE FROM decision_records WHERE id = 1"]
)
def test_the_database_refuses_updates_and_deletes(url: str, sql: str) -> None:
    append_decisions([_decision(1), _decision(2)], url)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine_for(url).begin() as conn:
        conn.execute(sa.text(sql))
    assert verify_chain(url).ok and read_decision(1, url).pd == 0.3


def test_concurrent_writers_keep_one_chain(url: str) -> None:
    def write(worker: int) -> list[int]:
        return [append_decision(_decision(worker * 100 + i), url) for i in range(8)]

    with ThreadPoolExecutor(4) as pool:
        ids = [i for batch in pool.map(write, range(1, 5)) for i in batch]
    assert sorted(ids) == list(range(1, 33))
    report = verify_chain(url)
    assert report.ok and report.rows == 32


def test_bad_decisions_are_refused_and_nothing_is_written(url: str) -> None:
    with pytest.raises(ValueError, match="approve, decline"):
        append_decision(_decision(1, decision="maybe"), url)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        append_decision(_decision(1, pd=1.5), url)
    with pytest.raises(ValueError, match="JSON"):
        append_decisions(
            [_decision(1), NewDecision(**{**_decision(2).__dict__, "inputs": {"x": float("nan")}})], url
        )
    assert read_decisions(url) == []
