"""Bringing your own loan book: column roles, leakage guard and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankdata import DataValidationError
from risk.loanbook import prepare_loan_book, read_loan_book


def book_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(40_000, 8_000, n)
    return pd.DataFrame(
        {
            "application_id": np.arange(1000, 1000 + n),
            "applied_on": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "income": income,
            "purpose": rng.choice(["car", "home", "travel"], n),
            "age": rng.integers(20, 70, n),
            "Gender": rng.choice(["F", "M"], n),
            "status": np.where(rng.random(n) < 0.3, "bad", "good"),
        }
    )


def write(df: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "book.csv"
    df.to_csv(path, index=False)
    return path


def test_roles_ids_dates_and_protected_attributes(tmp_path: Path) -> None:
    book = read_loan_book(write(book_frame(), tmp_path), "status", "bad")
    assert book.spec.numeric == ["income"] and list(book.spec.categorical) == ["purpose"]
    assert book.spec.dropped["application_id"] == "identifier"
    assert book.spec.dropped["applied_on"] == "date"
    assert set(book.spec.protected) == {"age", "Gender"}
    assert book.x.shape == (200, 2) and set(np.unique(book.y)) == {0, 1}


def test_missing_target_names_file_and_columns(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"book\.csv.*no target column 'Class'.*income"):
        read_loan_book(write(book_frame(), tmp_path), "Class", "bad")


def test_one_class_target_is_refused(tmp_path: Path) -> None:
    df = book_frame().assign(status="good")
    with pytest.raises(DataValidationError, match="'status'.*one class only"):
        read_loan_book(write(df, tmp_path), "status", "bad")


def test_unknown_positive_value_lists_the_values() -> None:
    with pytest.raises(DataValidationError, match="'default' never occurs.*'bad'"):
        prepare_loan_book(book_frame(), "status", "default")


def test_all_null_column_is_named(tmp_path: Path) -> None:
    df = book_frame().assign(notes=np.nan)
    with pytest.raises(DataValidationError, match=r"book\.csv: column 'notes': empty in all 200 rows"):
        read_loan_book(write(df, tmp_path), "status", "bad")


def test_text_in_numeric_column_names_column_and_rows(tmp_path: Path) -> None:
    df = book_frame().astype({"income": "str"})
    df.loc[[2, 9], "income"] = "12k"
    with pytest.raises(
        DataValidationError, match=r"column 'income': numeric column holds text \('12k'\) in rows 3, 10"
    ):
        read_loan_book(write(df, tmp_path), "status", "bad")


def test_target_in_disguise_is_refused_and_can_be_dropped() -> None:
    df = book_frame()
    df["collections_flag"] = (df["status"] == "bad").astype(int)
    with pytest.raises(DataValidationError, match="'collections_flag'.*target in disguise"):
        prepare_loan_book(df, "status", "bad")
    assert (
        "collections_flag"
        not in prepare_loan_book(df, "status", "bad", drop=("collections_flag",)).spec.features
    )


def test_numeric_zero_one_target_needs_no_positive() -> None:
    df = book_frame().assign(status=lambda d: (d["status"] == "bad").astype(int))
    book = prepare_loan_book(df, "status")
    assert book.y.sum() == (df["status"] == 1).sum()


def test_unseen_category_and_missing_number_are_encoded_with_training_fallbacks() -> None:
    book = prepare_loan_book(book_frame(), "status", "bad", missing="fill")
    new = pd.DataFrame({"income": [np.nan], "purpose": ["boat"]})
    x = book.spec.encode(new)
    assert x[0, 0] == pytest.approx(book.spec.fill["income"]) and x[0, 1] == book.spec.fill["purpose"]


def test_a_book_keeps_a_missing_number_for_lightgbm_and_still_falls_back_for_a_category() -> None:
    book = prepare_loan_book(book_frame(), "status", "bad")
    new = pd.DataFrame({"income": [np.nan, 50.0], "purpose": ["boat", None]})
    x = book.spec.encode(new)
    assert book.spec.missing == "keep" and np.isnan(x[0, 0]) and x[1, 0] == 50.0
    assert x[0, 1] == book.spec.fill["purpose"] and not np.isnan(x[:, 1]).any()
    assert book.spec.filled(x)[0, 0] == pytest.approx(book.spec.fill["income"]) and np.isnan(x[0, 0])
