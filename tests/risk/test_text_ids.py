"""Loan and customer ids of text (or repeating numbers) are never features, and outputs keep the original ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankdata import ArtifactStore
from ledgerlight.cli import main
from risk.distributed import read_scores
from risk.loanbook import prepare_loan_book, read_loan_book


def loans(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A loan book as a bank exports it: text loan codes, customers with three loans each, codes like C-0007."""
    rng = np.random.default_rng(seed)
    income = rng.normal(40_000, 9_000, n)
    dti = rng.uniform(0.05, 0.6, n)
    risk = 1 / (1 + np.exp(-(-1.0 + 4 * (dti - 0.3) - (income - 40_000) / 10_000)))
    return pd.DataFrame(
        {
            "loan_id": [f"LN-{i:06d}" for i in range(n)],
            "customer_id": [f"C-{i // 3:04d}" for i in range(n)],
            "income": income.round(0),
            "dti": dti.round(3),
            "purpose": rng.choice(["car", "home", "travel"], n),
            "status": np.where(rng.random(n) < risk, "bad", "good"),
        }
    )


def test_text_and_repeating_id_columns_are_identifiers_not_features() -> None:
    frame = loans().assign(branch_no=np.arange(300) % 7, customerId=np.arange(300) // 3)
    book = prepare_loan_book(frame, "status", "bad")
    for col in ("loan_id", "customer_id", "customerId"):
        assert book.spec.dropped[col] == "identifier", col
        assert col not in book.spec.features
    assert set(book.spec.features) == {"income", "dti", "purpose", "branch_no"}
    assert book.frame["loan_id"].iloc[0] == "LN-000000"  # the rows keep the original ids


def test_many_text_customer_codes_are_not_refused_as_free_text() -> None:
    frame = loans(n=900)  # 300 customers: more distinct codes than a text feature may have
    book = prepare_loan_book(frame, "status", "bad")
    assert book.spec.dropped["customer_id"] == "identifier"


@pytest.fixture()
def book_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    frame = loans()
    csv = tmp_path / "book.csv"
    frame.to_csv(csv, index=False)
    parquet = tmp_path / "portfolio.parquet"
    frame.drop(columns=["status"]).to_parquet(parquet, index=False)
    return {"csv": csv, "parquet": parquet, "tmp": tmp_path}


def test_cli_evaluate_a_book_with_text_ids(book_files: dict[str, Path], capsys) -> None:
    code = main(["risk", "evaluate", "--data", str(book_files["csv"]), "--target", "status", "--positive", "bad",
                 "--folds", "3", "--models", "logistic", "--imbalance", "none", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["dropped"]["loan_id"] == report["dropped"]["customer_id"] == "identifier"
    assert report["models"]["logistic+none"]["roc_auc"]["mean"] > 0.6


def test_cli_train_then_score_a_portfolio_keeps_the_text_ids(book_files: dict[str, Path], capsys) -> None:
    code = main(["risk", "train", "--data", str(book_files["csv"]), "--target", "status", "--positive", "bad",
                 "--quick", "--models", "logistic", "--imbalance", "none"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    artifact = ArtifactStore().load("risk-book")
    assert (
        "loan_id" not in artifact.metadata["features"] and "customer_id" not in artifact.metadata["features"]
    )
    with np.load(
        artifact.path / "evaluation.npz", allow_pickle=False
    ) as evaluation:  # out-of-fold rows by loan
        assert evaluation["loan_id"].dtype.kind == "U"
        assert set(evaluation["loan_id"].tolist()) == set(loans()["loan_id"])
    out = book_files["tmp"] / "scored"
    code = main(
        ["risk", "score", "--data", str(book_files["parquet"]), "--out", str(out), "--model", "risk-book"]
    )
    assert code == 0, capsys.readouterr().err
    scores = read_scores(out)
    assert list(scores.columns) == ["loan_id", "customer_id", "pd", "band"]
    assert scores["loan_id"].tolist() == loans()["loan_id"].tolist()
    assert scores["customer_id"].tolist() == loans()["customer_id"].tolist()
    assert scores["pd"].between(0, 1).all()


def test_read_loan_book_keeps_text_ids_of_a_file(book_files: dict[str, Path]) -> None:
    book = read_loan_book(book_files["csv"], "status", "bad")
    assert book.frame["customer_id"].tolist()[:4] == ["C-0000", "C-0000", "C-0000", "C-0001"]


def test_fairness_and_monitor_read_books_with_text_ids(book_files: dict[str, Path], capsys) -> None:
    frame = loans().assign(gender=lambda d: np.where(np.arange(len(d)) % 2, "F", "M"))
    frame.to_csv(book_files["csv"], index=False)
    assert main(["risk", "train", "--data", str(book_files["csv"]), "--target", "status", "--positive", "bad",
                 "--quick", "--models", "logistic", "--imbalance", "none"]) == 0  # fmt: skip
    capsys.readouterr()
    code = main(["risk", "fairness", "--name", "risk-book", "--data", str(book_files["csv"]), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "gender" in captured.out
    code = main(["risk", "monitor", "--name", "risk-book", "--data", str(book_files["csv"]),
                 "--training-data", str(book_files["csv"]), "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert {f["feature"] for f in report["features"]} == {
        "income",
        "dti",
        "purpose",
    }  # ids are never monitored
    assert report["alerts"] == []  # the same book against itself: nothing drifted
