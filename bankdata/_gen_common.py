"""Small vectorised helpers shared by the demo bank's table generators."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

_STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-z))


def normalise_rows(weights: np.ndarray) -> np.ndarray:
    """Scale each row of a non-negative weight matrix to sum to one."""
    weights = np.asarray(weights, dtype=np.float64)
    return weights / weights.sum(axis=1, keepdims=True)


def sample_by_group(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one category per row from the distribution of the row's group.

    Parameters
    ----------
    rng : Generator
    probs : ndarray of shape (n_groups, n_categories)
        Rows are probability vectors (normalised here).
    group : ndarray of int
        The group of each row.

    Returns
    -------
    ndarray of int8, the category index of each row.
    """
    cdf = np.cumsum(normalise_rows(probs), axis=1)
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int8)
    for k in range(cdf.shape[1] - 1):  # loops over categories, never over rows
        out += u >= cdf[:, k][group]
    return out


def text_column(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Series:
    """Turn integer codes into a pandas ``str`` column (Arrow-backed, fast at tens of millions of rows)."""
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes)), pa.array(list(labels), pa.string())
    )
    return pd.Series(dictionary.cast(pa.string()), dtype=_STR_DTYPE)  # faster than casting to large_string


def expand(counts: np.ndarray) -> np.ndarray:
    """Index of the owner of each generated row: ``i`` repeated ``counts[i]`` times."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def pack_keys(fields: Sequence[np.ndarray], bits: Sequence[int]) -> np.ndarray:
    """Pack non-negative integer fields into one sortable int64, the first field most significant.

    ``bits[k]`` is the width of ``fields[k]`` for every field but the first (which takes the remaining high bits).
    Sorting the keys sorts the rows by the fields in order, without an argsort and gathers.
    """
    key = np.asarray(fields[0], dtype=np.int64).copy()
    for values, width in zip(fields[1:], bits[1:], strict=True):
        key <<= width
        key |= values
    return key


def unpack_keys(key: np.ndarray, bits: Sequence[int]) -> list[np.ndarray]:
    """Inverse of ``pack_keys`` (consumes ``key``): the fields as int64 arrays."""
    out = []
    for width in reversed(bits[1:]):
        out.append(key & ((1 << width) - 1))
        key >>= width
    out.append(key)
    return out[::-1]
