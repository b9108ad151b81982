"""Train/test splits of a standard interaction frame (see :mod:`recsys.interactions`).

Both splits are per user, so every test user also has training history:
- ``per_user_random_split``: each user's distinct items are shuffled and ``test_fraction`` of them held out
  (the "stratified" split of the Microsoft Recommenders benchmarks);
- ``temporal_split``: each user's most recent ``test_fraction`` of distinct items (by first event time) held out.
All events of one (user, item) pair land on the same side, so a test item is never seen in training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata import DataValidationError


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (user, item) with the row's rank inside its user, ready for splitting."""
    agg = {"weight": "max"}
    if "ts" in frame.columns:
        agg["ts"] = "min"
    return frame.groupby(["user_id", "item_id"], sort=False, as_index=False).agg(agg)


def _assign(pairs: pd.DataFrame, order_key: np.ndarray, test_fraction: float) -> np.ndarray:
    """Boolean test mask: the last ``round(n * test_fraction)`` pairs of each user by ``order_key``."""
    codes = pd.factorize(pairs["user_id"], sort=True)[
        0
    ]  # integer codes: text ids sort and group the same way
    order = np.lexsort((order_key, codes))
    users = codes[order]
    sizes = pd.Series(users).groupby(users, sort=False).transform("size").to_numpy()
    rank = pd.Series(users).groupby(users, sort=False).cumcount().to_numpy()
    n_test = np.floor(sizes * test_fraction + 0.5).astype(int)
    n_test = np.where(sizes >= 2, np.clip(n_test, 0, sizes - 1), 0)  # keep one training item per user
    test_sorted = rank >= sizes - n_test
    mask = np.empty(len(order), dtype=bool)
    mask[order] = test_sorted
    return mask


def _check(frame: pd.DataFrame, test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if len(frame) == 0:
        raise DataValidationError("interactions", "nothing to split (no rows)")


def _expand(frame: pd.DataFrame, test_pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    keyed = frame.merge(test_pairs.assign(_test=True), on=["user_id", "item_id"], how="left")
    is_test = keyed.pop("_test").fillna(False).to_numpy(dtype=bool)
    return keyed[~is_test].reset_index(drop=True), keyed[is_test].reset_index(drop=True)


def per_user_random_split(
    frame: pd.DataFrame, *, test_fraction: float = 0.25, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a random ``test_fraction`` of each user's distinct items.

    Returns
    -------
    (train, test) : tuple of DataFrame
        Same columns as ``frame``; users with a single item stay entirely in train.
    """
    _check(frame, test_fraction)
    pairs = _pairs(frame)
    key = np.random.default_rng(seed).random(len(pairs))
    mask = _assign(pairs, key, test_fraction)
    return _expand(frame, pairs.loc[mask, ["user_id", "item_id"]])


def temporal_split(frame: pd.DataFrame, *, test_fraction: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's most recent ``test_fraction`` of distinct items (by the first time seen).

    Raises
    ------
    ValueError
        When the frame has no ``ts`` column.
    """
    _check(frame, test_fraction)
    if "ts" not in frame.columns:
        raise ValueError("a temporal split needs a time column (give --time COL)")
    pairs = _pairs(frame)
    ts = pairs["ts"]
    key = ts.astype("int64").to_numpy() if not pd.api.types.is_numeric_dtype(ts) else ts.to_numpy()
    mask = _assign(pairs, key.astype(np.float64), test_fraction)
    return _expand(frame, pairs.loc[mask, ["user_id", "item_id"]])
