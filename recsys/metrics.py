"""Top-k ranking metrics shared by every model (binary relevance).

Inputs: ``recommended`` is an int array (n_users, k) of item positions in rank order (-1 pads a short list);
``relevant`` is a users x items sparse matrix whose non-zeros are the held-out items (or a list of item
collections, one per user). Users without any relevant item are left out of every average.

Definitions, for one user with relevant set R and top-k list r_1..r_k (rel_i = 1 if r_i in R):
- precision@k = (sum rel_i) / k                       (divides by k even when fewer items were recommended)
- recall@k    = (sum rel_i) / |R|
- hit rate@k  = 1 if any rel_i else 0
- nDCG@k      = DCG / IDCG, DCG = sum rel_i / log2(i + 1), IDCG = sum_{i <= min(|R|, k)} 1 / log2(i + 1)
- MAP@k       = mean over users of AP@k = (sum_i precision@i * rel_i) / min(|R|, k)
- catalogue coverage = share of the catalogue that appears in at least one user's top-k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

Relevant: TypeAlias = sp.spmatrix | sp.sparray | Sequence[Iterable[int]]


def _as_csr(relevant: Relevant, n_users: int, n_items: int) -> sp.csr_matrix:
    if sp.issparse(relevant):
        return sp.csr_matrix(relevant)
    rows, cols = [], []
    for u, items in enumerate(relevant):
        items = list(items)
        rows.extend([u] * len(items))
        cols.extend(items)
    if len(relevant) != n_users:
        raise ValueError(f"relevant has {len(relevant)} users, recommended has {n_users}")
    width = max(n_items, (max(cols) + 1) if cols else 0)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, width))


def hits(recommended: np.ndarray, relevant: Relevant) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (n_users, k) matrix of hits and the number of relevant items of each user."""
    rec = np.asarray(recommended, dtype=np.int64)
    if rec.ndim != 2:
        raise ValueError(f"recommended must be 2-D (users x k), got shape {rec.shape}")
    n_items = int(rec.max()) + 1 if rec.size else 0
    rel = _as_csr(relevant, rec.shape[0], n_items)
    if rel.shape[0] != rec.shape[0]:
        raise ValueError(f"relevant has {rel.shape[0]} users, recommended has {rec.shape[0]}")
    rel.data = np.ones_like(rel.data)
    rel.sum_duplicates()
    rel.data = np.minimum(rel.data, 1)
    valid = rec >= 0
    safe = np.where(valid, rec, 0)
    rows = np.repeat(np.arange(rec.shape[0]), rec.shape[1]).reshape(rec.shape)
    hit = np.asarray(rel[rows.ravel(), safe.ravel()]).reshape(rec.shape) > 0
    return hit & valid, np.diff(rel.indptr)


def _mean(values: np.ndarray, n_relevant: np.ndarray) -> float:
    keep = n_relevant > 0
    return float(values[keep].mean()) if keep.any() else 0.0


def precision_at_k(recommended: np.ndarray, relevant: Relevant, k: int) -> float:
    """Mean of (hits in the top k) / k."""
    hit, n_rel = hits(np.asarray(recommended)[:, :k], relevant)
    return _mean(hit.sum(axis=1) / k, n_rel)


def recall_at_k(recommended: np.ndarray, relevant: Relevant, k: int) -> float:
    """Mean of (hits in the top k) / (number of relevant items)."""
    hit, n_rel = hits(np.asarray(recommended)[:, :k], relevant)
    return _mean(hit.sum(axis=1) / np.maximum(n_rel, 1), n_rel)


def hit_rate_at_k(recommended: np.ndarray, relevant: Relevant, k: int) -> float:
    """Share of users with at least one relevant item in the top k."""
    hit, n_rel = hits(np.asarray(recommended)[:, :k], relevant)
    return _mean(hit.any(axis=1).astype(float), n_rel)


def ndcg_at_k(recommended: np.ndarray, relevant: Relevant, k: int) -> float:
    """Mean normalised discounted cumulative gain with binary gains and log2(rank + 1) discounts."""
    hit, n_rel = hits(np.asarray(recommended)[:, :k], relevant)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hit * discount[: hit.shape[1]]).sum(axis=1)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(n_rel, k)]
    return _mean(dcg / np.where(ideal > 0, ideal, 1.0), n_rel)


def map_at_k(recommended: np.ndarray, relevant: Relevant, k: int) -> float:
    """Mean average precision: AP@k = sum of precision@i at each hit i, divided by min(|R|, k)."""
    hit, n_rel = hits(np.asarray(recommended)[:, :k], relevant)
    precision_at_i = np.cumsum(hit, axis=1) / np.arange(1, hit.shape[1] + 1)
    ap = (precision_at_i * hit).sum(axis=1) / np.maximum(np.minimum(n_rel, k), 1)
    return _mean(ap, n_rel)


def catalogue_coverage(recommended: np.ndarray, n_items: int) -> float:
    """Share of the ``n_items`` catalogue recommended to at least one user."""
    if n_items <= 0:
        raise ValueError("n_items must be positive")
    rec = np.asarray(recommended)
    return float(len(np.unique(rec[rec >= 0])) / n_items)


def ranking_metrics(recommended: np.ndarray, relevant: Relevant, k: int, n_items: int) -> dict[str, float]:
    """All the metrics above at cut-off ``k`` in one dict (keys like ``ndcg@10``, ``coverage``)."""
    return {
        f"precision@{k}": precision_at_k(recommended, relevant, k),
        f"recall@{k}": recall_at_k(recommended, relevant, k),
        f"ndcg@{k}": ndcg_at_k(recommended, relevant, k),
        f"map@{k}": map_at_k(recommended, relevant, k),
        f"hit_rate@{k}": hit_rate_at_k(recommended, relevant, k),
        "coverage": catalogue_coverage(np.asarray(recommended)[:, :k], n_items),
    }
