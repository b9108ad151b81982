"""Interaction logs: validation, event weights and the users x items confidence matrix.

Every model and the evaluation use the same long format: one row per event with the columns
``user_id``, ``item_id``, ``weight`` (float, >= 0) and, when known, ``ts``. Ids are whole numbers (int64) or text
(``str``: customer codes, product codes such as ``CC-GOLD``), one kind per column. The models map them to
contiguous row and column positions and keep the sorted ids themselves (int64 or numpy unicode ``U`` arrays, which
``.npz`` files store without pickles) as their vocabularies, so what they return carries the original ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from bankdata import Bank, DataValidationError, read_tabular

#: Confidence of one bank event: a view says little, a purchase says most (view < click < apply < purchase).
EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "click": 2.0, "apply": 4.0, "purchase": 8.0}

COLUMNS = ("user_id", "item_id", "weight", "ts")


def _fail(source: str, column: str, problem: str, mask: np.ndarray) -> None:
    """Raise a DataValidationError naming the first rows (1-based, header excluded) where ``mask`` holds."""
    if mask.any():
        positions = np.flatnonzero(mask)
        raise DataValidationError(
            source, problem, column=column, rows=[int(p) + 1 for p in positions[:5]], n_rows=len(positions)
        )


def validate_interactions(
    frame: pd.DataFrame,
    *,
    user: str,
    item: str,
    weight: str | None = None,
    time: str | None = None,
    source: str = "interactions",
) -> pd.DataFrame:
    """Check an interaction table and return it in the standard long format.

    Parameters
    ----------
    frame : DataFrame
        The raw table.
    user, item : str
        Names of the user and item id columns: whole numbers or text (one kind per column).
    weight : str, optional
        Column with a non-negative confidence per event; every event weighs 1 when omitted.
    time : str, optional
        Column with the event time (datetime or number), needed for a temporal split.
    source : str
        Name of the file or table, used in error messages.

    Returns
    -------
    DataFrame
        Columns ``user_id``, ``item_id`` (int64, or ``str`` for text ids), ``weight`` and ``ts`` (``ts`` only
        when ``time`` is given).

    Raises
    ------
    DataValidationError
        Empty table, missing column, missing (empty) ids, fractions in a numeric id column, negative or missing
        weights; the message
        names the source, the column and the first offending rows.
    """
    if len(frame) == 0:
        raise DataValidationError(source, "the interaction table is empty (no rows)")
    wanted = [c for c in (user, item, weight, time) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataValidationError(
            source,
            f"missing column(s) {', '.join(map(repr, missing))}; found {', '.join(map(repr, map(str, frame.columns)))}",
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name, column in (("user_id", user), ("item_id", item)):
        out[name] = _id_column(frame[column].reset_index(drop=True), column, source)
    if weight is None:
        out["weight"] = 1.0
    else:
        w = pd.to_numeric(frame[weight].reset_index(drop=True), errors="coerce").astype("float64").to_numpy()
        _fail(source, weight, "missing or non-numeric weights", ~np.isfinite(w))
        _fail(source, weight, "negative weights (weights are confidences and must be >= 0)", w < 0)
        out["weight"] = w
    if time is not None:
        ts = frame[time].reset_index(drop=True)
        _fail(source, time, "missing times", ts.isna().to_numpy())
        out["ts"] = ts.to_numpy()
    return out


def _id_column(values: pd.Series, column: str, source: str) -> np.ndarray:
    """One id column as int64 (a numeric column) or as ``U`` text (any other column, kept exactly as written but
    for surrounding spaces, so ``0012`` stays ``0012``).

    Missing or blank ids and fractions in a numeric column raise a ``DataValidationError`` naming the rows.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        _fail(source, column, "missing ids", values.isna().to_numpy())
        floats = values.to_numpy(dtype=float, na_value=np.nan)
        _fail(source, column, "non-integer ids (numeric ids must be whole numbers)", floats % 1 != 0)
        return values.astype("int64").to_numpy()
    text = values.astype("str").str.strip().where(values.notna())
    _fail(source, column, "missing ids", (text.isna() | (text == "")).to_numpy())
    return text.to_numpy().astype(str)


def id_array(ids: object) -> np.ndarray:
    """Ids as a 1-D array of their kind: int64 for whole numbers, numpy unicode (``U``) for text.

    Parameters
    ----------
    ids : scalar, sequence or array of int or str

    Returns
    -------
    ndarray
        int64 when every id is an integer (or an empty input), else ``U`` strings (``str(id)`` of each).
    """
    values = np.atleast_1d(np.asarray(ids.to_numpy() if isinstance(ids, pd.Series | pd.Index) else ids))
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    if values.dtype.kind == "U":
        return values
    if values.size == 0:
        return values.astype(np.int64)
    if values.dtype.kind == "f" and np.isfinite(values).all() and (values % 1 == 0).all():
        return values.astype(np.int64)
    if values.dtype.kind == "O" and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values
    ):
        return values.astype(np.int64)
    return values.astype(str)


def pad_id(ids: np.ndarray) -> int | str:
    """What pads a short list of ids of this kind: -1 for integer ids, ``""`` for text ids."""
    return "" if np.asarray(ids).dtype.kind == "U" else -1


def _same_kind(sorted_ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` on the kind of ``sorted_ids`` and where they can match at all: integers are compared as text
    with a text vocabulary; text that is not a whole number matches nothing in an integer vocabulary."""
    if sorted_ids.dtype.kind == "U":
        return values.astype(str), np.ones(len(values), dtype=bool)
    if values.dtype.kind == "U":
        parsed = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(parsed) & (np.nan_to_num(parsed) % 1 == 0)
        return np.where(ok, np.nan_to_num(parsed), 0).astype(np.int64), ok
    return values.astype(np.int64), np.ones(len(values), dtype=bool)


def read_interactions(
    path: str | Path,
    *,
    user: str,
    item: str,
    weight: str | None = None,
    time: str | None = None,
) -> pd.DataFrame:
    """Read an interaction log from CSV or Parquet and validate it (see :func:`validate_interactions`)."""
    path = Path(path)
    frame = read_tabular(path)
    return validate_interactions(frame, user=user, item=item, weight=weight, time=time, source=path.name)


def bank_interactions(bank: Bank) -> pd.DataFrame:
    """The bank's interaction log in the standard long format, with :data:`EVENT_WEIGHTS` as weights.

    Raises
    ------
    DataValidationError
        An event outside view/click/apply/purchase, or a product id that is not in ``products``.
    """
    log = bank.interactions
    events = log["event"].astype("str")
    _fail(
        "interactions",
        "event",
        f"unknown events (expected {', '.join(EVENT_WEIGHTS)})",
        ~events.isin(list(EVENT_WEIGHTS)).to_numpy(),
    )
    frame = pd.DataFrame(
        {
            "customer_id": log["customer_id"].to_numpy(),
            "product_id": log["product_id"].to_numpy(),
            "weight": events.map(EVENT_WEIGHTS).to_numpy(dtype="float64"),
            "ts": log["ts"].to_numpy(),
        }
    )
    out = validate_interactions(frame, user="customer_id", item="product_id", weight="weight", time="ts")
    unknown_items = ~np.isin(out["item_id"].to_numpy(), bank.products["product_id"].to_numpy())
    _fail("interactions", "product_id", "product ids not in products", unknown_items)
    return out


@dataclass(frozen=True)
class InteractionMatrix:
    """A users x items confidence matrix (CSR, users as rows) with the ids behind each row and column.

    Attributes
    ----------
    matrix : csr_matrix
        float32 confidences; duplicate (user, item) events keep their largest weight.
    user_ids, item_ids : ndarray
        Ids of the rows and of the columns, sorted ascending: int64, or numpy unicode (``U``) for text ids.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(number of users, number of items)."""
        return self.matrix.shape

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        user_ids: Sequence[int | str] | np.ndarray | None = None,
        item_ids: Sequence[int | str] | np.ndarray | None = None,
    ) -> InteractionMatrix:
        """Build the matrix from a standard long frame.

        ``user_ids`` / ``item_ids`` fix the rows and columns (e.g. all customers, all products, or the
        training ids for a test split); ids of the frame outside them raise a ``DataValidationError``.
        """
        user_values, item_values = id_array(frame["user_id"]), id_array(frame["item_id"])
        users = np.unique(user_values if user_ids is None else id_array(user_ids))
        items = np.unique(item_values if item_ids is None else id_array(item_ids))
        rows = _positions(users, *_same_kind(users, user_values), "user_id")
        cols = _positions(items, *_same_kind(items, item_values), "item_id")
        key = rows.astype(np.int64) * len(items) + cols
        weights = frame["weight"].to_numpy(dtype=np.float32)
        order = np.lexsort((weights, key))  # by key, then weight: the last row of each key has the max weight
        key, weights = key[order], weights[order]
        last = np.ones(len(key), dtype=bool)
        last[:-1] = key[1:] != key[:-1]
        key, weights = key[last], weights[last]
        matrix = sp.csr_matrix(
            (weights, (key // len(items), key % len(items))), shape=(len(users), len(items)), dtype=np.float32
        )
        return cls(matrix=matrix, user_ids=users, item_ids=items)

    def user_index(self, ids: Sequence[int | str] | np.ndarray, *, strict: bool = True) -> np.ndarray:
        """Row positions of user ids; unknown ids raise ``KeyError`` (or give -1 when ``strict=False``)."""
        return lookup_ids(self.user_ids, ids, kind="user", strict=strict)

    def item_index(self, ids: Sequence[int | str] | np.ndarray, *, strict: bool = True) -> np.ndarray:
        """Column positions of item ids; unknown ids raise ``KeyError`` (or give -1 when ``strict=False``)."""
        return lookup_ids(self.item_ids, ids, kind="item", strict=strict)


def _positions(sorted_ids: np.ndarray, values: np.ndarray, comparable: np.ndarray, column: str) -> np.ndarray:
    pos = np.searchsorted(sorted_ids, values)
    pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
    bad = ((sorted_ids[pos] != values) | ~comparable) if len(sorted_ids) else np.ones(len(values), dtype=bool)
    _fail("interactions", column, "ids outside the known users/items", bad)
    return pos


def lookup_ids(
    sorted_ids: np.ndarray, ids: Sequence[int | str] | np.ndarray, *, kind: str = "id", strict: bool = False
) -> np.ndarray:
    """Positions of ``ids`` in the sorted array ``sorted_ids`` (int64 or text ids); -1 for unknown ids (``KeyError``
    when strict). Integers are looked up as text in a text vocabulary; text that is no whole number is unknown in an
    integer one."""
    given = id_array(ids)
    values, comparable = _same_kind(sorted_ids, given)
    if len(sorted_ids) == 0:
        pos = np.full(len(values), -1, dtype=np.int64)
    else:
        pos = np.clip(np.searchsorted(sorted_ids, values), 0, len(sorted_ids) - 1)
        pos = np.where((sorted_ids[pos] == values) & comparable, pos, -1)
    if strict and (pos < 0).any():
        unknown = given[pos < 0][:5].tolist()
        raise KeyError(f"unknown {kind} id(s): {unknown}")
    return pos
