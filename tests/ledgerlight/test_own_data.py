"""A bank's own files, loaded with the cells the schema allows to be empty left empty, train every model.

Each model imputes what is missing and records in its card how many cells it filled and with what.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bankdata import ArtifactStore, generate_bank
from bankdata._modelcard import model_card_sections
from dashapp.services import clear_caches
from ledgerlight.cli import main

BLANKED = {"customers": ("income", "balance", "region", "employment"), "loans": ("dti",)}
LOAD_ORDER = ("products", "customers", "transactions", "loans", "interactions")


@pytest.fixture(scope="module")
def own_bank_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An 800-customer bank written as CSV exports, with every nullable column blank in about one row in ten."""
    folder = tmp_path_factory.mktemp("exports")
    bank = generate_bank(800, seed=11, months=6)
    rng = np.random.default_rng(0)
    paths = {}
    for table in LOAD_ORDER:
        frame = getattr(bank, table).copy()
        for column in BLANKED.get(table, ()):
            frame[column] = frame[column].astype(object)
            frame.loc[rng.random(len(frame)) < 0.1, column] = None
        paths[table] = folder / f"{table}.csv"
        frame.to_csv(paths[table], index=False)
    return paths


@pytest.fixture()
def env(own_bank_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bank.db'}")
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    clear_caches()
    for table in LOAD_ORDER:
        assert main(["load", table, str(own_bank_files[table])]) == 0
    yield ArtifactStore()
    clear_caches()


def test_every_model_trains_on_files_with_missing_cells_and_records_the_imputation(
    env: ArtifactStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "all", "--quick"]) == 0, capsys.readouterr().err
    for model, columns in {
        "risk": ("dti", "income"),
        "segments": ("income", "balance"),
        "recsys": ("income",),
    }.items():
        imputation = env.load(model).metadata["extra"]["imputation"]
        for column in columns:
            assert imputation[column]["missing"] > 0, (model, column, imputation)
            assert imputation[column]["filled_with"], (model, column)


def test_the_model_card_lists_the_missing_values(env: ArtifactStore) -> None:
    assert main(["train", "segments", "--quick"]) == 0
    sections = {s["title"]: s for s in model_card_sections(env.load("segments").metadata)}
    rows = {row[0]: row for row in sections["Missing values"]["rows"]}
    assert int(rows["income"][1]) > 0 and rows["income"][2].startswith("median")
    assert "imputation" not in str(sections["Training data"]["rows"])


def test_an_unexpected_error_ends_in_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ledgerlight.setup as setup_module

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise IndexError("index -9223372036854775808 is out of bounds")

    monkeypatch.setattr(setup_module, "train_models", broken)
    assert main(["train", "recsys"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unexpected error in `train` (IndexError: index -9223372036854775808" in err and "-v" in err
    assert main(["-v", "train", "recsys"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_figures_that_need_the_demo_ground_truth_say_they_are_unavailable(
    env: ArtifactStore, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashapp.services import governance

    assert main(["train", "all", "--quick"]) == 0
    assert "ari_personas" not in env.load("segments").metadata["metrics"]
    capsys.readouterr()
    assert main(["risk", "monitor", "--shift", "1"]) == 2
    assert "demo bank only" in capsys.readouterr().err
    clear_caches()
    assert "available on the demo bank only" in governance.drift_unavailable()
