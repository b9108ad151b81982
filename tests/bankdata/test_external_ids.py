"""A bank's own text ids through ``ledgerlight load``: stored as internal whole numbers with a mapping, references
translated, a file of the other kind or an unknown reference refused with the file's rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from bankdata import DataValidationError, read_bank, read_id_kinds, to_external, to_internal, write_bank
from bankdata._db import append_load, engine_for
from bankdata._external_ids import external_ids_table
from bankdata._loaders import load_table
from tests.text_id_bank import (
    LOAD_ORDER,
    customer_text,
    loan_text,
    product_texts,
    renamed,
    write_text_id_files,
)


@pytest.fixture(scope="module")
def text_files(tmp_path_factory: pytest.TempPathFactory):
    return write_text_id_files(tmp_path_factory.mktemp("text-ids"), n_customers=150, seed=5)


def _load_all(paths: dict[str, Path], url: str, tables: tuple[str, ...] = LOAD_ORDER) -> None:
    for table in tables:
        append_load(table, load_table(paths[table], table, text_ids=True), url, source=paths[table].name)


def test_text_ids_are_stored_as_internal_numbers_with_a_mapping(text_files, url: str) -> None:
    bank, paths = text_files
    _load_all(paths, url)
    stored = read_bank(url)
    assert read_id_kinds(url) == {"customer": "text", "loan": "text", "product": "text"}
    assert stored.customers["customer_id"].dtype == "int64"
    assert stored.customers["customer_id"].tolist() == list(range(1, bank.n_customers + 1))  # in file order
    shown = to_external("customer", stored.customers["customer_id"], url)
    assert [shown[i] for i in stored.customers["customer_id"]] == bank.customers["customer_id"].map(
        customer_text
    ).tolist()
    # every reference points at the same entity as in the file
    loans = stored.loans.assign(
        customer=stored.loans["customer_id"].map(shown),
        loan=stored.loans["loan_id"].map(to_external("loan", stored.loans["loan_id"], url)),
    )
    assert loans["customer"].tolist() == bank.loans["customer_id"].map(customer_text).tolist()
    assert loans["loan"].tolist() == bank.loans["loan_id"].map(loan_text).tolist()
    products = to_external("product", stored.interactions["product_id"], url)
    assert (
        stored.interactions["product_id"].map(products).tolist()
        == bank.interactions["product_id"].map(product_texts(bank.products)).tolist()
    )
    assert to_internal("customer", ["C-00003", "nobody"], url) == {
        "C-00003": int(stored.customers["customer_id"][bank.customers["customer_id"].tolist().index(3)])
    }


def test_a_second_file_continues_the_numbering_and_refuses_ids_already_stored(
    text_files, url: str, tmp_path: Path
) -> None:
    bank, paths = text_files
    first, rest = tmp_path / "first.csv", tmp_path / "rest.csv"
    frame = renamed(bank, "customers")
    frame.iloc[:100].to_csv(first, index=False)
    frame.iloc[98:].to_csv(rest, index=False)
    append_load("customers", load_table(first, "customers", text_ids=True), url, source=first.name)
    with pytest.raises(DataValidationError) as err:
        append_load("customers", load_table(rest, "customers", text_ids=True), url, source=rest.name)
    assert (
        str(err.value) == "rest.csv: column 'customer_id': ids already in the database in rows 1, 2 (2 rows)"
    )
    frame.iloc[100:].to_csv(rest, index=False)
    append_load("customers", load_table(rest, "customers", text_ids=True), url, source=rest.name)
    assert to_internal("customer", [customer_text(bank.customers["customer_id"].iloc[100])], url) == {
        customer_text(bank.customers["customer_id"].iloc[100]): 101
    }


def test_an_unknown_text_reference_is_refused_with_its_rows(text_files, url: str, tmp_path: Path) -> None:
    bank, paths = text_files
    _load_all(paths, url, ("products", "customers"))
    loans = renamed(bank, "loans")
    loans.loc[[1, 4], "customer_id"] = ["C-99999", "C-XYZ"]
    path = tmp_path / "loans.csv"
    loans.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as err:
        append_load("loans", load_table(path, "loans", text_ids=True), url, source=path.name)
    assert str(err.value) == (
        "loans.csv: column 'customer_id': ids not in table customers (e.g. 'C-99999', "
        "'C-XYZ'); load customers first in rows 2, 5 (2 rows)"
    )
    assert read_bank(url).loans.empty
    with engine_for(url).connect() as conn:  # nothing of the refused file is mapped
        loan_rows = conn.execute(
            sa.select(sa.func.count())
            .select_from(external_ids_table)
            .where(external_ids_table.c.entity == "loan")
        ).scalar()
    assert loan_rows == 0


def test_a_file_of_the_other_kind_than_the_bank_is_refused(
    text_files, small_bank, url: str, tmp_path: Path
) -> None:
    bank, paths = text_files
    _load_all(paths, url, ("products", "customers"))
    numbers = tmp_path / "loans.csv"
    bank.loans.to_csv(numbers, index=False)  # whole-number ids against text customers
    with pytest.raises(DataValidationError) as err:
        append_load("loans", load_table(numbers, "loans", text_ids=True), url, source=numbers.name)
    first = ", ".join(repr(str(c)) for c in bank.loans["customer_id"].unique()[:3])
    assert str(err.value) == (
        f"loans.csv: column 'customer_id': whole-number ids (e.g. {first}), but the bank's "
        "customer ids are text ids such as 'C-00017': one bank keeps one kind of id per entity"
    )
    assert read_bank(url).loans.empty


def test_text_ids_refused_by_a_bank_of_whole_numbers(small_bank, url: str, tmp_path: Path) -> None:
    append_load("customers", small_bank.customers.iloc[:50], url)
    append_load("products", small_bank.products, url)
    assert read_id_kinds(url) == {"customer": "integer", "product": "integer"}
    path = tmp_path / "customers.csv"
    small_bank.customers.iloc[50:60].assign(customer_id=lambda f: "X" + f["customer_id"].astype(str)).to_csv(
        path, index=False
    )
    with pytest.raises(
        DataValidationError, match="text ids .* but the bank's customer ids are whole numbers"
    ):
        append_load("customers", load_table(path, "customers", text_ids=True), url, source=path.name)


def test_whole_number_ids_keep_working_without_mapping_rows(small_bank, url: str) -> None:
    append_load("customers", small_bank.customers.iloc[:40], url)
    with engine_for(url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(external_ids_table)).scalar() == 0
    assert (
        read_bank(url).customers["customer_id"].tolist() == small_bank.customers["customer_id"][:40].tolist()
    )
    assert to_external("customer", [0, 1], url) == {}


def test_text_ids_need_the_option_and_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    pd.DataFrame(
        {"product_id": ["CC-GOLD", "x" * 101], "name": ["Gold", "Long"], "family": ["card", "card"]}
    ).to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="text in a numeric column"):
        load_table(path, "products")
    with pytest.raises(DataValidationError, match="ids longer than 100 characters in row 2"):
        load_table(path, "products", text_ids=True)


def test_a_text_id_repeated_in_a_file_is_reported(text_files, tmp_path: Path) -> None:
    bank, _ = text_files
    path = tmp_path / "customers.csv"
    frame = renamed(bank, "customers").iloc[:6].copy()
    frame.loc[4, "customer_id"] = frame.loc[1, "customer_id"]
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as err:
        load_table(path, "customers", text_ids=True)
    assert str(err.value) == "customers.csv: column 'customer_id': duplicate ids in row 5 (1 row)"


def test_replacing_the_bank_forgets_its_text_ids(text_files, small_bank, url: str) -> None:
    _, paths = text_files
    _load_all(paths, url, ("products", "customers"))
    write_bank(small_bank, url, replace=True)
    assert read_id_kinds(url) == {}
    assert to_external("customer", [1, 2], url) == {}


def test_the_load_command_says_text_ids_are_mapped_and_refuses_the_other_kind(
    text_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ledgerlight.cli import main

    bank, paths = text_files
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bank.db'}")
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    assert main(["load", "customers", str(paths["customers"])]) == 0
    assert "text ids in customer_id: stored as internal numbers" in capsys.readouterr().out
    numbers = tmp_path / "transactions.csv"
    bank.transactions.iloc[:20].to_csv(numbers, index=False)
    assert main(["load", "transactions", str(numbers)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ledgerlight: error: transactions.csv: column 'customer_id': whole-number ids")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
