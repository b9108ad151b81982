"""One evaluation for every model: split, fit on train, rank unseen items, score against the held-out items.

Seen (training) items are excluded from every ranked list, test pairs whose user or item never occurs in
training are dropped (they cannot be ranked), and every model goes through the same :func:`ranking_metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from recsys.als import ALSRecommender
from recsys.base import Recommender, top_n
from recsys.ease import EASERecommender
from recsys.interactions import InteractionMatrix
from recsys.metrics import ranking_metrics
from recsys.mf import MFRecommender
from recsys.popularity import PopularityRecommender
from recsys.split import per_user_random_split, temporal_split
from recsys.tuning import select_params, tuned

SPLITS: dict[str, Callable[..., tuple[pd.DataFrame, pd.DataFrame]]] = {
    "random": per_user_random_split,
    "temporal": temporal_split,
}


def default_models(n_items: int, *, quick: bool = False) -> dict[str, Recommender]:
    """The four models with settings suited to the catalogue size (``quick``: fewer epochs, for tests)."""
    if n_items <= 50:  # a bank's product shelf
        als = ALSRecommender(  # what the validation split chooses on the 20k demo bank (docs/recsys.md)
            factors=16, regularization=300.0, alpha=2.0, weighting="bm25", iterations=5 if quick else 15
        )
        mf = MFRecommender(factors=16, epochs=3 if quick else 40, batch_size=256, lr=0.01, weight_decay=0.1)
    else:  # a large catalogue (tuned on MovieLens 100k, see docs/recsys.md)
        als = ALSRecommender(factors=32, regularization=20.0, alpha=2.0, iterations=5 if quick else 15)
        mf = MFRecommender(factors=64, epochs=5 if quick else 50, batch_size=128, lr=0.01, weight_decay=0.1)
    # EASE's penalties: what the validation split chooses on the 20k demo bank and on MovieLens 100k
    ease = EASERecommender(regularization=3000.0 if n_items <= 50 else 500.0)
    return {"popularity": PopularityRecommender(), "als": als, "mf": mf, "ease": ease}


def default_grids(n_items: int) -> dict[str, list[dict[str, Any]]]:
    """Candidate ALS and EASE settings per catalogue size, chosen on a validation split (see :mod:`recsys.tuning`).

    A small shelf wants more factors than a handful held back by a strong penalty (the penalty that wins grows
    with the number of users); a large catalogue's grid surrounds the MovieLens 100k settings.
    """
    if n_items <= 50:
        grid = [
            {"weighting": w, "factors": f, "regularization": r, "alpha": a}
            for w in ("none", "bm25", "tfidf")
            for f in (8, 16)
            for r in (30.0, 100.0, 300.0, 1000.0)
            for a in (2.0, 8.0)
        ]
    else:
        grid = [
            {"weighting": w, "factors": f, "regularization": r, "alpha": 2.0}
            for w in ("none", "bm25")
            for f in (32, 64)
            for r in (5.0, 20.0, 50.0)
        ]
    # EASE's one inverse is cheap: its penalty is chosen over a wide log grid (with and without side features)
    ease = [
        {"regularization": r, "side_features": s}
        for s in (True, False)
        for r in (
            (10.0, 100.0, 1000.0, 3000.0, 10000.0, 30000.0) if n_items <= 50 else (50.0, 200.0, 500.0, 2000.0)
        )
    ]
    return {"als": grid, "ease": ease}


def chosen_models(
    models: Mapping[str, Recommender], tuning: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, Recommender]:
    """Fresh copies of ``models`` with the parameters an evaluation's ``tuning`` chose (the others as given)."""
    tuning = tuning or {}
    return {name: tuned(m, tuning[name]["chosen"]) if name in tuning else m for name, m in models.items()}


def relevance_matrix(train: InteractionMatrix, test: pd.DataFrame) -> tuple[np.ndarray, object, int]:
    """Users with held-out items, their relevance matrix (rows aligned to those users) and the dropped pair count."""
    rows = train.user_index(test["user_id"].to_numpy(), strict=False)
    cols = train.item_index(test["item_id"].to_numpy(), strict=False)
    known = (rows >= 0) & (cols >= 0)
    keep = test.loc[known]
    dropped = int((~known).sum())
    relevant = InteractionMatrix.from_frame(
        keep, user_ids=np.unique(keep["user_id"]), item_ids=train.item_ids
    )
    return relevant.user_ids, relevant.matrix, dropped


def evaluate_recommender(
    model: Recommender,
    train: InteractionMatrix,
    test: pd.DataFrame,
    *,
    k: int = 10,
    user_features: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Fit ``model`` on ``train`` and return its ranking metrics on ``test`` (plus fit and serve seconds)."""
    start = time.perf_counter()
    model.fit(train, user_features=user_features)
    fit_s = time.perf_counter() - start
    users, relevant, _ = relevance_matrix(train, test)
    start = time.perf_counter()
    items, _ = model.recommend(users, k, exclude_held=True)
    serve_s = time.perf_counter() - start
    positions = train.item_index(items.ravel(), strict=False).reshape(items.shape)
    metrics = ranking_metrics(positions, relevant, k, len(train.item_ids))
    return {**metrics, "fit_seconds": round(fit_s, 3), "recommend_seconds": round(serve_s, 3)}


def oracle_metrics(
    affinity: pd.DataFrame, train: InteractionMatrix, test: pd.DataFrame, *, k: int = 10
) -> dict[str, float]:
    """Metrics of ranking each user's unseen items by the true affinity (the best a model could hope for).

    ``affinity`` has columns ``user_id``, ``item_id`` and ``affinity``; missing pairs rank last.
    """
    users, relevant, _ = relevance_matrix(train, test)
    rows = np.searchsorted(users, affinity["user_id"].to_numpy())
    rows = np.clip(rows, 0, max(len(users) - 1, 0))
    cols = train.item_index(affinity["item_id"].to_numpy(), strict=False)
    ok = (users[rows] == affinity["user_id"].to_numpy()) & (cols >= 0)
    scores = np.full((len(users), len(train.item_ids)), -1e9, dtype=np.float64)
    scores[rows[ok], cols[ok]] = affinity["affinity"].to_numpy(dtype=np.float64)[ok]
    seen = train.matrix[train.user_index(users)].toarray() > 0
    scores[seen] = -np.inf
    positions, _ = top_n(scores, k)
    return ranking_metrics(positions, relevant, k, len(train.item_ids))


def evaluate_models(
    frame: pd.DataFrame,
    models: Mapping[str, Recommender],
    *,
    k: int = 10,
    split: str = "random",
    test_fraction: float = 0.25,
    seed: int = 42,
    user_features: pd.DataFrame | None = None,
    affinity: pd.DataFrame | None = None,
    grids: Mapping[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Split once, evaluate every model on the same split, and describe the split.

    A model named in ``grids`` first has its parameters chosen on a validation split of the training side only
    (:func:`recsys.tuning.select_params`), then is fitted on the whole training side and scored on the test side.

    Returns
    -------
    dict
        ``{"split": {...}, "models": {name: metrics}, "oracle": metrics or None, "tuning": {name: selection}}``.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    kwargs = {"seed": seed} if split == "random" else {}
    train_frame, test_frame = SPLITS[split](frame, test_fraction=test_fraction, **kwargs)
    train = InteractionMatrix.from_frame(train_frame)
    users, _, dropped = relevance_matrix(train, test_frame)
    tuning = {
        name: select_params(models[name], grid, train_frame, k=k, seed=seed, user_features=user_features)
        for name, grid in (grids or {}).items()
        if name in models
    }
    results = {
        name: evaluate_recommender(model, train, test_frame, k=k, user_features=user_features)
        for name, model in chosen_models(models, tuning).items()
    }
    oracle = oracle_metrics(affinity, train, test_frame, k=k) if affinity is not None else None
    description = {
        "kind": split,
        "test_fraction": test_fraction,
        "seed": seed if split == "random" else None,
        "k": k,
        "users": int(train.shape[0]),
        "items": int(train.shape[1]),
        "train_pairs": int(train.matrix.nnz),
        "test_users": len(users),
        "test_pairs_dropped_unseen": dropped,
    }
    return {"split": description, "models": results, "oracle": oracle, "tuning": tuning}
