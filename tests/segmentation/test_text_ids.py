"""Customer codes of text (CUST-0007, or 00042 kept with its zeros) through segments train and assign."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankdata import ArtifactStore, DataValidationError
from segmentation import cli
from segmentation.artifact import load_segmentation


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ledgerlight")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def log(n_customers: int = 40, seed: int = 0) -> pd.DataFrame:
    """Two kinds of customers: frequent small spenders and rare big ones, with text customer codes."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        n, scale = (20, 10.0) if c % 2 == 0 else (3, 400.0)
        for day in rng.integers(0, 300, n):
            rows.append(
                (
                    f"CUST-{c:04d}",
                    (pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(day))).date(),
                    round(float(rng.gamma(2.0, scale)), 2),
                )
            )
    return pd.DataFrame(rows, columns=["client", "booked", "amount"])


@pytest.fixture()
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    tx = tmp_path / "ledger.csv"
    log().to_csv(tx, index=False)
    profile = tmp_path / "clients.csv"
    ids = [f"CUST-{c:04d}" for c in range(40)]
    pd.DataFrame(
        {
            "client": ids,
            "age": np.arange(40) + 20,
            "income": np.arange(40) * 1000.0 + 20_000,
            "region": np.where(np.arange(40) % 2, "North", "South"),
        }
    ).to_csv(profile, index=False)
    return {"tx": tx, "profile": profile, "tmp": tmp_path}


def _options(files: dict[str, Path]) -> list[str]:
    return [
        "--transactions",
        str(files["tx"]),
        "--customer",
        "client",
        "--date",
        "booked",
        "--amount",
        "amount",
    ]


def test_train_and_assign_keep_text_customer_codes(files: dict[str, Path], capsys) -> None:
    assert (
        run(
            ["segments", "train", *_options(files), "--profile", str(files["profile"]), "--k", "2", "--quick"]
        )
        == 0
    )
    assert "k=2, 40 customers" in capsys.readouterr().out
    art = ArtifactStore().load("segments-ledger")
    saved = load_segmentation(art).customers
    assert sorted(saved["customer_id"]) == [f"CUST-{c:04d}" for c in range(40)]
    segment = saved.set_index("customer_id")["segment"]
    evens = {segment[f"CUST-{c:04d}"] for c in range(0, 40, 2)}
    odds = {segment[f"CUST-{c:04d}"] for c in range(1, 40, 2)}
    assert len(evens) == len(odds) == 1 and evens != odds  # the two kinds of customer, found by their codes
    out = files["tmp"] / "assigned.csv"
    argv = [
        "segments",
        "assign",
        *_options(files),
        "--profile",
        str(files["profile"]),
        "--model",
        "segments-ledger",
    ]
    assert run([*argv, "--out", str(out)]) == 0
    assigned = pd.read_csv(out, dtype={"customer_id": "str"})
    assert sorted(assigned["customer_id"]) == sorted(saved["customer_id"])
    merged = assigned.merge(saved[["customer_id", "segment"]], on="customer_id", suffixes=("", "_trained"))
    assert (merged["segment"] == merged["segment_trained"]).all()


def test_codes_with_leading_zeros_stay_text_in_a_parquet_log(files: dict[str, Path], capsys) -> None:
    frame = log().assign(client=lambda d: d["client"].str.replace("CUST-", "0"))
    path = files["tmp"] / "zeros.parquet"
    frame.to_parquet(path, index=False)
    argv = [
        "segments",
        "train",
        "--transactions",
        str(path),
        "--customer",
        "client",
        "--date",
        "booked",
        "--amount",
        "amount",
        "--k",
        "2",
        "--quick",
    ]
    assert run(argv) == 0
    saved = load_segmentation(ArtifactStore().load("segments-zeros")).customers
    assert "00000" in set(saved["customer_id"]) and len(saved) == 40


def test_empty_text_customer_ids_name_the_rows(files: dict[str, Path]) -> None:
    frame = log()
    frame.loc[2, "client"], frame.loc[5, "client"] = "", "   "
    frame.to_csv(files["tx"], index=False)
    with pytest.raises(DataValidationError, match=r"column 'customer_id': empty customer ids in rows 3, 6"):
        run(["segments", "train", *_options(files), "--k", "2", "--quick"])


def test_profile_codes_unknown_to_the_log_are_named(files: dict[str, Path]) -> None:
    profile = pd.read_csv(files["profile"]).iloc[1:]  # CUST-0000 has transactions but no profile row
    profile.to_csv(files["profile"], index=False)
    with pytest.raises(DataValidationError, match=r"not in the profile \(e.g. CUST-0000\)"):
        run(
            ["segments", "train", *_options(files), "--profile", str(files["profile"]), "--k", "2", "--quick"]
        )


def test_blank_codes_of_a_parquet_log_are_missing_ids(files: dict[str, Path]) -> None:
    frame = log()
    frame.loc[4, "client"] = "  "
    path = files["tmp"] / "blank.parquet"
    frame.to_parquet(path, index=False)
    argv = [
        "segments",
        "train",
        "--transactions",
        str(path),
        "--customer",
        "client",
        "--date",
        "booked",
        "--amount",
        "amount",
        "--k",
        "2",
    ]
    with pytest.raises(DataValidationError, match=r"empty customer ids in row 5 "):
        run(argv)
