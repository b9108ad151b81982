"""Choosing k on data with known clusters."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segmentation.selection import elbow, select_k


@pytest.mark.parametrize("true_k", [3, 5])
def test_select_k_finds_well_separated_clusters(true_k: int) -> None:
    X, _ = make_blobs(
        n_samples=900, centers=true_k, n_features=4, cluster_std=0.6, center_box=(-12, 12), random_state=3
    )
    sel = select_k(X, range(2, 8), n_bootstrap=3, random_state=0)
    assert sel.k == true_k
    row = sel.table.set_index("k").loc[true_k]
    assert row["silhouette"] == sel.table["silhouette"].max()
    assert row["stability"] > 0.9
    assert list(sel.table.columns) == [
        "k",
        "inertia",
        "silhouette",
        "davies_bouldin",
        "stability",
        "score",
        "gap",
        "gap_se",
    ]


def test_select_k_is_deterministic_by_seed() -> None:
    X, _ = make_blobs(n_samples=600, centers=4, n_features=3, random_state=1)
    a = select_k(X, range(2, 6), n_bootstrap=2, sample_size=400, random_state=5)
    b = select_k(X, range(2, 6), n_bootstrap=2, sample_size=400, random_state=5)
    assert a.k == b.k
    assert a.table.equals(b.table)


def test_elbow_of_a_bent_curve() -> None:
    assert elbow([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 8, 6]) == 3


def test_select_k_rejects_bad_candidates() -> None:
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=">= 2"):
        select_k(X, [1, 2])
    with pytest.raises(ValueError, match="more than 20"):
        select_k(X, [2, 25])


def test_gap_decides_and_without_references_silhouette_and_davies_bouldin_do() -> None:
    X, _ = make_blobs(
        n_samples=900, centers=4, n_features=4, cluster_std=0.6, center_box=(-12, 12), random_state=3
    )
    with_gap = select_k(X, range(2, 7), n_bootstrap=2, n_references=3, random_state=0)
    t = with_gap.table.set_index("k")
    assert "gap statistic" in with_gap.rule
    assert t["gap"].idxmax() >= with_gap.k == 4
    assert t.loc[4, "gap"] >= t.loc[5, "gap"] - t.loc[5, "gap_se"]  # the one-standard-error rule holds at k
    assert (
        t.loc[[2, 3], "gap"].to_numpy() < t.loc[[3, 4], "gap"].to_numpy() - t.loc[[3, 4], "gap_se"].to_numpy()
    ).all()
    plain = select_k(X, range(2, 7), n_bootstrap=2, n_references=0, random_state=0)
    assert plain.table["gap"].isna().all() and "silhouette" in plain.rule and plain.k == 4
