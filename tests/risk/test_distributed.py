"""Scoring Parquet partitions on a Dask LocalCluster gives exactly the local scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import risk
from bankdata import ArtifactStore, Bank, DataValidationError
from ledgerlight.cli import main
from risk.bankbook import loan_frame
from risk.distributed import read_scores, score_portfolio


@pytest.fixture(scope="module")
def portfolio(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("portfolio")
    store = ArtifactStore(tmp / "checkpoints")
    artifact = risk.train_from_bank(small_bank, store, quick=True)
    frame = loan_frame(small_bank)
    for n, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(tmp / f"book-{n}.parquet", index=False)
    return {"tmp": tmp, "artifact": artifact, "frame": frame, "glob": str(tmp / "book-*.parquet")}


def test_local_cluster_equals_local_scoring(portfolio: dict) -> None:
    tmp = portfolio["tmp"]
    here = score_portfolio(portfolio["glob"], portfolio["artifact"], tmp / "here")
    cluster = score_portfolio(portfolio["glob"], portfolio["artifact"], tmp / "cluster", local_cluster=2)
    assert cluster.where.startswith("dask cluster") and "2 workers" in cluster.where
    assert here.rows == cluster.rows == len(portfolio["frame"])
    local, distributed = read_scores(tmp / "here"), read_scores(tmp / "cluster")
    pd.testing.assert_frame_equal(local, distributed)  # exact: same floats, same order
    reference = risk.RiskModel.load(portfolio["artifact"]).score(portfolio["frame"])
    np.testing.assert_array_equal(local["pd"].to_numpy(), reference["pd"].to_numpy())
    assert local["band"].tolist() == list(reference["band"].astype(str))
    assert list(local.columns) == ["loan_id", "customer_id", "pd", "band"]


def test_bad_arguments_are_named(portfolio: dict) -> None:
    tmp, art = portfolio["tmp"], portfolio["artifact"]
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        score_portfolio(str(tmp / "nothing-here*.parquet"), art, tmp / "x")
    with pytest.raises(DataValidationError, match="no_such_column"):
        score_portfolio(portfolio["glob"], art, tmp / "y", keep=("no_such_column",))
    (tmp / "full").mkdir()
    (tmp / "full" / "old.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        score_portfolio(portfolio["glob"], art, tmp / "full")
    portfolio["frame"].drop(columns=["credit_score"]).to_parquet(tmp / "broken.parquet", index=False)
    with pytest.raises(DataValidationError, match="credit_score"):
        score_portfolio(str(tmp / "broken.parquet"), art, tmp / "z")


def test_cli_scores_with_the_stored_model(portfolio: dict, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(portfolio["tmp"] / "checkpoints"))
    out = portfolio["tmp"] / "cli"
    assert main(["risk", "score", "--data", portfolio["glob"], "--out", str(out)]) == 0
    assert f"scored {len(portfolio['frame']):,} rows in 3 partition(s)" in capsys.readouterr().out
    assert len(read_scores(out)) == len(portfolio["frame"])
