"""Publishing a segmentation: the member rows and the evidence equal the artifact, the product bitmask round-trips,
and the light load reads no per-customer file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from bankdata import ArtifactStore, Bank, published_rows, query, read_evidence
from segmentation import (
    MEMBERS_TABLE,
    load_segmentation,
    load_served_model,
    publish,
    train_from_bank,
    train_from_log,
)
from segmentation.publishing import (
    FIXED_FEATURES,
    PATTERN_COLUMNS,
    feature_columns,
    mask_products,
    product_catalogue,
    products_mask,
    selection_evidence,
)
from segmentation.selection import STABLE_ARI


@pytest.fixture(scope="module")
def published(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("seg-publish")
    artifact = train_from_bank(small_bank, ArtifactStore(root / "checkpoints"), quick=True)
    url = f"sqlite:///{root / 'serving.db'}"
    written = publish(artifact, small_bank, url)
    return artifact, url, written


def _members(url: str, version: str) -> pd.DataFrame:
    t = MEMBERS_TABLE
    return query(sa.select(t).where(t.c.model_version == version).order_by(t.c.customer_id), url)


def test_one_row_per_customer_equal_to_the_artifact(published, small_bank: Bank) -> None:
    artifact, url, written = published
    assert written == {"segment_members": small_bank.n_customers}
    assert published_rows(MEMBERS_TABLE, artifact.version, url) == small_bank.n_customers
    rows = _members(url, artifact.version)
    full = load_segmentation(artifact).customers.sort_values("customer_id").reset_index(drop=True)
    assert rows["customer_id"].tolist() == full["customer_id"].tolist()
    assert rows["segment"].tolist() == full["segment"].tolist()
    np.testing.assert_allclose(rows[["pc1", "pc2"]], full[["pc1", "pc2"]])
    assert sorted(rows["sample_rank"]) == list(range(len(rows)))
    columns = read_evidence("segments", artifact.version, "features", url)
    for doc in columns:
        np.testing.assert_allclose(rows[doc["column"]].astype(float), full[doc["name"]], err_msg=doc["name"])
        assert doc["base_mean"] == pytest.approx(full[doc["name"]].mean())
    for col in ("region", "gender", "employment"):
        assert rows[col].tolist() == full[col].astype(str).tolist()
    catalogue = read_evidence("segments", artifact.version, "products", url)
    assert catalogue == small_bank.products.sort_values("product_id")["name"].tolist()
    assert [mask_products(m, catalogue) for m in rows["products_mask"]] == full["products"].fillna(
        ""
    ).tolist()


def test_the_evidence_describes_the_segmentation(published, small_bank: Bank) -> None:
    artifact, url, _ = published
    seg = load_segmentation(artifact)

    def doc(kind: str):
        return read_evidence("segments", artifact.version, kind, url)

    selection = doc("selection")
    assert {k: v for k, v in selection.items() if k != "stable_ari"} == seg.selection
    assert selection["stable_ari"] == STABLE_ARI  # the threshold the page draws
    assert all({"gap", "gap_se", "stability"} <= set(row) for row in selection["table"])  # what chose k
    segments = pd.DataFrame(doc("segments"))
    assert segments["size"].sum() == small_bank.n_customers
    revenue = seg.customers.groupby("segment")["monetary"].sum()
    np.testing.assert_allclose(segments.set_index("segment")["revenue"], revenue.reindex(segments["segment"]))
    assert len(doc("profiles")) == len(seg.profiles)
    boxes = pd.DataFrame(doc("boxes")).set_index(["segment", "feature"])
    q = seg.customers.groupby("segment")["income"].quantile([0.25, 0.5, 0.75]).unstack()
    np.testing.assert_allclose(boxes.xs("income", level="feature")["median"], q[0.5])
    bounds = doc("bounds")
    assert (
        bounds["age"][0] <= small_bank.customers["age"].min()
        and bounds["age"][1] >= small_bank.customers["age"].max()
    )
    assert bounds["regions"] == sorted(small_bank.customers["region"].astype(str).unique())
    model = doc("model")
    assert model["n_customers"] == small_bank.n_customers
    assert model["explained_variance_ratio"] == pytest.approx(seg.model.explained_variance_ratio_.tolist())


def test_a_fixed_k_publishes_its_empty_evidence_as_it_is() -> None:
    fixed = {"table": [], "k": 4, "elbow_k": None, "rule": "k fixed"}
    assert selection_evidence(fixed) == fixed


def test_republishing_replaces_the_version(published, small_bank: Bank) -> None:
    artifact, url, _ = published
    publish(artifact, small_bank, url)
    assert len(_members(url, artifact.version)) == small_bank.n_customers


def test_the_light_load_reads_no_customer_file(published, monkeypatch) -> None:
    artifact, _, _ = published
    real = pd.read_parquet

    def guarded(path, *args, **kwargs):
        assert not str(path).endswith(("assignments.parquet", "features.parquet", "attributes.parquet")), path
        return real(path, *args, **kwargs)

    monkeypatch.setattr("segmentation.artifact.pd.read_parquet", guarded)
    seg = load_served_model(artifact)
    assert seg.customers is None and seg.model.n_clusters_ == len(seg.segments)
    with pytest.raises(ValueError, match="without its customers"):
        seg.segment_of([1])


def test_the_product_bitmask_round_trips() -> None:
    held = pd.Series(["b;a", "", None, "c", "a;c;z"])
    catalogue = product_catalogue(held)
    assert catalogue == ["a", "b", "c", "z"]
    mask = products_mask(held, catalogue)
    assert mask.tolist() == [0b11, 0, 0, 0b100, 0b1101]
    assert [mask_products(m, catalogue) for m in mask] == ["a;b", "", "", "c", "a;c;z"]
    many = pd.Series([";".join(f"p{i:03d}" for i in range(70))])
    assert len(product_catalogue(many)) == 63
    assert products_mask(many, product_catalogue(many))[0] == (1 << 63) - 1


def test_features_beyond_the_slots_are_left_out() -> None:
    names = ["age", *(f"spend_{i}" for i in range(len(PATTERN_COLUMNS) + 3)), "monetary"]
    columns = feature_columns(names)
    assert columns["age"] == "age" and columns["monetary"] == "monetary"
    assert [columns[f"spend_{i}"] for i in range(len(PATTERN_COLUMNS))] == list(PATTERN_COLUMNS)
    assert f"spend_{len(PATTERN_COLUMNS)}" not in columns
    assert set(FIXED_FEATURES) >= {"recency_days", "frequency", "monetary", "n_products", "age", "income"}


def test_a_segmentation_of_a_users_log_publishes_too(tmp_path) -> None:
    rng = np.random.default_rng(1)
    rows = np.repeat(np.arange(300), 4)
    log = pd.DataFrame(
        {
            "customer_id": rows + 500,
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, len(rows)), unit="D"),
            "amount": rng.gamma(2.0, 30.0, len(rows)),
        }
    )
    artifact = train_from_log(
        log, ArtifactStore(tmp_path / "checkpoints"), quick=True, n_clusters=3, model_name="segments"
    )
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    assert publish(artifact, None, url) == {"segment_members": 300}
    rows = _members(url, artifact.version)
    assert rows["age"].isna().all() and rows["region"].isna().all() and (rows["products_mask"] == 0).all()
    assert read_evidence("segments", artifact.version, "bounds", url) == {
        "age": None,
        "income": None,
        "regions": [],
    }
    assert read_evidence("segments", artifact.version, "products", url) == []
