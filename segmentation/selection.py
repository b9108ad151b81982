"""Choosing the number of segments k from evidence: the gap statistic (Tibshirani, Walther and Hastie, 2001),
stability across bootstrap resamples (adjusted Rand index), silhouette, Davies-Bouldin and the elbow of inertia.

Silhouette and Davies-Bouldin reward the coarsest split of overlapping groups (two or three segments on the demo
bank, whose six personas overlap); the gap statistic compares each k's within-cluster dispersion with that of
structureless reference data of the same spread, so it keeps splitting while a split explains more than noise
would. Both are reported; the gap decides among the stable ks.
"""

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
        One row per k: inertia, silhouette, davies_bouldin, stability (mean ARI over bootstraps), score (mean rank
        of silhouette and Davies-Bouldin, 1 is best), gap and gap_se (the gap statistic and its standard error).
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


def gap_statistic(
    X: np.ndarray,
    ks: Sequence[int],
    inertia: Sequence[float],
    *,
    n_references: int,
    minibatch: bool,
    random_state: int,
    log_w_se: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gap(k) = E*[log W*_k] - log W_k and its standard error, per k.

    W_k is the inertia of the data's k clusters (``inertia``); W*_k that of ``n_references`` reference sets drawn
    uniformly in the box spanned by the data's principal components (Tibshirani et al.'s reference (b)). The
    standard error is Tibshirani et al.'s s_k = sd* sqrt(1 + 1/B) combined with ``log_w_se``, the sampling error
    of the data's own log W_k where given: with thousands of customers the references' spread alone is so small
    that the rule would keep splitting for gains no larger than the noise of the sample.
    """
    rng = np.random.default_rng(random_state)
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    refs = [rng.uniform(lo, hi, size=rotated.shape) for _ in range(n_references)]
    log_ref = np.array(
        [
            [np.log(make_kmeans(k, minibatch=minibatch, random_state=random_state + b, n_init=1).fit(ref).inertia_)
             for b, ref in enumerate(refs)]
            for k in ks
        ]
    )  # fmt: skip
    gap = log_ref.mean(axis=1) - np.log(np.asarray(inertia, dtype=np.float64))
    se = log_ref.std(axis=1) * np.sqrt(1.0 + 1.0 / n_references)
    if log_w_se is not None:
        se = np.sqrt(se**2 + np.asarray(log_w_se, dtype=np.float64) ** 2)
    return gap, se


def _rank(values: pd.Series, higher_is_better: bool) -> pd.Series:
    return values.rank(ascending=not higher_is_better, method="average")


def select_k(
    X: np.ndarray,
    ks: Sequence[int] = range(2, 11),
    *,
    n_bootstrap: int = 5,
    n_references: int = 5,
    sample_size: int = 5_000,
    minibatch: bool = False,
    random_state: int = 0,
    n_jobs: int = 1,
) -> KSelection:
    """Score each candidate k on a sample of ``X`` and choose one.

    Rule: among stable ks (bootstrap ARI >= ``STABLE_ARI``; all ks when none is), the smallest k whose gap is
    within one standard error of the next candidate's (Gap(k) >= Gap(k+1) - s(k+1), Tibshirani et al.); when the
    gap rises over the whole range, the stable k with the largest gap. Without references (``n_references=0``)
    the best mean rank of silhouette and Davies-Bouldin, ties to the k nearest the elbow, then to the smaller k.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Scaled features.
    ks : sequence of int
        Candidate numbers of segments (each >= 2 and < the number of samples).
    n_bootstrap : int
        Bootstrap resamples per k for the stability ARI (0 skips stability).
    n_references : int
        Uniform reference sets per k for the gap statistic (0 skips the gap).
    sample_size : int
        Rows sampled (without replacement) for all the scores; bounds the cost on large bases.
    minibatch : bool
        Use MiniBatchKMeans.
    random_state : int
        Seed; the same seed gives the same evidence and k.
    n_jobs : int
        BLAS/OpenMP threads (1 or 2).
    """
    with threadpool_limits(limits=n_jobs):
        return _select_k(
            np.asarray(X, dtype=np.float64),
            ks,
            n_bootstrap,
            n_references,
            sample_size,
            minibatch,
            random_state,
        )


def _select_k(
    X: np.ndarray,
    ks: Sequence[int],
    n_bootstrap: int,
    n_references: int,
    sample_size: int,
    minibatch: bool,
    random_state: int,
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
        d2 = ((sample - model.cluster_centers_[labels]) ** 2).sum(axis=1)
        log_w_se = float(d2.std() / (d2.mean() * np.sqrt(len(d2)))) if d2.mean() > 0 else 0.0
        rows.append(
            {
                "k": k,
                "inertia": float(model.inertia_),
                "silhouette": sil,
                "davies_bouldin": dbi,
                "stability": stability,
                "log_w_se": log_w_se,
            }
        )
    table = pd.DataFrame(rows)
    elbow_k = elbow(table["k"], table["inertia"])
    log_w_se = table.pop("log_w_se")
    table["score"] = (_rank(table["silhouette"], True) + _rank(table["davies_bouldin"], False)) / 2.0
    if n_references:
        table["gap"], table["gap_se"] = gap_statistic(
            sample,
            ks,
            table["inertia"],
            n_references=n_references,
            minibatch=minibatch,
            random_state=random_state,
            log_w_se=log_w_se,
        )
    else:
        table["gap"], table["gap_se"] = np.nan, np.nan
    stable = table["stability"] >= STABLE_ARI if n_bootstrap else pd.Series(True, index=table.index)
    candidates = table[stable] if stable.any() else table
    prefix = f"among k with bootstrap stability (ARI) >= {STABLE_ARI:.2f}, "
    if n_references:
        k, rule = _gap_rule(table, candidates)
        rule = prefix + rule
    else:
        order = candidates.assign(dist=(candidates["k"] - elbow_k).abs()).sort_values(["score", "dist", "k"])
        k = int(order["k"].iloc[0])
        rule = (
            prefix
            + f"the best mean rank of silhouette and Davies-Bouldin; ties to the elbow (k={elbow_k}) then to the smaller k"
        )
    if not stable.any():
        rule += "; no k was stable, so all were considered"
    return KSelection(table=table, k=k, elbow_k=elbow_k, rule=rule)


def _gap_rule(table: pd.DataFrame, candidates: pd.DataFrame) -> tuple[int, str]:
    """The smallest candidate k with Gap(k) >= Gap(next k) - s(next k); else the candidate with the largest gap."""
    gap = table.set_index("k")["gap"]
    se = table.set_index("k")["gap_se"]
    ks = list(gap.index)
    for k in sorted(candidates["k"]):
        pos = ks.index(k)
        if pos + 1 < len(ks) and gap[k] >= gap[ks[pos + 1]] - se[ks[pos + 1]]:
            return int(k), "the smallest k whose gap statistic is within one standard error of the next k's"
    best = int(candidates.loc[candidates["gap"].idxmax(), "k"])
    return best, "the largest gap statistic (the gap rose over the whole range)"
