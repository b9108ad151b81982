"""``ledgerlight learn / retrain / promote``: new events change recommendations; the app serves the promoted version."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recsys
from bankdata import ArtifactStore, Bank, published_rows, read_audit, read_bank, write_bank
from dashapp.services import clear_caches
from dashapp.services import recsys as recsys_service
from ledgerlight.cli import main


@pytest.fixture()
def env(small_bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    write_bank(small_bank, url)
    store = ArtifactStore()
    bank = read_bank(url, with_truth=True)  # the database's bank, with its identity: what serving trains on
    recsys.publish(recsys.train_from_bank(bank, store, quick=True), bank, url)
    clear_caches()
    yield {"tmp": tmp_path, "store": store, "bank": small_bank, "url": url}
    clear_caches()


def _models(store: ArtifactStore) -> recsys.RecsysModels:
    return recsys.RecsysModels.from_artifact(store.load("recsys"))


def _published(url: str, version: str) -> bool:
    return published_rows(recsys.RECOMMENDATIONS_TABLE, version, url) is not None


def _least_likely(models: recsys.RecsysModels, customer: int, n: int = 2) -> list[int]:
    """The customer's ``n`` lowest-ranked products (buying them must change the ALS list)."""
    ranked = models.recommend(customer, 12, model="als")["product_id"].tolist()
    return ranked[-n:]


def test_learn_changes_the_customers_als_list_and_the_app_serves_it(env: dict, capsys: pytest.CaptureFixture) -> None:
    store: ArtifactStore = env["store"]
    base = store.latest("recsys")
    served = _models(store)
    assert recsys_service.served().version == base
    customer = int(env["bank"].interactions["customer_id"].iloc[0])
    before = served.recommend(customer, 5, model="als")
    shown_before = recsys_service.customer_view(customer, 5).recommendations["als"]
    assert shown_before["product_id"].tolist() == before["product_id"].tolist()
    bought = _least_likely(served, customer)
    new = pd.DataFrame({"customer_id": customer, "product_id": bought, "ts": "2030-01-02", "event": "purchase"})
    path = env["tmp"] / "new_events.csv"
    new.to_csv(path, index=False)

    reason = ["--promote", "--reason", f"new purchases of customer {customer}"]
    assert main(["learn", "--interactions", str(path), *reason]) == 0
    assert "ALS refreshed for 1 customer" in capsys.readouterr().out
    latest = store.latest("recsys")
    assert latest != base
    assert store.load("recsys").metadata["extra"]["incremental"]["base_version"] == base

    assert _published(env["url"], latest)  # the learn command published its new version
    now = _models(store)
    after = now.recommend(customer, 5, model="als")
    assert not set(bought) & set(after["product_id"])  # bought: now held, never recommended
    assert not np.allclose(before["score"].to_numpy()[:2], after["score"].to_numpy()[:2])
    assert set(bought) <= set(now.held(customer)["product_id"])

    assert recsys_service.served().version == latest  # same worker, no restart, no cache clearing
    view = recsys_service.customer_view(customer, 5)
    assert view.recommendations["als"]["product_id"].tolist() == after["product_id"].tolist()
    assert set(bought) <= set(view.held["product_id"])
    other = int(env["bank"].interactions["customer_id"].iloc[-1])
    pd.testing.assert_frame_equal(served.recommend(other, 5, model="als"), now.recommend(other, 5, model="als"))
    shown = recsys_service.customer_view(other, 5).recommendations["als"]
    assert shown["product_id"].tolist() == now.recommend(other, 5, model="als")["product_id"].tolist()


def test_learn_refuses_a_bad_file_and_stores_nothing(env: dict, capsys: pytest.CaptureFixture) -> None:
    path = env["tmp"] / "bad.csv"
    pd.DataFrame({"customer_id": [1], "product_id": [1], "ts": ["2030-01-02"], "event": ["liked"]}).to_csv(path, index=False)
    base = env["store"].latest("recsys")
    assert main(["learn", "--interactions", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "event" in err
    assert env["store"].latest("recsys") == base


def test_learn_without_promote_saves_a_candidate(env: dict, capsys: pytest.CaptureFixture) -> None:
    store: ArtifactStore = env["store"]
    base = store.latest("recsys")
    path = env["tmp"] / "events.csv"
    pd.DataFrame({"customer_id": [1], "product_id": [2], "ts": ["2030-01-02"], "event": ["purchase"]}).to_csv(path, index=False)
    assert main(["learn", "--interactions", str(path)]) == 0
    assert "is a candidate (the app still serves" in capsys.readouterr().out
    assert store.latest("recsys") == base and store.versions("recsys")[-1] != base
    assert recsys_service.served().version == base
    assert main(["learn", "--interactions", str(path), "--promote"]) == 2
    assert "--promote needs --reason" in capsys.readouterr().err


def test_retrain_saves_a_candidate_that_promote_serves_with_an_audited_reason(
    env: dict, capsys: pytest.CaptureFixture
) -> None:
    store: ArtifactStore = env["store"]
    base = store.latest("recsys")
    assert main(["retrain", "recsys", "--quick"]) == 0
    new = store.versions("recsys")[-1]
    assert new != base and store.latest("recsys") == base
    assert f"recsys/{new} is a candidate" in capsys.readouterr().out
    assert _published(env["url"], new)  # published although not served yet
    assert recsys_service.served().version == base
    assert main(["promote", "recsys", new]) == 2
    assert "promote needs --reason" in capsys.readouterr().err
    assert main(["promote", "recsys", new, "--reason", "short"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert store.latest("recsys") == base
    assert main(["promote", "recsys", new, "--reason", "monthly retrain, checked by risk"]) == 0
    assert store.latest("recsys") == new
    audit = read_audit(env["url"])
    row = audit[audit["action"] == "promote_model"].iloc[0]
    assert row["target"] == f"recsys/{new}" and row["user"].startswith("cli:")
    assert row["detail"] == f"from {base}; reason: monthly retrain, checked by risk"
    assert recsys_service.served().version == new
    assert len(recsys_service.customer_view(1, 3).recommendations["mf"]) == 3
    assert main(["promote", "recsys", new, "--reason", "promote it once more please"]) == 2
    assert "already served" in capsys.readouterr().err
    assert main(["promote", "recsys", "20000101T000000Z", "--reason", "a version that does not exist"]) == 2
    assert "not a saved version of recsys" in capsys.readouterr().err
