"""A labelled loan book: read a user's file, check the target, infer the features, guard against leakage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bankdata import DataValidationError, read_tabular
from risk.features import FeatureSpec, infer_spec, row_numbers
from risk.leakage import check_leakage


@dataclass(frozen=True)
class LoanBook:
    """Training data ready for the models.

    Attributes
    ----------
    frame : DataFrame
        The original rows (features, protected attributes, ids, target).
    x : ndarray
        Encoded feature matrix (see :meth:`FeatureSpec.encode`).
    y : ndarray
        1 = default (the positive value), 0 = repaid.
    spec : FeatureSpec
    target, positive : str
        Target column and the value that means default.
    source : str
        File or table the rows came from.
    """

    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    spec: FeatureSpec
    target: str
    positive: str
    source: str


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or whitespace-separated file with bankdata's loader (clear errors for bad files)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return read_tabular(path)


def target_vector(
    frame: pd.DataFrame, target: str, positive: str | int | None, *, source: str = "data"
) -> np.ndarray:
    """0/1 default labels from ``frame[target]``; the value equal to ``positive`` means default.

    ``positive`` may be omitted when the target is 0/1 or boolean (1/True = default).
    """
    if target not in frame.columns:
        raise DataValidationError(
            source, f"no target column {target!r}; columns are {', '.join(map(str, frame.columns))}"
        )
    col = frame[target]
    empty = col.isna()
    if empty.any():
        raise DataValidationError(source, "target is empty", column=target, **row_numbers(empty))
    values = pd.unique(col)
    if len(values) < 2:
        raise DataValidationError(
            source,
            f"target has one class only ({values[0]!r} in all {len(col)} rows); a default model needs defaults and repaid loans",
            column=target,
        )
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:6])
        raise DataValidationError(
            source, f"target must have two values, found {len(values)} ({shown}, ...)", column=target
        )
    if positive is None:
        if set(map(str, values)) <= {"0", "1", "True", "False", "0.0", "1.0"}:
            positive = "1"
        else:
            raise DataValidationError(
                source,
                f"say which value means default with --positive (values: {', '.join(map(repr, values))})",
                column=target,
            )
    wanted = str(positive)
    y = (
        (_as_number(col) == _as_number(pd.Series([wanted]))[0]).to_numpy()
        if _is_numeric(col, wanted)
        else (col.astype("str") == wanted).to_numpy()
    )
    if not y.any():
        raise DataValidationError(
            source,
            f"positive value {wanted!r} never occurs (values: {', '.join(map(repr, values))})",
            column=target,
        )
    return y.astype(np.int64)


def _is_numeric(col: pd.Series, wanted: str) -> bool:
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        return False
    return wanted.lower() in {"true", "false"} or pd.notna(pd.to_numeric(wanted, errors="coerce"))


def _as_number(col: pd.Series) -> pd.Series:
    mapped = col.map(lambda v: {"true": 1.0, "false": 0.0}.get(v.lower(), v) if isinstance(v, str) else v)
    return pd.to_numeric(mapped).astype("float64")


def prepare_loan_book(
    frame: pd.DataFrame,
    target: str,
    positive: str | int | None = None,
    *,
    source: str = "data",
    drop: tuple[str, ...] = (),
    protected: tuple[str, ...] = (),
    missing: str = "keep",
) -> LoanBook:
    """Check a labelled table and turn it into model inputs.

    ``missing`` (:func:`infer_spec`): missing numeric values stay NaN in ``x`` by default, for LightGBM's own
    missing-value handling; the models that need numbers impute inside their pipelines (:func:`make_pipeline`).

    Raises
    ------
    DataValidationError
        No target, one class, an unknown positive value, an empty column, text in a numeric column, or a column that
        leaks the target.
    """
    if frame.empty:
        raise DataValidationError(source, "no rows")
    frame = frame.reset_index(drop=True)
    y = target_vector(frame, target, positive, source=source)
    spec = infer_spec(
        frame.drop(columns=[target]), source=source, drop=drop, protected=protected, missing=missing
    )
    x = spec.encode(frame, source=source)
    check_leakage(spec.filled(x), y, spec, target=target, source=source)
    return LoanBook(frame=frame, x=x, y=y, spec=spec, target=target, positive=str(positive), source=source)


def read_loan_book(
    path: str | Path,
    target: str,
    positive: str | None = None,
    *,
    drop: tuple[str, ...] = (),
    protected: tuple[str, ...] = (),
) -> LoanBook:
    """Read a loan-book file and prepare it (see :func:`prepare_loan_book`)."""
    return prepare_loan_book(
        read_table(path), target, positive, source=str(path), drop=drop, protected=protected
    )
