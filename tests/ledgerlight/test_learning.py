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


def test_learn_changes_the_customers_als_list_and_the_app_serves_it(
    env: dict, capsys: pytest.CaptureFixture
) -> None:
    store: ArtifactStore = env["store"]
    base = store.latest("recsys")
    served = _models(store)
    assert recsys_service.served().version == base
    customer = int(env["bank"].interactions["customer_id"].iloc[0])
    before = served.recommend(customer, 5, model="als")
    shown_before = recsys_service.customer_view(customer, 5).recommendations["als"]
    assert shown_before["product_id"].tolist() == before["product_id"].tolist()
    bought = _least_likely(served, customer)
    new = pd.DataFrame(
        {"customer_id": customer, "product_id": bought, "ts": "2030-01-02", "event": "purchase"}
    )
    path = env["tmp"] / "new_events.csv"
    new.to_csv(path, index=False)

    reason = ["--promote", "--reason", f"new purchases of customer {customer}"]
    assert main(["learn", "--interactions", str(path), *reason]) == 0
    assert "ALS and EASE refreshed for 1 customer" in capsys.readouterr().out
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
    pd.testing.assert_frame_equal(
        served.recommend(other, 5, model="als"), now.recommend(other, 5, model="als")
    )
    shown = recsys_service.customer_view(other, 5).recommendations["als"]
    assert shown["product_id"].tolist() == now.recommend(other, 5, model="als")["product_id"].tolist()


def _buy(env: dict, customer: int, products: list[int], name: str) -> Path:
    path = env["tmp"] / name
    pd.DataFrame(
        {"customer_id": customer, "product_id": products, "ts": "2030-01-02", "event": "purchase"}
    ).to_csv(path, index=False)
    return path


def test_learn_keeps_ease_and_its_list_follows_a_new_purchase(
    env: dict, capsys: pytest.CaptureFixture
) -> None:
    store: ArtifactStore = env["store"]
    base = store.load("recsys")
    served = _models(store)
    customer = int(env["bank"].interactions["customer_id"].iloc[5])
    before = served.recommend(customer, 12, model="ease")
    bought = before["product_id"].tolist()[-1:]  # what EASE thought least likely
    shown_before = recsys_service.customer_view(customer, 5, models=("ease",)).recommendations["ease"]
    path = _buy(env, customer, bought, "ease_events.csv")
    assert main(["learn", "--interactions", str(path), "--promote", "--reason", "a purchase for EASE"]) == 0
    assert "ALS and EASE refreshed" in capsys.readouterr().out
    new = store.load("recsys")
    assert new.version != base.version and "ease.npz" in new.metadata["files"]
    assert new.metadata["extra"]["incremental"]["models"] == ["popularity", "als", "mf", "ease"]
    now = _models(store)
    old_ease, new_ease = served.models["ease"], now.models["ease"]
    np.testing.assert_array_equal(
        new_ease.weights_, old_ease.weights_
    )  # the item-item matrix is not refitted
    after = now.recommend(customer, 12, model="ease")
    assert not set(bought) & set(after["product_id"])
    assert not np.allclose(before.set_index("product_id").loc[after["product_id"], "score"], after["score"])
    shown = recsys_service.customer_view(customer, 5, models=("ease",)).recommendations["ease"]
    assert (
        shown["product_id"].tolist() == after["product_id"].tolist()[:5]
    )  # published: the app serves it at once
    assert shown["score"].tolist() != shown_before["score"].tolist()
    others = old_ease.user_ids_[old_ease.user_ids_ != customer]
    np.testing.assert_array_equal(new_ease.score(others), old_ease.score(others))  # nobody else moved


def test_learn_on_a_version_without_ease_still_works(env: dict, capsys: pytest.CaptureFixture) -> None:
    store: ArtifactStore = env["store"]
    base = store.load("recsys")
    meta = base.metadata

    def write(folder: Path) -> None:  # a version saved before EASE
        for name in meta["files"]:
            if name not in ("ease.npz", "metadata.json"):
                (folder / name).write_bytes(base.file(name).read_bytes())

    old = store.save(
        "recsys",
        write,
        params=meta["params"],
        metrics=meta["metrics"],
        features=meta["features"],
        data_fingerprint=meta["data_fingerprint"],
        row_count=meta["row_count"],
        extra=meta["extra"],
        promote=True,
    )
    path = _buy(env, 1, [3], "old_events.csv")
    assert main(["learn", "--interactions", str(path), "--promote", "--reason", "old version, no EASE"]) == 0
    assert "ALS refreshed for 1 customer" in capsys.readouterr().out
    new = store.load("recsys")
    assert new.metadata["extra"]["incremental"]["base_version"] == old.version
    assert "ease.npz" not in new.metadata["files"]
    assert recsys_service.served().models == ("popularity", "als", "mf")
    assert set(recsys_service.customer_view(1, 3).recommendations) == {"popularity", "als", "mf"}


def test_learn_refuses_a_bad_file_and_stores_nothing(env: dict, capsys: pytest.CaptureFixture) -> None:
    path = env["tmp"] / "bad.csv"
    pd.DataFrame({"customer_id": [1], "product_id": [1], "ts": ["2030-01-02"], "event": ["liked"]}).to_csv(
        path, index=False
    )
    base = env["store"].latest("recsys")
    assert main(["learn", "--interactions", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "event" in err
    assert env["store"].latest("recsys") == base


def test_learn_without_promote_saves_a_candidate(env: dict, capsys: pytest.CaptureFixture) -> None:
    store: ArtifactStore = env["store"]
    base = store.latest("recsys")
    path = env["tmp"] / "events.csv"
    pd.DataFrame({"customer_id": [1], "product_id": [2], "ts": ["2030-01-02"], "event": ["purchase"]}).to_csv(
        path, index=False
    )
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
