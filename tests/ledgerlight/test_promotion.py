"""Training saves candidates; only a promotion of a version trained on the database's bank changes what is served.

Also: production never makes a demo bank unasked, and the demo bank can be removed (audited) before a bank's own
customers are loaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bankdata import ArtifactStore, Bank, bank_identity, generate_bank, read_audit, table_counts
from dashapp.services.promotion import promote_version
from dashapp.services.validation import InputError
from ledgerlight.cli import main

REASON = ["--reason", "checked against the served version"]


@pytest.fixture(scope="module")
def demo_bank() -> Bank:
    return generate_bank(400, seed=5, months=4)


def _own_customers(env: dict) -> Path:
    path = env["tmp"] / "own_customers.csv"
    customers = env["bank"].customers.head(300).copy()
    customers["customer_id"] = customers["customer_id"] + 500_000
    customers.to_csv(path, index=False)
    return path


def test_the_first_version_is_served_and_a_retrain_is_a_candidate(env: dict, capsys) -> None:
    store: ArtifactStore = env["store"]
    assert main(["train", "segments", "--quick"]) == 0
    first = store.latest("segments")
    assert f"segments/{first} is served" in capsys.readouterr().out
    assert main(["train", "segments", "--quick"]) == 0
    second = store.versions("segments")[-1]
    assert second != first and store.latest("segments") == first
    assert "is a candidate" in capsys.readouterr().out
    audit = read_audit(env["url"])
    automatic = audit[audit["action"] == "promote_model"]
    assert automatic["target"].tolist() == [f"segments/{first}"]
    assert "automatic: the first version of segments" in automatic["detail"].iloc[0]
    assert main(["promote", "segments", second, *REASON]) == 0
    assert store.latest("segments") == second


def test_training_on_a_file_is_an_evaluation_kept_apart(env: dict, capsys) -> None:
    store: ArtifactStore = env["store"]
    assert main(["train", "segments", "--quick"]) == 0
    served = store.latest("segments")
    log = env["tmp"] / "other.csv"
    env["bank"].transactions.head(3_000).to_csv(log, index=False)
    argv = [
        "segments",
        "train",
        "--transactions",
        str(log),
        "--customer",
        "customer_id",
        "--date",
        "ts",
        "--amount",
        "amount",
        "--quick",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "segments-other/" in out and "is an evaluation of other.csv" in out
    assert store.latest("segments") == served and store.versions("segments") == [served]
    evaluation = store.latest("segments-other")
    with pytest.raises(InputError, match="not a served model"):
        promote_version("segments-other", evaluation, reason="serve the file's segments", user="t")
    assert store.load("segments-other").metadata["extra"]["population"]["kind"] == "file"


def test_a_model_of_a_generated_bank_never_replaces_the_served_risk(env: dict, capsys) -> None:
    store: ArtifactStore = env["store"]
    assert main(["risk", "train", "--demo-customers", "300", "--quick"]) == 0
    assert "risk-demo-300/" in capsys.readouterr().out
    assert store.latest("risk") is None and store.latest("risk-demo-300") is not None


def test_a_version_of_a_removed_bank_cannot_be_promoted_and_the_new_bank_is_served(env: dict, capsys) -> None:
    store: ArtifactStore = env["store"]
    assert main(["train", "segments", "--quick"]) == 0
    assert main(["train", "segments", "--quick"]) == 0
    demo_first, demo_candidate = store.versions("segments")
    demo_id = bank_identity(env["url"]).bank_id

    assert main(["load", "customers", str(_own_customers(env))]) == 2
    assert "holds the demo bank; remove it with `ledgerlight demo remove --yes`" in capsys.readouterr().err
    assert main(["demo", "remove"]) == 2
    assert table_counts(env["url"])["customers"] == 400
    assert main(["demo", "remove", "--yes"]) == 0
    assert "removed the demo bank (customers 400" in capsys.readouterr().out
    assert not any(table_counts(env["url"]).get(t) for t in ("customers", "loans", "truth_personas"))
    removal = read_audit(env["url"]).query("action == 'remove_demo_bank'")
    assert len(removal) == 1 and removal["user"].iloc[0].startswith("cli:")

    assert main(["load", "customers", str(_own_customers(env))]) == 0
    own = bank_identity(env["url"])
    assert own.kind == "own" and own.bank_id != demo_id
    with pytest.raises(InputError, match="trained on another bank"):
        promote_version("segments", demo_candidate, reason="the demo candidate looked good", user="t")
    assert main(["demo", "remove", "--yes"]) == 2
    assert "loaded from your files" in capsys.readouterr().err

    transactions = env["tmp"] / "own_tx.csv"
    tx = env["bank"].transactions
    tx = tx[tx["customer_id"].isin(env["bank"].customers["customer_id"].head(300))].copy()
    tx["customer_id"] += 500_000
    tx.to_csv(transactions, index=False)
    assert main(["load", "transactions", str(transactions)]) == 0
    assert main(["train", "segments", "--quick"]) == 0
    own_version = store.versions("segments")[-1]
    assert store.latest("segments") == own_version  # the served version belonged to the removed bank
    detail = read_audit(env["url"]).query("action == 'promote_model'")["detail"].iloc[0]
    assert f"automatic: the served version {demo_first} was trained on another bank" in detail


def test_production_setup_never_makes_a_demo_bank_unasked(tmp_path: Path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGERLIGHT_ENV", "production")
    assert main(["setup"]) == 0
    assert "in production the demo bank is made only with --demo" in capsys.readouterr().out
    assert not table_counts(url).get("customers")
    assert ArtifactStore().versions("risk") == []
