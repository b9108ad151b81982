"""Choosing the number of segments k from evidence: silhouette, Davies-Bouldin, the elbow of inertia and
stability across bootstrap resamples (adjusted Rand index)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_limits

STABLE_ARI = 0.75
"""Bootstrap stability (mean ARI) at or above which a k counts as stable."""


@dataclass(frozen=True)
class KSelection:
    """The evidence for each candidate k and the k it supports.

    Attributes
    ----------
    table : DataFrame
        One row per k: inertia, silhouette, davies_bouldin, stability (mean ARI over bootstraps), score.
    k : int
        The chosen k.
    elbow_k : int
        The elbow of the inertia curve (largest distance below the chord from first to last k).
    rule : str
        The decision rule, in words, for the user.
    """

    table: pd.DataFrame
    k: int
    elbow_k: int
    rule: str


def make_kmeans(k: int, *, minibatch: bool, random_state: int, n_init: int = 4) -> KMeans | MiniBatchKMeans:
    """A K-Means estimator (MiniBatch for large bases) with the project's settings."""
    if minibatch:
        return MiniBatchKMeans(n_clusters=k, n_init=n_init, batch_size=4096, random_state=random_state)
    return KMeans(n_clusters=k, n_init=n_init, random_state=random_state)


def elbow(ks: Sequence[int], inertia: Sequence[float]) -> int:
    """The k of the inertia curve farthest below the straight line from its first to its last point."""
    x = np.asarray(ks, dtype=np.float64)
    y = np.asarray(inertia, dtype=np.float64)
    if len(x) < 3:
        return int(x[0])
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y[-1]) / (y[0] - y[-1]) if y[0] != y[-1] else np.zeros_like(y)
    chord = 1.0 - xn
    return int(x[np.argmax(chord - yn)])


def _rank(values: pd.Series, higher_is_better: bool) -> pd.Series:
    return values.rank(ascending=not higher_is_better, method="average")


def select_k(
    X: np.ndarray,
    ks: Sequence[int] = range(2, 11),
    *,
    n_bootstrap: int = 5,
    sample_size: int = 5_000,
    minibatch: bool = False,
    random_state: int = 0,
    n_threads: int = 1,
) -> KSelection:
    """Score each candidate k on a sample of ``X`` and choose one.

    Rule: among stable ks (bootstrap ARI >= ``STABLE_ARI``; all ks when none is), take the best mean rank of
    silhouette (higher is better) and Davies-Bouldin (lower is better); ties go to the k nearest the elbow,
    then to the smaller k.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Scaled features.
    ks : sequence of int
        Candidate numbers of segments (each >= 2 and < the number of samples).
    n_bootstrap : int
        Bootstrap resamples per k for the stability ARI (0 skips stability).
    sample_size : int
        Rows sampled (without replacement) for all the scores; bounds the cost on large bases.
    minibatch : bool
        Use MiniBatchKMeans.
    random_state : int
        Seed; the same seed gives the same evidence and k.
    n_threads : int
        BLAS/OpenMP threads (1 or 2).
    """
    with threadpool_limits(limits=n_threads):
        return _select_k(np.asarray(X, dtype=np.float64), ks, n_bootstrap, sample_size, minibatch, random_state)


def _select_k(
    X: np.ndarray, ks: Sequence[int], n_bootstrap: int, sample_size: int, minibatch: bool, random_state: int
) -> KSelection:
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 2:
        raise ValueError(f"candidate k values must be >= 2; got {ks}")
    rng = np.random.default_rng(random_state)
    sample = X[rng.choice(len(X), size=sample_size, replace=False)] if len(X) > sample_size else X
    if ks[-1] >= len(sample):
        raise ValueError(f"k up to {ks[-1]} needs more than {len(sample)} customers")
    rows = []
    for k in ks:
        model = make_kmeans(k, minibatch=minibatch, random_state=random_state).fit(sample)
        labels = model.labels_
        if len(np.unique(labels)) < 2:
            sil, dbi = -1.0, np.inf
        else:
            sil = float(silhouette_score(sample, labels, random_state=random_state))
            dbi = float(davies_bouldin_score(sample, labels))
        aris = []
        for b in range(n_bootstrap):
            boot = sample[rng.integers(0, len(sample), size=len(sample))]
            refit = make_kmeans(k, minibatch=minibatch, random_state=random_state + 1 + b, n_init=1).fit(boot)
            aris.append(adjusted_rand_score(labels, refit.predict(sample)))
        stability = float(np.mean(aris)) if aris else np.nan
        rows.append({"k": k, "inertia": float(model.inertia_), "silhouette": sil, "davies_bouldin": dbi, "stability": stability})
    table = pd.DataFrame(rows)
    elbow_k = elbow(table["k"], table["inertia"])
    table["score"] = (_rank(table["silhouette"], True) + _rank(table["davies_bouldin"], False)) / 2.0
    stable = table["stability"] >= STABLE_ARI if n_bootstrap else pd.Series(True, index=table.index)
    candidates = table[stable] if stable.any() else table
    order = candidates.assign(dist=(candidates["k"] - elbow_k).abs()).sort_values(["score", "dist", "k"])
    k = int(order["k"].iloc[0])
    rule = (
        f"among k with bootstrap stability (ARI) >= {STABLE_ARI:.2f}, the best mean rank of silhouette and "
        f"Davies-Bouldin; ties to the elbow (k={elbow_k}) then to the smaller k"
    )
    if not stable.any():
        rule += "; no k was stable, so all were considered"
    return KSelection(table=table, k=k, elbow_k=elbow_k, rule=rule)
