"""The database on SQLite: round trip with public dtypes, one transaction per write, the app's tables, clear errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bankdata import TABLES, Bank, DataValidationError, generate_bank, read_bank, write_bank
from bankdata import _db as db


@pytest.fixture(scope="module")
def tiny_bank() -> Bank:
    """300 customers: enough rows for the transaction tests, quick to write."""
    return generate_bank(n_customers=300, seed=11)


def bank_tables(bank: Bank) -> dict[str, pd.DataFrame]:
    tables = {name: bank.table(name) for name in TABLES}
    if bank.truth is not None:
        tables |= {f"truth_{n}": getattr(bank.truth, n) for n in ("personas", "loan_pd", "affinity")}
    return tables


def assert_same_bank(got: Bank, expected: Bank) -> None:
    for name, df in bank_tables(expected).items():
        pd.testing.assert_frame_equal(bank_tables(got)[name], df, check_exact=False, rtol=1e-12, obj=name)


def test_round_trip_keeps_values_and_public_dtypes(small_bank: Bank, url: str) -> None:
    written = write_bank(small_bank, url)
    assert written["transactions"] == len(small_bank.transactions) and written["truth_affinity"] > 0
    back = read_bank(url, with_truth=True)
    assert_same_bank(back, small_bank)
    assert back.customers["customer_id"].dtype == "int64"
    assert back.transactions["ts"].dtype == "datetime64[ns]"
    assert back.loans["purpose"].dtype == "str"
    assert read_bank(url).truth is None  # ground truth only on request


def test_category_columns_are_accepted_on_write(tiny_bank: Bank, url: str) -> None:
    tx = tiny_bank.transactions.astype(
        {"category": "category", "channel": "category", "direction": "category"}
    )
    write_bank(replace(tiny_bank, transactions=tx), url)
    back = read_bank(url)
    assert back.transactions["category"].dtype == "str"
    assert back.transactions["category"].tolist() == tiny_bank.transactions["category"].tolist()


def test_timestamps_keep_sub_second_precision(tiny_bank: Bank, url: str) -> None:
    ts = tiny_bank.transactions["ts"].copy()
    ts.iloc[0] = pd.Timestamp("2025-03-04 05:06:07.123456")
    write_bank(replace(tiny_bank, transactions=tiny_bank.transactions.assign(ts=ts), truth=None), url)
    assert read_bank(url).transactions["ts"].iloc[0] == pd.Timestamp("2025-03-04 05:06:07.123456")


def test_failure_half_way_leaves_the_previous_bank(
    tiny_bank: Bank, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bank(tiny_bank, url)
    before = db.table_counts(url)
    real_insert = db._insert_frame

    def failing_insert(conn, table, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if table.name == "loans":  # customers and transactions are already inserted by now
            raise RuntimeError("disk full")
        return real_insert(conn, table, *args, **kwargs)

    monkeypatch.setattr(db, "_insert_frame", failing_insert)
    smaller = Bank(**{n: tiny_bank.table(n).head(10) for n in TABLES})
    with pytest.raises(RuntimeError, match="disk full"):
        write_bank(smaller, url)
    assert db.table_counts(url) == before
    assert_same_bank(read_bank(url, with_truth=True), tiny_bank)


def test_failure_on_an_empty_database_creates_nothing(
    tiny_bank: Bank, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "_insert_frame", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        write_bank(tiny_bank, url)
    assert db.table_counts(url) == {}


def test_invalid_bank_is_refused_before_writing(tiny_bank: Bank, url: str) -> None:
    loans = tiny_bank.loans.copy()
    loans.loc[4, "amount"] = -1.0
    with pytest.raises(DataValidationError, match=r"loans: column 'amount': .* in row 5 \(1 row\)"):
        write_bank(replace(tiny_bank, loans=loans), url)
    assert db.table_counts(url) == {}


def test_replace_false_refuses_a_database_that_holds_a_bank(tiny_bank: Bank, url: str) -> None:
    write_bank(tiny_bank, url, replace=False)  # empty: fine
    with pytest.raises(db.DatabaseError, match=r"already holds a bank \(customers: 300 rows"):
        write_bank(tiny_bank, url, replace=False)


def test_append_load_adds_rows_and_refuses_ids_already_stored(url: str) -> None:
    products = pd.DataFrame(
        {"product_id": [1, 2], "name": ["Saver", "Gold card"], "family": ["deposit", "card"]}
    )
    assert db.append_load("products", products, url) == 2
    more = pd.DataFrame({"product_id": [3, 2], "name": ["Mortgage", "Again"], "family": ["loan", "card"]})
    with pytest.raises(DataValidationError) as info:
        db.append_load("products", more, url, source="products.csv")
    assert (
        str(info.value) == "products.csv: column 'product_id': ids already in the database in row 2 (1 row)"
    )
    assert db.table_counts(url)["products"] == 2
    assert db.append_load("products", more.iloc[:1], url) == 1
    with db.engine_for(url).connect() as conn:  # rows come back in the order they were loaded
        stored = db._read_table(conn, "products", db.SCHEMAS["products"])
    assert stored["product_id"].tolist() == [1, 2, 3]


def test_append_load_validates(url: str) -> None:
    bad = pd.DataFrame({"customer_id": [1], "product_id": [2], "ts": ["2025-01-01"], "event": ["like"]})
    with pytest.raises(DataValidationError, match="interactions: column 'event': unknown values 'like'"):
        db.append_load("interactions", bad, url)
    assert db.table_counts(url).get("interactions", 0) == 0


def test_read_bank_on_an_empty_database(url: str) -> None:
    with pytest.raises(db.DatabaseError, match=r"holds no bank .* `ledgerlight demo generate`"):
        read_bank(url)


def test_unreachable_database_is_a_clear_error_without_password(tmp_path: Path) -> None:
    with pytest.raises(db.DatabaseError, match="cannot reach the sqlite database"):
        db.table_counts(f"sqlite:///{tmp_path}")  # a folder, not a file
    with pytest.raises(db.DatabaseError) as info:
        db.table_counts("postgresql://bank:s3cret@db.example.invalid:5432/ledger")
    assert "'ledger' on db.example.invalid:5432" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_segment_names_are_inserted_then_updated(url: str) -> None:
    assert db.segment_names("v1", url) == {}
    db.set_segment_name("v1", 0, "Young savers", "ana", url)
    db.set_segment_name("v1", 1, "Big spenders", "ana", url)
    db.set_segment_name("v1", 0, " Thrifty ", "ben", url)
    db.set_segment_name("v2", 0, "Students", "ben", url)
    assert db.segment_names("v1", url) == {0: "Thrifty", 1: "Big spenders"}
    assert db.segment_names("v2", url) == {0: "Students"}
    with pytest.raises(ValueError, match="segment 2: the name is empty"):
        db.set_segment_name("v1", 2, "  ", "ana", url)


def test_audit_log_newest_first(url: str) -> None:
    db.append_audit("ana", "rename_segment", "segment 0", "Young savers", url)
    db.append_audit("ben", "load", "loans", "120 rows", url)
    log = db.read_audit(url)
    assert log["user"].tolist() == ["ben", "ana"]
    assert log["ts"].dtype == "datetime64[ns]"
    assert db.read_audit(url, limit=1)["action"].tolist() == ["load"]


def test_users_are_unique(url: str) -> None:
    uid = db.add_user("ana", "pbkdf2:sha256$x", "analyst", url)
    user = db.get_user("ana", url)
    assert user is not None and user["id"] == uid and user["role"] == "analyst"
    assert db.get_user("nobody", url) is None
    with pytest.raises(ValueError, match="user 'ana' already exists"):
        db.add_user("ana", "h", "admin", url)


def test_write_bank_keeps_the_app_tables(tiny_bank: Bank, url: str) -> None:
    db.set_segment_name("v1", 3, "Students", "ana", url)
    write_bank(tiny_bank, url)
    write_bank(tiny_bank, url)
    assert db.segment_names("v1", url) == {3: "Students"}


def test_app_tables_dropped_under_a_pooled_connection_are_created_again(url: str) -> None:
    """A connection that once found every app table must not trust that after the tables were dropped."""
    db.append_audit("ana", "sign-in", "app", "creates the tables", url)
    db.append_audit("ana", "sign-in", "app", "finds them, and the connection remembers", url)
    with db.engine_for(url).begin() as conn:
        db.metadata.drop_all(conn)
    db.append_audit("ana", "sign-in", "app", "again", url)
    assert db.read_audit(url, limit=10)["detail"].tolist() == ["again"]


def test_concurrent_sqlite_writers_wait_instead_of_failing(tmp_path) -> None:
    """Several gunicorn workers append audit rows to one SQLite file at once: none may fail with 'locked'."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'bank.db'}"
    db.append_audit("setup", "create", "tables", "", url)
    writer = (
        "import sys\nfrom bankdata import append_audit, read_audit\n"
        "for i in range(40):\n"
        "    read_audit(sys.argv[1], limit=5)\n"
        "    append_audit(f'w{sys.argv[2]}', 'write', str(i), '', sys.argv[1])\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", writer, url, str(n)], stderr=subprocess.PIPE)
        for n in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert len(db.read_audit(url, limit=1000)) == 1 + 3 * 40
