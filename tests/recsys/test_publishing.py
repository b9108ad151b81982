"""Publishing: the stored lists and campaign candidates equal what the fitted models compute, on SQLite and
PostgreSQL; importing the package needs no torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import recsys
from bankdata import ArtifactStore, Bank, query, write_bank
from bankdata import _db as db
from bankdata import _serving as serving
from recsys import CAMPAIGN_TABLE, RECOMMENDATIONS_TABLE, RecsysModels, cooccurrence, customer_side_features

MODELS = ("popularity", "als", "mf", "ease")


@pytest.fixture(scope="module")
def trained(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory):
    store = ArtifactStore(tmp_path_factory.mktemp("recsys-publish"))
    artifact = recsys.train_from_bank(small_bank, store, quick=True)
    return artifact, RecsysModels.from_artifact(artifact)


@pytest.fixture(scope="module")
def published(small_bank: Bank, trained, tmp_path_factory: pytest.TempPathFactory) -> dict:
    artifact, _ = trained
    url = f"sqlite:///{tmp_path_factory.mktemp('recsys-db') / 'bank.db'}"
    write_bank(small_bank, url)
    written = recsys.publish(artifact, small_bank, url)
    return {"url": url, "written": written, "version": artifact.version}


def _lists(url: str, version: str) -> pd.DataFrame:
    t = RECOMMENDATIONS_TABLE
    return query(sa.select(t).where(t.c.model_version == version).order_by(t.c.model, t.c.customer_id), url)


def _campaigns(url: str, version: str) -> pd.DataFrame:
    t = CAMPAIGN_TABLE
    return query(
        sa.select(t).where(t.c.model_version == version).order_by(t.c.model, t.c.product_id, t.c.rank), url
    )


def _parse(text: str | None, kind: type) -> list:
    return [kind(v) for v in text.split(",")] if text else []


def test_every_customer_gets_each_models_ranking_of_what_they_do_not_hold(
    small_bank, trained, published
) -> None:
    _, models = trained
    ids = np.sort(small_bank.customers["customer_id"].to_numpy())
    side = customer_side_features(small_bank.customers)
    lists = _lists(published["url"], published["version"])
    assert published["written"][RECOMMENDATIONS_TABLE.name] == len(lists) == len(MODELS) * len(ids)
    held = small_bank.held_products().groupby("customer_id")["product_id"].agg(set)
    for name in MODELS:
        rows = lists[lists["model"] == name].reset_index(drop=True)
        assert rows["customer_id"].tolist() == ids.tolist()
        items, scores = models.models[name].recommend(
            ids, 12, user_features=side
        )  # the old way, every customer
        for r, row in enumerate(rows.itertuples(index=False)):
            products = _parse(row.products, int)
            expected = [int(i) for i in items[r] if i >= 0]
            assert products == expected, (name, row.customer_id)
            assert not set(products) & held.get(row.customer_id, set())
            np.testing.assert_allclose(
                _parse(row.scores, float), scores[r][: len(expected)], rtol=1e-5, atol=1e-6
            )
        if name == "mf":
            assert rows["features"].notna().all()  # EASE's reasons need no per-customer tokens
        else:
            assert rows["features"].isna().all()


def test_campaign_candidates_are_the_models_campaigns(small_bank, trained, published) -> None:
    _, models = trained
    ids = small_bank.customers["customer_id"].to_numpy()
    side = customer_side_features(small_bank.customers)
    stored = _campaigns(published["url"], published["version"])
    assert published["written"][CAMPAIGN_TABLE.name] == len(stored)
    holders = small_bank.held_products().groupby("product_id")["customer_id"].agg(set)
    for name in MODELS:
        for product in models.catalogue["product_id"]:
            rows = stored[(stored["model"] == name) & (stored["product_id"] == product)]
            old = models.campaign(int(product), len(ids), model=name, customer_ids=ids, user_features=side)
            assert len(rows) == len(old) == len(ids) - len(holders.get(product, set()))
            assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
            assert not set(rows["customer_id"]) & holders.get(product, set())
            np.testing.assert_allclose(rows["score"].to_numpy(), old["score"].to_numpy(), rtol=1e-6)
            if name != "popularity":  # popularity scores every customer the same: ties (we order them by id)
                assert rows["customer_id"].tolist()[:300] == old["customer_id"].tolist()[:300]
            else:
                assert rows["customer_id"].tolist() == sorted(rows["customer_id"])


def test_campaign_lists_are_capped(small_bank, trained, tmp_path, monkeypatch) -> None:
    artifact, _ = trained
    monkeypatch.setattr(recsys.publishing, "MAX_CAMPAIGN", 40)
    url = f"sqlite:///{tmp_path / 'capped.db'}"
    write_bank(small_bank, url)
    recsys.publish(artifact, small_bank, url)
    counts = _campaigns(url, artifact.version).groupby(["model", "product_id"]).size()
    assert len(counts) == len(MODELS) * len(small_bank.products) and (counts == 40).all()


def test_the_evidence_holds_what_a_page_needs(small_bank, trained, published) -> None:
    _, models = trained
    doc = recsys.serving_evidence(published["version"], published["url"])
    assert [r["product_id"] for r in doc["catalogue"]] == models.catalogue["product_id"].tolist()
    assert np.array_equal(np.asarray(doc["cooccurrence"]), cooccurrence(models.models["popularity"].held_))
    assert doc["metrics"]["k"] == models.metrics["k"]
    mf = models.models["mf"]
    assert doc["mf"]["feature_names"] == mf.feature_names_
    np.testing.assert_array_equal(np.asarray(doc["mf"]["token_factors"], dtype=np.float32), mf.token_factors_)
    assert doc["depth"] == len(small_bank.products)  # 12 products: every list ranks all that are not held
    ease = models.models["ease"]
    np.testing.assert_array_equal(
        np.asarray(doc["ease"]["item_weights"], dtype=np.float32), ease.weights_[: ease.n_items]
    )
    assert doc["models"] == list(MODELS)
    k = models.metrics["k"]
    scores = {m: models.metrics["models"][m][f"ndcg@{k}"] for m in MODELS}
    assert doc["best_model"] == models.best == max(scores, key=scores.get)
    assert recsys.serving_evidence("20000101T000000Z", published["url"]) is None


def test_best_model_is_the_highest_held_out_ndcg_of_the_served_ones() -> None:
    report = {"k": 5, "models": {"mf": {"ndcg@5": 0.75}, "ease": {"ndcg@5": 0.79}, "als": {"ndcg@5": 0.74}}}
    assert recsys.best_model(report, ["popularity", "als", "mf", "ease"]) == "ease"
    assert recsys.best_model(report, ["popularity", "als", "mf"]) == "mf"  # a version without EASE
    assert recsys.best_model({"k": 5, "models": {}}, ["popularity", "als", "mf"]) == "mf"  # no evaluation
    tie = {"k": 5, "models": {"als": {"ndcg@5": 0.7}, "mf": {"ndcg@5": 0.7}}}
    assert recsys.best_model(tie, ["popularity", "als", "mf"]) == "als"


def test_ease_reasons_name_the_held_product_with_the_largest_weight(trained) -> None:
    _, models = trained
    ease = models.models["ease"]
    weights = ease.weights_[: ease.n_items]
    names = models.catalogue["name"].tolist()
    for customer in ease.user_ids_[:200]:
        held_cols = np.flatnonzero(ease.held_mask([customer])[0])
        recs = models.recommend(int(customer), 3, model="ease")
        for row in recs.itertuples(index=False):
            col = names.index(row.name)
            positive = held_cols[weights[held_cols, col] > 0]
            if len(positive):
                strongest = names[int(positive[np.argmax(weights[positive, col])])]
                assert row.reason == f"Customers who hold {strongest} often take {row.name}"
            else:
                assert "often take" not in row.reason


def test_publishing_again_replaces_the_versions_rows(small_bank, trained, published) -> None:
    artifact, _ = trained
    before = _lists(published["url"], artifact.version)
    recsys.publish(artifact, small_bank, published["url"])
    pd.testing.assert_frame_equal(_lists(published["url"], artifact.version), before)


def test_importing_recsys_imports_neither_torch_nor_implicit() -> None:
    code = (
        "import sys, recsys, recsys.publishing, recsys.serving; "
        "bad = [m for m in ('torch', 'implicit') if m in sys.modules]; assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2]
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.postgres
def test_postgresql_holds_the_same_rows(small_bank, trained, published) -> None:
    pg_url = os.environ.get("DATABASE_URL_TEST")
    if not pg_url:
        pytest.skip("DATABASE_URL_TEST is not set")
    artifact, _ = trained
    with db.engine_for(pg_url).begin() as conn:
        serving.served_metadata.drop_all(conn)
        db.metadata.drop_all(conn)
    try:
        write_bank(small_bank, pg_url)
        assert recsys.publish(artifact, small_bank, pg_url) == published["written"]
        pd.testing.assert_frame_equal(
            _lists(pg_url, artifact.version), _lists(published["url"], artifact.version)
        )
        pd.testing.assert_frame_equal(
            _campaigns(pg_url, artifact.version),
            _campaigns(published["url"], artifact.version),
            check_dtype=False,
        )
        assert recsys.serving_evidence(artifact.version, pg_url) == recsys.serving_evidence(
            artifact.version, published["url"]
        )
    finally:
        with db.engine_for(pg_url).begin() as conn:
            serving.served_metadata.drop_all(conn)
            db.metadata.drop_all(conn)


def test_the_train_command_publishes_the_bank_in_the_database(
    small_bank, tmp_path, monkeypatch, capsys
) -> None:
    from bankdata import published_rows
    from ledgerlight.cli import main

    url = f"sqlite:///{tmp_path / 'bank.db'}"
    write_bank(small_bank, url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    assert main(["recsys", "train", "--quick"]) == 0
    assert "published recommendations" in capsys.readouterr().out
    version = ArtifactStore(tmp_path / "checkpoints").latest("recsys")
    assert published_rows(RECOMMENDATIONS_TABLE, version, url) == len(MODELS) * small_bank.n_customers
