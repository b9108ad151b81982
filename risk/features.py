"""Which columns of a loan book are features, and how to turn them into a model matrix.

A :class:`FeatureSpec` is inferred once from the training data (column roles, categories, fill values) and then
applied unchanged to every later frame (cross-validation folds, the final model, one applicant in the what-if
panel). It is plain data and round-trips through JSON, so the artifact never needs a pickle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankdata import DataValidationError

#: Name tokens of attributes a credit decision must not use (kept aside for fairness checks).
PROTECTED_TOKENS: frozenset[str] = frozenset(
    {
        "age",
        "gender",
        "sex",
        "marital",
        "race",
        "religion",
        "ethnicity",
        "ethnic",
        "nationality",
        "foreign",
        "birth",
        "dob",
    }
)
MISSING_CATEGORY = "(missing)"
_DATE_PATTERN = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2})?)?"
)
_MAX_ROWS_QUOTED = 5
#: How :meth:`FeatureSpec.encode` treats a missing numeric value: ``fill`` with the training median, or ``keep`` it
#: NaN for LightGBM, which learns at every split which side missing values go to (the median would put them among
#: the typical applicants, where they may not belong)
MISSING_MODES = ("fill", "keep")


def name_tokens(column: str) -> set[str]:
    """Lower-case word tokens of a column name (``age_in_years`` -> {age, in, years}; ``creditScore`` too)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(column))
    return {t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t}


def is_protected(column: str, extra: tuple[str, ...] = ()) -> bool:
    """True when a column name names a protected attribute (age, gender, sex, marital status, ...)."""
    return bool(name_tokens(column) & PROTECTED_TOKENS) or column in extra


def row_numbers(mask: np.ndarray | pd.Series) -> dict[str, Any]:
    """``rows`` (first few, 1-based data rows) and ``n_rows`` for a :class:`DataValidationError`."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return {"rows": [int(p) + 1 for p in positions[:_MAX_ROWS_QUOTED]], "n_rows": len(positions)}


@dataclass(frozen=True)
class FeatureSpec:
    """The roles of a loan book's columns and what is needed to encode new rows the same way.

    Attributes
    ----------
    numeric : list of str
        Numeric feature columns, in model order (before categoricals).
    categorical : dict of str to list of str
        Categorical feature columns and their categories (the model codes are the positions in each list).
    fill : dict of str to float
        Value used for a missing numeric entry (the training median) and for an unseen category (the mode's code).
    protected : list of str
        Protected attributes found in the data: never features, kept for fairness checks.
    dropped : dict of str to str
        Columns that are not features and why (identifier, date, constant, protected, user request).
    ranges : dict of str to dict
        Per numeric column, what training saw: ``min``, ``max`` and ``integer`` (every value whole); what a new
        applicant may have is checked against it (:func:`risk.check_applicant`). Empty in older artifacts.
    missing : {"fill", "keep"}
        A missing numeric entry becomes the ``fill`` value, or stays NaN (``keep``: for the LightGBM champion, whose
        trees route missing values themselves; models that need numbers impute in their own pipeline). Older
        artifacts: ``fill``.
    """

    numeric: list[str]
    categorical: dict[str, list[str]]
    fill: dict[str, float]
    protected: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, dict[str, float | bool]] = field(default_factory=dict)
    missing: str = "fill"

    def __post_init__(self) -> None:
        if self.missing not in MISSING_MODES:
            raise ValueError(f"missing must be one of {', '.join(MISSING_MODES)}, got {self.missing!r}")

    @property
    def features(self) -> list[str]:
        """Model columns in order: numeric first, then categorical."""
        return [*self.numeric, *self.categorical]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical columns in :attr:`features`."""
        return list(range(len(self.numeric), len(self.numeric) + len(self.categorical)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Rebuild a spec written by :meth:`to_dict`."""
        return cls(
            numeric=list(data["numeric"]),
            categorical={k: list(v) for k, v in data["categorical"].items()},
            fill={k: float(v) for k, v in data["fill"].items()},
            protected=list(data.get("protected", [])),
            dropped=dict(data.get("dropped", {})),
            ranges={k: dict(v) for k, v in data.get("ranges", {}).items()},
            missing=str(data.get("missing", "fill")),
        )

    def filled(self, x: np.ndarray) -> np.ndarray:
        """A copy of encoded rows with missing numeric entries replaced by their ``fill`` value (the training
        median), for what needs numbers: the leakage check, plots, partial dependence grids."""
        out = np.array(x, dtype=np.float64, copy=True)
        for j, col in enumerate(self.numeric):
            out[np.isnan(out[:, j]), j] = self.fill[col]
        return out

    def encode(self, frame: pd.DataFrame, *, source: str = "data") -> np.ndarray:
        """Encode rows as a float matrix (columns in :attr:`features` order).

        Numeric columns are coerced to numbers (text raises :class:`DataValidationError`), missing values get the
        training median (``missing="fill"``) or stay NaN (``keep``); categories become their code, unseen or
        missing ones the training mode's code, so categorical columns are never NaN.
        """
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataValidationError(source, f"missing feature column(s) {', '.join(missing)}")
        out = np.empty((len(frame), len(self.features)), dtype=np.float64)
        for j, col in enumerate(self.numeric):
            values = numeric_column(frame[col], col, source=source)
            if self.missing == "fill":
                values = values.fillna(self.fill[col])
            out[:, j] = values.to_numpy(dtype=np.float64)
        for j, (col, cats) in enumerate(self.categorical.items(), start=len(self.numeric)):
            text = categorical_text(frame[col])
            codes = pd.Categorical(text, categories=cats).codes.astype(np.float64)
            codes[codes < 0] = self.fill[col]
            out[:, j] = codes
        return out

    def encode_row(self, row: Mapping[str, Any], *, source: str = "applicant") -> np.ndarray:
        """One applicant as a 1 x n matrix: the same as ``encode(pd.DataFrame([row]))``, without the frame.

        Numbers, booleans, strings and missing values (None, NaN) are encoded here (a tenth of the frame's cost);
        any other value (text in a numeric column, a date) takes :meth:`encode`'s checks.
        """
        missing = [c for c in self.features if c not in row]
        if missing:
            raise DataValidationError(source, f"missing feature column(s) {', '.join(missing)}")
        out = np.empty((1, len(self.features)), dtype=np.float64)
        for j, col in enumerate(self.numeric):
            value = row[col]
            if _is_missing(value):
                out[0, j] = self.fill[col] if self.missing == "fill" else np.nan
            elif isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
                out[0, j] = float(value)
            else:
                return self.encode(pd.DataFrame([dict(row)]), source=source)
        for j, (col, cats) in enumerate(self.categorical.items(), start=len(self.numeric)):
            value = row[col]
            if _is_missing(value):
                value = MISSING_CATEGORY
            elif not isinstance(value, str):
                return self.encode(pd.DataFrame([dict(row)]), source=source)
            out[0, j] = cats.index(value) if value in cats else self.fill[col]
        return out

    def decode_category(self, column: str, code: float) -> str:
        """The category label of a code of a categorical column."""
        return self.categorical[column][int(code)]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def categorical_text(series: pd.Series) -> pd.Series:
    """A column as text categories, missing values as their own category."""
    return series.astype("str").where(series.notna(), MISSING_CATEGORY)


def numeric_column(series: pd.Series, column: str, *, source: str = "data") -> pd.Series:
    """A column as float numbers; text that is not a number raises a clear :class:`DataValidationError`."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    converted = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & converted.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in series[bad].unique()[:3])
        raise DataValidationError(
            source, f"numeric column holds text ({examples})", column=column, **row_numbers(bad)
        )
    return converted.astype("float64")


def _looks_numeric(series: pd.Series) -> bool:
    """Mostly numbers stored as text (>= 80 % of the non-missing values parse): a numeric column with typos."""
    present = series.dropna()
    if present.empty:
        return False
    parsed = pd.to_numeric(present, errors="coerce")
    return parsed.notna().mean() >= 0.8


def _looks_like_dates(series: pd.Series) -> bool:
    present = series.dropna().astype("str").head(50)
    return not present.empty and bool(present.map(lambda v: bool(_DATE_PATTERN.match(v))).all())


def _looks_like_id(series: pd.Series, column: str) -> bool:
    """An identifier, never a feature: named ``id`` / ``uuid`` (``loan_id``, ``customerId``), whatever its values
    (a customer with several loans repeats its id; text codes such as ``C-0007`` too), or named key / number / no
    (or ending in ``id``) with mostly distinct values, or text that is distinct in nearly every row."""
    tokens = name_tokens(column)
    if tokens & {"id", "uuid"}:
        return True
    named = str(column).lower().endswith("id") or bool(tokens & {"key", "number", "no"})
    unique_share = series.nunique(dropna=True) / max(len(series), 1)
    if named and unique_share > 0.5:
        return True
    is_text = not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    return is_text and len(series) >= 50 and unique_share > 0.95 and not _looks_numeric(series)


def infer_spec(
    frame: pd.DataFrame,
    *,
    source: str = "data",
    drop: tuple[str, ...] = (),
    protected: tuple[str, ...] = (),
    max_categories: int = 200,
    missing: str = "fill",
) -> FeatureSpec:
    """Decide each column's role from the data (the target must already be removed from ``frame``).

    Parameters
    ----------
    frame : DataFrame
        Candidate feature columns of the training rows.
    source : str
        File or table name used in error messages.
    drop : tuple of str
        Columns the user excludes.
    protected : tuple of str
        Extra protected attribute names, besides the recognised ones (age, gender, sex, marital status, ...).
    max_categories : int
        Text columns with more distinct values than this are refused (free text does not belong in a score).
    missing : {"fill", "keep"}
        What :meth:`FeatureSpec.encode` does with a missing numeric value (the median is recorded either way).

    Raises
    ------
    DataValidationError
        For an all-empty column, text in a numeric column, or no usable feature at all.
    """
    unknown = [c for c in drop if c not in frame.columns]
    if unknown:
        raise DataValidationError(source, f"cannot drop unknown column(s) {', '.join(unknown)}")
    numeric: list[str] = []
    categorical: dict[str, list[str]] = {}
    fill: dict[str, float] = {}
    dropped: dict[str, str] = {}
    ranges: dict[str, dict[str, float | bool]] = {}
    found_protected: list[str] = []
    for col in frame.columns:
        series = frame[col]
        if col in drop:
            dropped[col] = "dropped on request"
            continue
        if series.isna().all():
            raise DataValidationError(
                source, f"empty in all {len(series)} rows; drop it or fill it", column=col
            )
        if is_protected(col, protected):
            found_protected.append(col)
            dropped[col] = "protected attribute (kept for fairness checks only)"
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or (
            not pd.api.types.is_numeric_dtype(series) and _looks_like_dates(series)
        ):
            dropped[col] = "date"
            continue
        if _looks_like_id(series, col):
            dropped[col] = "identifier"
            continue
        if series.nunique(dropna=False) <= 1:
            dropped[col] = "constant"
            continue
        is_number = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
        if is_number or _looks_numeric(series):
            values = numeric_column(series, col, source=source)
            numeric.append(col)
            fill[col] = float(values.median())
            present = values.dropna()
            ranges[col] = {
                "min": float(present.min()),
                "max": float(present.max()),
                "integer": bool((present == np.round(present)).all()),
            }
            continue
        text = categorical_text(series)
        counts = text.value_counts()
        if len(counts) > max_categories:
            raise DataValidationError(
                source,
                f"{len(counts)} distinct text values (free text?); drop it or group it into at most {max_categories}",
                column=col,
            )
        categorical[col] = sorted(counts.index.tolist())
        fill[col] = float(categorical[col].index(counts.index[0]))
    if not numeric and not categorical:
        raise DataValidationError(
            source, f"no usable feature column (all were {', '.join(sorted(set(dropped.values())))})"
        )
    return FeatureSpec(
        numeric=numeric,
        categorical=categorical,
        fill=fill,
        protected=found_protected,
        dropped=dropped,
        ranges=ranges,
        missing=missing,
    )
