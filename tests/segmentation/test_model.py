"""The segmentation estimator: determinism by seed, save/load without pickles, assignment of new rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from segmentation.model import CLIP, SegmentModel


@pytest.fixture(scope="module")
def blobs() -> pd.DataFrame:
    X, _ = make_blobs(
        n_samples=800, centers=4, n_features=3, cluster_std=0.5, center_box=(0, 20), random_state=2
    )
    return pd.DataFrame(
        np.abs(X), columns=["monetary", "age", "frequency"], index=pd.RangeIndex(800, name="customer_id")
    )


def test_same_seed_same_segments(blobs: pd.DataFrame) -> None:
    a = SegmentModel(k_range=range(2, 6), n_bootstrap=2, random_state=4).fit(blobs)
    b = SegmentModel(k_range=range(2, 6), n_bootstrap=2, random_state=4).fit(blobs)
    assert a.n_clusters_ == b.n_clusters_ == 4
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_)


def test_segment_zero_is_the_largest(blobs: pd.DataFrame) -> None:
    m = SegmentModel(n_clusters=3, random_state=0).fit(blobs)
    sizes = np.bincount(m.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_predict_reproduces_training_labels_and_scaling_is_clipped(blobs: pd.DataFrame) -> None:
    m = SegmentModel(n_clusters=4, random_state=0).fit(blobs)
    np.testing.assert_array_equal(m.predict(blobs), m.labels_)
    extreme = blobs.head(1).assign(age=1e9)
    assert m.scale(extreme).max() == CLIP
    assert m.project(blobs).shape == (800, 2)
    assert 0 < m.explained_variance_ratio_.sum() <= 1


def test_save_and_load_round_trip_without_pickle(blobs: pd.DataFrame, tmp_path: Path) -> None:
    m = SegmentModel(n_clusters=4, random_state=0).fit(blobs)
    m.save(tmp_path / "model.npz")
    loaded = SegmentModel.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(blobs), m.labels_)
    np.testing.assert_allclose(loaded.project(blobs), m.project(blobs))
    with np.load(tmp_path / "model.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


@pytest.mark.parametrize(
    "params",
    [
        {"n_clusters": None, "k_range": range(2, 6), "minibatch": True, "n_bootstrap": 2, "n_references": 2,
         "selection_sample": 600, "n_init": 3, "random_state": 7, "n_jobs": 2},
        {"n_clusters": 3, "k_range": (3, 5, 7), "minibatch": "auto", "n_bootstrap": 0, "n_references": 0,
         "selection_sample": 900, "n_init": 1, "random_state": 11, "n_jobs": 1},
    ],
)  # fmt: skip
def test_save_and_load_keep_every_hyperparameter(blobs: pd.DataFrame, tmp_path: Path, params: dict) -> None:
    m = SegmentModel(**params).fit(blobs.assign(age=np.where(blobs.index % 50 == 0, np.nan, blobs["age"])))
    m.save(tmp_path / "model.npz")
    loaded = SegmentModel.load(tmp_path / "model.npz")
    assert loaded.get_params() == m.get_params() == params
    assert type(loaded.k_range) is type(params["k_range"])
    assert loaded.minibatch_ == m.minibatch_
    np.testing.assert_array_equal(loaded.missing_counts_, m.missing_counts_)
    refit = SegmentModel(**loaded.get_params()).fit(blobs)  # the loaded settings reproduce the same fit
    np.testing.assert_array_equal(refit.labels_, SegmentModel(**params).fit(blobs).labels_)


def test_load_of_a_model_saved_before_hyperparameters_were_kept(blobs: pd.DataFrame, tmp_path: Path) -> None:
    m = SegmentModel(n_clusters=3, random_state=0).fit(blobs)
    m.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as data:
        old = {k: data[k] for k in data.files if k not in ("params", "minibatch_used", "missing_counts")}
    np.savez(tmp_path / "old.npz", **old)
    loaded = SegmentModel.load(tmp_path / "old.npz")
    assert loaded.n_clusters == 3
    np.testing.assert_array_equal(loaded.predict(blobs), m.labels_)


def test_new_customers_need_the_trained_columns(blobs: pd.DataFrame) -> None:
    m = SegmentModel(n_clusters=2, random_state=0).fit(blobs)
    with pytest.raises(ValueError, match="missing column.*frequency"):
        m.predict(blobs.drop(columns="frequency"))
    with pytest.raises(ValueError, match="infinite values.*customer 5"):
        m.predict(blobs.assign(age=np.where(blobs.index == 5, np.inf, blobs["age"])))


def test_missing_values_are_imputed_with_the_median_and_counted(blobs: pd.DataFrame) -> None:
    holes = blobs.assign(age=np.where(blobs.index % 10 == 0, np.nan, blobs["age"]))
    m = SegmentModel(n_clusters=2, random_state=0).fit(holes)
    assert m.missing_counts_[m.feature_names_.index("age")] == int(holes["age"].isna().sum())
    assert m.medians()["age"] == pytest.approx(holes["age"].median(), rel=0.05)
    filled = m.impute(holes)
    assert not filled.isna().any().any()
    np.testing.assert_array_equal(m.predict(holes), m.predict(filled))
    with_empty_column = SegmentModel(n_clusters=2, random_state=0).fit(blobs.assign(extra=np.nan))
    assert with_empty_column.predict(blobs.assign(extra=np.nan)).shape == (len(blobs),)


def test_fit_rejects_too_few_customers_and_bad_threads(blobs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least 3 customers"):
        SegmentModel().fit(blobs.head(2))
    with pytest.raises(ValueError, match="n_jobs must be 1 or 2"):
        SegmentModel(n_jobs=8).fit(blobs)
