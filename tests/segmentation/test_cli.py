"""``ledgerlight segments train`` on a user's file (CDNOW layout), with clear errors for bad input."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from bankdata import ArtifactError, ArtifactStore, DataValidationError
from segmentation import cli

CDNOW_LIKE = """ customer_id  date number_of_cds  dollar_value
 00001 19970101  1   11.77
 00002 19970112  1   12.00
 00002 19970112  5   77.00
 00003 19970102  2   20.76
 00003 19970330  2   20.76
 00003 19970402  2   19.54
 00003 19971115  5   57.45
 00004 19970101  2   29.33
 00004 19970118  2   29.73
 00005 19970101  2   29.33
 00006 19970101  1   20.99
 00007 19970101  1   28.74
"""


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ledgerlight")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture()
def cdnow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    path = tmp_path / "cdnow.txt"
    path.write_text(CDNOW_LIKE)
    return path


def test_train_on_a_cdnow_style_file(cdnow: Path, tmp_path: Path, capsys) -> None:
    argv = [
        "segments",
        "train",
        "--transactions",
        str(cdnow),
        "--customer",
        "customer_id",
        "--date",
        "date",
        "--amount",
        "dollar_value",
        "--k",
        "2",
        "--quick",
    ]
    assert run(argv) == 0
    assert "k=2, 7 customers" in capsys.readouterr().out
    store = ArtifactStore(tmp_path / "checkpoints")
    art = store.load("segments-cdnow")  # an evaluation of the file, kept apart from the served segments
    assert art.metadata["row_count"] == 7 and store.versions("segments") == []
    assert art.metadata["extra"]["population"] == {
        "kind": "file",
        "source": "cdnow.txt",
        "rows": 7,
        "bank_id": None,
    }


def test_missing_column_names_the_file_and_option(cdnow: Path) -> None:
    with pytest.raises(DataValidationError, match=r"cdnow.txt: no column 'cid' \(given by --customer"):
        run(
            [
                "segments",
                "train",
                "--transactions",
                str(cdnow),
                "--customer",
                "cid",
                "--date",
                "date",
                "--amount",
                "dollar_value",
            ]
        )


def test_log_options_need_each_other(cdnow: Path) -> None:
    with pytest.raises(ValueError, match="also needs --date COL --amount COL"):
        run(["segments", "train", "--transactions", str(cdnow), "--customer", "customer_id"])
    with pytest.raises(ValueError, match="need --transactions"):
        run(["segments", "train", "--customer", "customer_id"])


def test_bad_dates_and_negative_amounts_name_the_rows(cdnow: Path) -> None:
    text = cdnow.read_text().replace("19970118", "19971399").replace("20.99", "-20.99")
    cdnow.write_text(text)
    argv = [
        "segments",
        "train",
        "--transactions",
        str(cdnow),
        "--customer",
        "customer_id",
        "--date",
        "date",
        "--amount",
        "dollar_value",
        "--k",
        "2",
    ]
    with pytest.raises(DataValidationError, match=r"cdnow.txt: column 'date': unparsable dates.* in row 9 "):
        run(argv)
    cdnow.write_text(text.replace("19971399", "19970118"))
    with pytest.raises(
        DataValidationError, match=r"cdnow.txt: column 'amount': negative amounts.* in row 11 "
    ):
        run(argv)


def test_assign_new_customers_from_a_file(cdnow: Path, tmp_path: Path, capsys) -> None:
    log = [
        "--transactions",
        str(cdnow),
        "--customer",
        "customer_id",
        "--date",
        "date",
        "--amount",
        "dollar_value",
    ]
    assert run(["segments", "train", *log, "--k", "2", "--quick"]) == 0
    new = tmp_path / "new.csv"
    new.write_text("cid,day,value\n42,1997-05-01,15.0\n42,1997-06-01,20.0\n43,1997-02-01,300.0\n")
    out = tmp_path / "assigned.csv"
    assert (
        run(
            [
                "segments",
                "assign",
                "--transactions",
                str(new),
                "--customer",
                "cid",
                "--date",
                "day",
                "--amount",
                "value",
                "--out",
                str(out),
                "--model",
                "segments-cdnow",
            ]
        )
        == 0
    )
    assigned = pd.read_csv(out)
    assert assigned["customer_id"].tolist() == [42, 43]
    assert set(assigned["segment"]) <= {0, 1} and assigned["segment_name"].notna().all()
    assert "assigned 2 customers" in capsys.readouterr().out


def test_assign_needs_a_trained_model(cdnow: Path, tmp_path: Path) -> None:
    log = [
        "--transactions",
        str(cdnow),
        "--customer",
        "customer_id",
        "--date",
        "date",
        "--amount",
        "dollar_value",
    ]
    with pytest.raises(ArtifactError):
        run(["segments", "assign", *log, "--out", str(tmp_path / "x.csv")])
