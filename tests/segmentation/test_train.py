"""Training on the demo bank and on a user's log: the artifact, its files, reloading and assignment."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bankdata import ArtifactStore, Bank
from segmentation import MODEL_NAME, assign, bank_features, load_segmentation, train_from_bank, train_from_log


@pytest.fixture(scope="module")
def trained(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory):
    store = ArtifactStore(root=tmp_path_factory.mktemp("seg") / "checkpoints")
    return store, train_from_bank(small_bank, store, quick=True)


def test_bank_artifact_has_every_file_and_metric(trained, small_bank: Bank) -> None:
    store, art = trained
    assert art.model == MODEL_NAME and store.latest(MODEL_NAME) == art.version
    assert {"model.npz", "selection.json", "segments.json", "profiles.parquet", "assignments.parquet"} <= set(
        art.metadata["files"]
    )
    m = art.metadata["metrics"]
    assert 2 <= m["k"] <= 7 and m["n_customers"] == small_bank.n_customers
    assert -1 <= m["silhouette"] <= 1 and m["davies_bouldin"] > 0
    assert 0.15 < m["ari_personas"] <= 1  # the segments recover the personas far better than chance (0)
    selection = json.loads((art.path / "selection.json").read_text())
    assert selection["k"] == m["k"] and len(selection["table"]) == 6


def test_loaded_segmentation_matches_the_bank(trained, small_bank: Bank) -> None:
    _, art = trained
    seg = load_segmentation(art)
    assert len(seg.customers) == small_bank.n_customers
    assert seg.customers["customer_id"].is_unique
    assert {"segment", "pc1", "pc2", "age", "income", "region", "products"} <= set(seg.customers.columns)
    assert seg.segments["size"].sum() == small_bank.n_customers
    assert seg.segments["name"].is_unique
    assert seg.segments["revenue_share"].sum() == pytest.approx(1.0)


def test_assign_new_customers_reproduces_stored_segments(trained, small_bank: Bank) -> None:
    _, art = trained
    seg = load_segmentation(art)
    features = bank_features(small_bank).head(200)
    got = assign(features, art)
    stored = seg.customers.set_index("customer_id").loc[features.index]
    np.testing.assert_array_equal(got["segment"].to_numpy(), stored["segment"].to_numpy())
    np.testing.assert_allclose(got["pc1"].to_numpy(), stored["pc1"].to_numpy())


def test_unknown_customer_ids_give_a_clear_error(trained) -> None:
    _, art = trained
    seg = load_segmentation(art)
    assert seg.segment_of([1, 2])["customer_id"].tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"2 unknown customer id\(s\): 999999, -4"):
        seg.segment_of([1, 999999, -4])


def test_same_seed_same_segments(small_bank: Bank, tmp_path) -> None:
    a = train_from_bank(small_bank, ArtifactStore(tmp_path / "a"), quick=True, n_clusters=4, random_state=3)
    b = train_from_bank(small_bank, ArtifactStore(tmp_path / "b"), quick=True, n_clusters=4, random_state=3)
    la = pd.read_parquet(a.path / "assignments.parquet")
    lb = pd.read_parquet(b.path / "assignments.parquet")
    pd.testing.assert_frame_equal(la, lb)


def test_train_from_a_bare_log(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 400
    heavy = np.arange(n) < 100
    rows = np.repeat(np.arange(n), np.where(heavy, 20, 2))
    log = pd.DataFrame(
        {
            "customer_id": rows + 1000,
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, len(rows)), unit="D"),
            "amount": np.where(heavy[rows], 200.0, 15.0) * rng.uniform(0.8, 1.2, len(rows)),
        }
    )
    art = train_from_log(log, ArtifactStore(tmp_path), name="shop.csv", quick=True)
    seg = load_segmentation(art)
    assert art.metadata["extra"]["source"] == "shop.csv"
    top = seg.customers.groupby("segment")["monetary"].mean().idxmax()
    assert set(seg.customers.loc[seg.customers["segment"] == top, "customer_id"]) == set(range(1000, 1100))
