"""Loading the user's files: every kind of bad input gives a DataValidationError naming file, column and rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bankdata import DataValidationError
from bankdata._loaders import load_table, parse_column_map, read_tabular
from bankdata._schema import SCHEMAS, TRUTH_SCHEMAS
from tests.shared_data import shared_file

LOANS_HEADER = (
    "loan_id,customer_id,issued_at,amount,term_months,interest_rate,purpose,dti,prior_delinquencies,defaulted"
)
LOAN_ROWS = [
    "1,10,2025-01-05,5000,36,7.5,car,0.2,0,0",
    "2,11,2025-02-05 13:45:00,12000,60,6.1,home,0.35,1,1",
    "3,12,2025-03-05,800,12,9.9,other,,0,0",
    "4,13,2025-04-05,2500,24,8.0,car,0.1,2,1",
]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def loans_with(tmp_path: Path, row: int, column: str, value: str, name: str = "loans.csv") -> Path:
    """The good loans file with one cell (1-based data row) replaced."""
    header = LOANS_HEADER.split(",")
    rows = [r.split(",") for r in LOAN_ROWS]
    rows[row - 1][header.index(column)] = value
    return write(tmp_path, name, [LOANS_HEADER, *(",".join(r) for r in rows)])


def test_good_file_loads_with_public_dtypes(tmp_path: Path) -> None:
    df = load_table(write(tmp_path, "loans.csv", [LOANS_HEADER, *LOAN_ROWS]), "loans")
    assert list(df.columns) == list(SCHEMAS["loans"].column_names)
    assert df["loan_id"].dtype == "int64" and df["defaulted"].dtype == "int64"
    assert df["issued_at"].dtype == "datetime64[ns]"
    assert df["purpose"].dtype == "str"
    assert df.loc[1, "issued_at"] == pd.Timestamp("2025-02-05 13:45:00")
    assert pd.isna(df.loc[2, "dti"])  # dti may be missing


@pytest.mark.parametrize(
    ("row", "column", "value", "problem"),
    [
        (3, "amount", "-800", "not greater than 0"),
        (2, "prior_delinquencies", "-1", "negative values"),
        (2, "interest_rate", "abc", "text in a numeric column ('abc')"),
        (4, "issued_at", "2025-13-45", "unparsable dates ('2025-13-45'"),
        (2, "issued_at", "1500-01-01", "dates outside 1677-09-21..2262-04-11"),
        (3, "issued_at", "31 Mar 2025 to be sure", "unparsable dates"),
        (3, "loan_id", "2", "duplicate ids"),
        (1, "defaulted", "2", "values other than 0, 1"),
        (2, "term_months", "36.5", "not whole numbers"),
        (3, "purpose", "", "missing values"),
    ],
)
def test_each_bad_cell_names_file_column_and_row(
    tmp_path: Path, row: int, column: str, value: str, problem: str
) -> None:
    path = loans_with(tmp_path, row, column, value)
    with pytest.raises(DataValidationError) as info:
        load_table(path, "loans")
    err = info.value
    assert (err.file, err.column, err.rows, err.n_rows) == ("loans.csv", column, [row], 1)
    assert str(err).startswith(f"loans.csv: column '{column}': ")
    assert problem in str(err)
    assert str(err).endswith(f"in row {row} (1 row)")


def test_message_lists_several_rows_and_the_total(tmp_path: Path) -> None:
    lines = [LOANS_HEADER] + [
        f"{i},1,2025-01-01,{-5 if i % 3 == 0 else 5},12,5,car,0.1,0,0" for i in range(1, 31)
    ]
    with pytest.raises(DataValidationError) as info:
        load_table(write(tmp_path, "loans.csv", lines), "loans")
    assert info.value.rows == [3, 6, 9, 12, 15]
    assert info.value.n_rows == 10
    assert str(info.value) == (
        "loans.csv: column 'amount': values that are not greater than 0 in rows 3, 6, 9, 12, 15, ... (10 rows)"
    )


def test_unknown_event_lists_the_allowed_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.csv",
        ["customer_id,product_id,ts,event", "1,2,2025-01-01,view", "1,2,2025-01-02,bought"],
    )
    with pytest.raises(
        DataValidationError, match=r"unknown values 'bought' \(allowed: view, click, apply, purchase\)"
    ):
        load_table(path, "interactions")


def test_category_values_are_matched_ignoring_case_and_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.csv",
        ["customer_id,product_id,ts,event", "1,2,2025-01-01, Purchase", "1,3,2025-01-02,VIEW"],
    )
    assert load_table(path, "interactions")["event"].tolist() == ["purchase", "view"]


def test_missing_column_is_named_with_the_columns_the_file_has(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", ["customer_id,product,ts,event", "1,2,2025-01-01,view"])
    with pytest.raises(DataValidationError) as info:
        load_table(path, "interactions")
    assert info.value.column == "product_id"
    assert "the file has: customer_id, product, ts, event" in str(info.value)
    assert "--map" in str(info.value)


def test_column_map_renames_and_other_columns_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", ["cust,item,when,what,extra", "1,2,2025-01-01,view,x"])
    mapping = parse_column_map(["cust=customer_id", "item=product_id", "when=ts", "what=event"])
    df = load_table(path, "interactions", mapping)
    assert list(df.columns) == ["customer_id", "product_id", "ts", "event"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"nope": "event"}, "renames 'nope', which the file does not have"),
        ({"what": "colour"}, "target 'colour' is not a column of interactions"),
        ({"cust": "customer_id", "item": "customer_id"}, "maps several columns to 'customer_id'"),
    ],
)
def test_bad_column_map_is_refused(tmp_path: Path, mapping: dict[str, str], message: str) -> None:
    path = write(tmp_path, "events.csv", ["cust,item,ts,what", "1,2,2025-01-01,view"])
    with pytest.raises(DataValidationError, match=message):
        load_table(path, "interactions", mapping)


def test_parse_column_map_refuses_a_pair_without_equals() -> None:
    with pytest.raises(ValueError, match="expected SRC=DST"):
        parse_column_map(["Status"])


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(b"customer_id,region\n1,North\n2,M\xe9rida\n")
    with pytest.raises(
        DataValidationError, match=r"customers.csv: not UTF-8 text: undecodable bytes on line 3"
    ):
        read_tabular(path)


def test_utf8_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes("product_id,name,family\n1,Épargne,deposit\n".encode("utf-8-sig"))
    df = load_table(path, "products")
    assert list(df.columns) == ["product_id", "name", "family"] and df.loc[0, "name"] == "Épargne"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"customer_id,product_id,ts,event\n", "no data rows"),
        ("blank.csv", b"\n\n", "the file is empty"),
        ("data.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "cannot parse the file as CSV"),
        ("bad.parquet", b"not parquet at all", "not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_refused_clearly(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=message) as info:
        read_tabular(path)
    assert str(info.value).startswith(f"{name}: ")


def test_too_many_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.csv", [",".join(f"c{i}" for i in range(1001)), ",".join("1" * 1001)])
    with pytest.raises(DataValidationError, match=r"too many columns \(1,001; at most 1,000\)"):
        read_tabular(path)


def test_too_large_file(tmp_path: Path) -> None:
    path = write(tmp_path, "loans.csv", [LOANS_HEADER, *LOAN_ROWS])
    with pytest.raises(
        DataValidationError, match=r"the file is too large \(\d+ bytes; the limit is 100 bytes\)"
    ):
        load_table(path, "loans", max_bytes=100)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.csv: no such file"):
        read_tabular(tmp_path / "nope.csv")


def test_unknown_table_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown table 'accounts'"):
        load_table(write(tmp_path, "x.csv", ["a", "1"]), "accounts")


def test_parquet_round_trip_keeps_types(tmp_path: Path) -> None:
    src = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-02 00:00"]).tz_localize("Europe/Paris"),
            "amount": [12.5, 3.0],
            "category": pd.Categorical(["food", "rent"]),
            "channel": ["card", "web"],
            "direction": ["debit", "credit"],
        }
    )
    path = tmp_path / "tx.parquet"
    src.to_parquet(path)
    df = load_table(path, "transactions")
    assert df["ts"].dtype == "datetime64[ns]"
    assert df.loc[0, "ts"] == pd.Timestamp("2025-01-01 09:00")  # converted to UTC, then naive
    assert df["category"].dtype == "str"


def test_whitespace_text_file_reads_the_cdnow_log() -> None:
    df = read_tabular(shared_file("cdnow_master.txt"))
    assert list(df.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert len(df) == 69_659
    assert df["customer_id"].dtype == "int64" and df["customer_id"].iloc[0] == 1


def test_every_schema_column_kind_is_known() -> None:
    kinds = {c.kind for s in [*SCHEMAS.values(), *TRUTH_SCHEMAS.values()] for c in s.columns}
    assert kinds <= {"id", "int", "float", "str", "datetime", "category"}
    assert all(s.key is None or s.column(s.key).kind == "id" for s in SCHEMAS.values())


def test_flag_column_accepts_yes_no_and_true_false(tmp_path: Path) -> None:
    rows = [
        r.rsplit(",", 1)[0] + "," + flag
        for r, flag in zip(LOAN_ROWS, ["yes", "No", "TRUE", "false"], strict=True)
    ]
    df = load_table(write(tmp_path, "loans.csv", [LOANS_HEADER, *rows]), "loans")
    assert df["defaulted"].tolist() == [1, 0, 1, 0]
    with pytest.raises(
        DataValidationError, match=r"column 'defaulted': text in a numeric column \('maybe'\) in row 2"
    ):
        load_table(loans_with(tmp_path, 2, "defaulted", "maybe"), "loans")


def test_other_date_spellings_are_parsed_row_by_row(tmp_path: Path) -> None:
    df = load_table(loans_with(tmp_path, 2, "issued_at", "31 Mar 2025"), "loans")
    assert df.loc[1, "issued_at"] == pd.Timestamp("2025-03-31") and df.loc[0, "issued_at"] == pd.Timestamp(
        "2025-01-05"
    )


def test_every_bad_cell_of_a_row_is_reported_grouped_by_column(tmp_path: Path) -> None:
    rows = [r.split(",") for r in LOAN_ROWS]
    rows[2] = ["3", "12", "not a date", "-800", "12.5", "9.9", "", "0.1", "-1", "maybe"]
    path = write(tmp_path, "loans.csv", [LOANS_HEADER, *(",".join(r) for r in rows)])
    with pytest.raises(DataValidationError) as info:
        load_table(path, "loans")
    err = info.value
    columns = [p.column for p in err.problems]
    assert columns == ["issued_at", "amount", "term_months", "purpose", "prior_delinquencies", "defaulted"]
    assert all(p.rows == [3] for p in err.problems)
    message = str(err)
    assert message.startswith("loans.csv: 6 problems, by column:")
    assert "column 'amount': values that are not greater than 0 in row 3" in message
    assert "column 'purpose': missing values in row 3" in message


def test_text_in_a_required_number_is_not_also_called_missing(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as info:
        load_table(loans_with(tmp_path, 2, "term_months", "twelve"), "loans")
    assert [p.problem.split(" (")[0] for p in info.value.problems] == ["text in a numeric column"]


def _dated(tmp_path: Path, dates: list[str]) -> Path:
    rows = [r.split(",") for r in LOAN_ROWS]
    for row, date in zip(rows, dates, strict=True):
        row[2] = date
    return write(tmp_path, "loans.csv", [LOANS_HEADER, *(",".join(r) for r in rows)])


def test_a_day_first_file_is_read_day_first_in_every_row(tmp_path: Path) -> None:
    df = load_table(_dated(tmp_path, ["31/03/2025", "03/04/2025", "12/01/2025", "2025-05-06"]), "loans")
    assert df["issued_at"].tolist() == [
        pd.Timestamp("2025-03-31"),
        pd.Timestamp("2025-04-03"),
        pd.Timestamp("2025-01-12"),
        pd.Timestamp("2025-05-06"),
    ]


def test_a_month_first_file_is_read_month_first(tmp_path: Path) -> None:
    df = load_table(_dated(tmp_path, ["03/31/2025", "04/03/2025 09:30", "1/2/25", "2025-05-06"]), "loans")
    assert df["issued_at"].tolist()[:3] == [
        pd.Timestamp("2025-03-31"),
        pd.Timestamp("2025-04-03 09:30"),
        pd.Timestamp("2025-01-02"),
    ]


def test_ambiguous_dates_are_refused_unless_the_format_is_named(tmp_path: Path) -> None:
    path = _dated(tmp_path, ["03/04/2025", "05/06/2025", "01/02/2025", "11/12/2025"])
    with pytest.raises(DataValidationError, match=r"ambiguous dates .*--date-format") as info:
        load_table(path, "loans")
    assert info.value.column == "issued_at" and info.value.n_rows == 4
    df = load_table(path, "loans", date_format="%d/%m/%Y")
    assert df.loc[0, "issued_at"] == pd.Timestamp("2025-04-03")
    df = load_table(path, "loans", date_format="%m/%d/%Y")
    assert df.loc[0, "issued_at"] == pd.Timestamp("2025-03-04")


def test_a_file_mixing_day_first_and_month_first_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="both day-first and month-first") as info:
        load_table(_dated(tmp_path, ["31/03/2025", "03/31/2025", "2025-01-01", "2025-01-02"]), "loans")
    assert info.value.rows == [2]


def test_dates_that_do_not_fit_the_named_format_are_reported(tmp_path: Path) -> None:
    path = _dated(tmp_path, ["31/03/2025", "2025-04-01", "31.03.2025", "01/02/2025"])
    with pytest.raises(DataValidationError, match=r"not in the format %d/%m/%Y \('31.03.2025'\)") as info:
        load_table(path, "loans", date_format="%d/%m/%Y")
    assert info.value.rows == [3]
