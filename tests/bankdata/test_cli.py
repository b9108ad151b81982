"""``demo generate``, ``demo status`` and ``load``: what they store, what they refuse and what they print."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from bankdata import DataValidationError, read_bank
from bankdata import cli as bankdata_cli
from bankdata._db import table_counts


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ledgerlight")
    bankdata_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    url = f"sqlite:///{tmp_path / 'data' / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    return {"url": url, "demo": tmp_path / "data" / "demo", "tmp": tmp_path}


def test_generate_writes_parquet_and_database_then_refuses_without_force(
    env: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("demo", "generate", "--customers", "150", "--seed", "3", "--months", "3", "--quiet") == 0
    assert "demo bank: 150 customers (seed 3)" in capsys.readouterr().out
    names = {p.name for p in env["demo"].glob("*.parquet")}
    assert {"customers.parquet", "transactions.parquet", "truth_loan_pd.parquet"} <= names
    bank = read_bank(env["url"], with_truth=True)
    assert bank.n_customers == 150 and bank.truth is not None
    pd.testing.assert_frame_equal(
        pd.read_parquet(env["demo"] / "loans.parquet"), bank.loans, check_exact=False
    )

    assert run("demo", "generate", "--customers", "80", "--quiet") == 2
    err = capsys.readouterr().err
    assert "already holds a bank (customers: 150" in err and "--force" in err
    assert table_counts(env["url"])["customers"] == 150

    assert run("demo", "generate", "--customers", "80", "--months", "2", "--force", "--quiet") == 0
    assert table_counts(env["url"])["customers"] == 80


def test_no_db_writes_only_parquet(env: dict) -> None:
    assert run("demo", "generate", "--customers", "60", "--months", "2", "--no-db", "--quiet") == 0
    assert (env["demo"] / "interactions.parquet").is_file()
    assert table_counts(env["url"]) == {}
    assert run("demo", "generate", "--customers", "60", "--months", "2", "--no-db", "--quiet") == 2


def test_status(env: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("demo", "status") == 1
    assert "no bank yet" in capsys.readouterr().out
    run("demo", "generate", "--customers", "50", "--months", "2", "--quiet")
    capsys.readouterr()
    assert run("demo", "status") == 0
    out = capsys.readouterr().out
    assert "customers" in out and " 50 rows" in out and "ground truth: present" in out


CUSTOMERS_CSV = (
    "customer_id,age,gender,region,income,employment,tenure_months,credit_score,balance,signup_date\n"
    "5,40,F,north,52000,employed,24,700,1200.5,2023-01-05\n"
    "6,31,M,,,,6,640,,2024-06-30\n"
)


def load_customers(env: dict) -> None:
    path = env["tmp"] / "customers.csv"
    path.write_text(CUSTOMERS_CSV, encoding="utf-8")
    assert run("load", "customers", str(path)) == 0


def test_load_appends_and_prints_the_count(env: dict, capsys: pytest.CaptureFixture[str]) -> None:
    load_customers(env)
    path = env["tmp"] / "book.csv"
    path.write_text("id,cust,date,amt,term,rate,why,dti,late,Status\n1,5,2025-01-01,900,12,5.5,car,0.2,0,0\n"
                    "2,6,2025-02-01,1500,24,6.5,home,0.3,1,1\n", encoding="utf-8")  # fmt: skip
    maps = ["id=loan_id", "cust=customer_id", "date=issued_at", "amt=amount", "term=term_months"]
    maps += ["rate=interest_rate", "why=purpose", "late=prior_delinquencies", "Status=defaulted"]
    argv = ["load", "loans", str(path)] + [a for m in maps for a in ("--map", m)]
    assert run(*argv) == 0
    assert "stored 2 rows from book.csv in loans" in capsys.readouterr().out
    assert table_counts(env["url"])["loans"] == 2


def test_loans_of_an_unknown_customer_are_refused_and_nothing_is_stored(env: dict) -> None:
    load_customers(env)
    path = env["tmp"] / "loans.csv"
    path.write_text(
        "loan_id,customer_id,issued_at,amount,term_months,interest_rate,purpose,dti,prior_delinquencies,defaulted\n"
        "1,5,2025-01-01,900,12,5.5,car,0.2,0,0\n2,99999,2025-02-01,1500,24,6.5,home,0.3,1,1\n",
        encoding="utf-8",
    )
    with pytest.raises(
        DataValidationError, match=r"customer_id.*not in table customers \(e.g. 99999\).*row 2"
    ):
        run("load", "loans", str(path))
    assert table_counts(env["url"])["loans"] == 0


def test_interactions_of_an_unknown_product_are_refused(env: dict) -> None:
    load_customers(env)
    products = env["tmp"] / "products.csv"
    products.write_text("product_id,name,family\n1,Saver,deposit\n", encoding="utf-8")
    assert run("load", "products", str(products)) == 0
    path = env["tmp"] / "interactions.csv"
    path.write_text(
        "customer_id,product_id,ts,event\n5,1,2025-01-01,view\n6,7,2025-01-02,view\n", encoding="utf-8"
    )
    with pytest.raises(DataValidationError, match=r"product_id.*not in table products \(e.g. 7\)"):
        run("load", "interactions", str(path))
    assert table_counts(env["url"])["interactions"] == 0


def test_failed_load_stores_nothing(env: dict) -> None:
    good = env["tmp"] / "products.csv"
    good.write_text("product_id,name,family\n1,Saver,deposit\n", encoding="utf-8")
    assert run("load", "products", str(good)) == 0
    bad = env["tmp"] / "more.csv"
    bad.write_text("product_id,name,family\n2,Card,card\n3,Crypto,crypto\n4,Loan,loan\n", encoding="utf-8")
    with pytest.raises(
        DataValidationError, match=r"more.csv: column 'family': unknown values 'crypto' .* row 2 \(1 row\)"
    ):
        run("load", "products", str(bad))
    assert table_counts(env["url"])["products"] == 1


def test_load_refuses_a_large_file(env: dict) -> None:
    path = env["tmp"] / "products.csv"
    path.write_text("product_id,name,family\n1,Saver,deposit\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="too large"):
        run("load", "products", str(path), "--max-mb", "0.00001")


def test_unreachable_database_prints_one_line(
    env: dict, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{env['tmp']}")  # a folder
    assert run("demo", "status") == 2
    assert capsys.readouterr().err.startswith("ledgerlight: error: cannot reach the sqlite database")
