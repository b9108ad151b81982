"""Hyperparameters chosen on a validation split carved from the training data only.

The training side of an evaluation split is split again (per user, the same way, another seed): every candidate is
fitted on the inner part and ranked by nDCG@k on the validation part, and the winner is refitted on the whole
training side. The test side is never seen, so the reported test figures stay honest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recsys.base import Recommender
from recsys.interactions import InteractionMatrix
from recsys.split import per_user_random_split

#: the validation split uses a seeded random sample of at most this many users (the refit uses them all)
TUNE_USERS = 20_000
VALIDATION_FRACTION = 0.25


def validation_split(
    train: pd.DataFrame,
    *,
    seed: int,
    validation_fraction: float = VALIDATION_FRACTION,
    max_users: int = TUNE_USERS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the training frame into (fit, validation) per user, on at most ``max_users`` sampled users."""
    users = np.unique(train["user_id"].to_numpy())
    if len(users) > max_users:
        keep = np.random.default_rng(seed + 1).choice(users, size=max_users, replace=False)
        train = train[np.isin(train["user_id"].to_numpy(), keep)]
    return per_user_random_split(train, test_fraction=validation_fraction, seed=seed + 1)


def select_params(
    model: Recommender,
    grid: Sequence[Mapping[str, Any]],
    train: pd.DataFrame,
    *,
    k: int,
    seed: int = 42,
    user_features: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Pick the candidate of ``grid`` (overrides of ``model``'s parameters) with the best validation nDCG@k.

    Candidates are fitted on one thread; the chosen overrides say nothing about threads.

    Returns
    -------
    dict
        ``{"chosen": params, "validation_ndcg": score of the chosen, "candidates": [{"params", "ndcg"}, ...],
        "validation_pairs": int}``; ties go to the earlier candidate.
    """
    from recsys.evaluate import evaluate_recommender  # evaluate imports this module

    if not grid:
        raise ValueError("select_params needs at least one candidate")
    fit_frame, val_frame = validation_split(train, seed=seed)
    matrix = InteractionMatrix.from_frame(fit_frame)
    base = model.get_params()
    if "n_jobs" in base:  # many small fits: a second thread only adds contention on a shared machine
        base["n_jobs"] = 1
    rows = []
    for overrides in grid:
        candidate = type(model)(**{**base, **overrides})
        metrics = evaluate_recommender(candidate, matrix, val_frame, k=k, user_features=user_features)
        rows.append({"params": dict(overrides), "ndcg": float(metrics[f"ndcg@{k}"])})
    best = max(range(len(rows)), key=lambda i: (rows[i]["ndcg"], -i))
    return {
        "chosen": rows[best]["params"],
        "validation_ndcg": rows[best]["ndcg"],
        "candidates": rows,
        "validation_pairs": int(val_frame.groupby(["user_id", "item_id"]).ngroups),
    }


def tuned(model: Recommender, params: Mapping[str, Any]) -> Recommender:
    """A fresh, unfitted copy of ``model`` with ``params`` overriding its parameters."""
    return type(model)(**{**model.get_params(), **params})
