"""Validate a DataFrame against a declared table schema and coerce it to the public dtypes.

Every problem raises :class:`DataValidationError`, whose message names the file, the column and the first offending rows,
e.g. ``loans.csv: column 'amount': negative values in rows 3, 17 (2 rows)``. Rows are numbered from 1 and count data
rows only (in a CSV with a header, row 1 is on line 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bankdata._schema import Column, TableSchema

MAX_ROWS_SHOWN = 5
MAX_COLUMNS = 1000
FLAG_WORDS = {"true": "1", "yes": "1", "y": "1", "t": "1", "false": "0", "no": "0", "n": "0", "f": "0"}


class DataValidationError(ValueError):
    """A file or frame does not match what Ledgerlight expects.

    Attributes
    ----------
    file : str
        The file (or table) the problem is in.
    column : str or None
        The offending column, if the problem is in one column.
    rows : list of int
        The first few offending rows, numbered from 1 (data rows, header not counted).
    n_rows : int
        How many rows are affected in total.
    """

    def __init__(
        self, file: str, problem: str, *, column: str | None = None, rows: Sequence[int] = (), n_rows: int = 0
    ) -> None:
        self.file = file
        self.column = column
        self.problem = problem
        self.n_rows = n_rows or len(rows)
        self.rows = [int(r) for r in rows[:MAX_ROWS_SHOWN]]
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.file}: " + (f"column {self.column!r}: " if self.column else "")
        if not self.rows:
            return where + self.problem
        shown = ", ".join(str(r) for r in self.rows)
        more = ", ..." if self.n_rows > len(self.rows) else ""
        noun = "row" if self.n_rows == 1 else "rows"
        return f"{where}{self.problem} in {noun} {shown}{more} ({self.n_rows} {noun})"


def bad_rows(mask: np.ndarray | pd.Series) -> tuple[list[int], int]:
    """Return the first few 1-based row numbers where ``mask`` is true, and how many there are."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return [int(p) + 1 for p in positions[:MAX_ROWS_SHOWN]], len(positions)


def _fail(file: str, column: str, problem: str, mask: np.ndarray | pd.Series) -> None:
    rows, n = bad_rows(mask)
    if n:
        raise DataValidationError(file, problem, column=column, rows=rows, n_rows=n)


def _examples(values: pd.Series) -> str:
    uniq = pd.unique(values.astype(str))[:3]
    return ", ".join(repr(v) for v in uniq)


def _as_numbers(s: pd.Series, col: Column, file: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("int64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = s.astype("str").str.strip()
    if col.allowed == (0, 1):  # a flag: also accept yes/no, true/false
        text = text.str.lower().replace(FLAG_WORDS)
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
    not_number = numbers.isna() & s.notna() & (text != "")
    _fail(file, col.name, f"text in a numeric column ({_examples(text[not_number])})", not_number)
    return numbers.astype("float64")


def _check_bounds(x: pd.Series, col: Column, file: str) -> None:
    if col.positive:
        _fail(file, col.name, "values that are not greater than 0", x <= 0)
    if col.min_value == 0 and col.max_value is None:
        _fail(file, col.name, "negative values", x < 0)
    elif col.min_value is not None or col.max_value is not None:
        lo = -np.inf if col.min_value is None else col.min_value
        hi = np.inf if col.max_value is None else col.max_value
        _fail(file, col.name, f"values outside {lo:g}..{hi:g}", (x < lo) | (x > hi))
    if col.allowed is not None:
        allowed = ", ".join(str(a) for a in col.allowed)
        _fail(file, col.name, f"values other than {allowed}", x.notna() & ~x.isin(col.allowed))


def _coerce_numeric(s: pd.Series, col: Column, file: str) -> pd.Series:
    x = _as_numbers(s, col, file)
    _fail(file, col.name, "infinite values", np.isinf(x))
    if col.kind == "float":
        _check_bounds(x, col, file)
        return x
    _fail(file, col.name, "values that are not whole numbers", x.notna() & (x != np.floor(x)))
    _check_bounds(x, col, file)
    if x.isna().any():  # only reachable for a nullable int column
        return x.astype("Int64")
    return x.astype("int64")


def _as_datetimes(s: pd.Series, col: Column, file: str) -> pd.Series:
    """Naive UTC datetimes in any resolution; text is parsed."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if pd.api.types.is_numeric_dtype(s):
        raise DataValidationError(
            file, "numbers where dates are expected (write dates like 2024-03-31)", column=col.name
        )
    text = s.astype("str").str.strip()
    text = text.where(text != "", None)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    retry = parsed.isna() & text.notna()
    if retry.any():  # other spellings (31/03/2024, Mar 31 2024): slower, only for the rows that need it
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", format="mixed", utc=True)
    bad = parsed.isna() & text.notna()
    _fail(file, col.name, f"unparsable dates ({_examples(text[bad])}; write e.g. 2024-03-31 14:05:00)", bad)
    return parsed.dt.tz_localize(None)


def _coerce_datetime(s: pd.Series, col: Column, file: str) -> pd.Series:
    parsed = _as_datetimes(s, col, file)
    lo, hi = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")
    out_of_range = (parsed < lo) | (parsed > hi)
    _fail(file, col.name, f"dates outside {lo:%Y-%m-%d}..{hi:%Y-%m-%d}", out_of_range)
    return parsed.astype("datetime64[ns]")


def _coerce_text(s: pd.Series, col: Column, file: str) -> pd.Series:
    text = s.astype("str").str.strip()
    text = text.where(s.notna() & (text != ""), None)
    if col.kind == "category" and col.allowed is not None:
        canonical = {str(a).lower(): str(a) for a in col.allowed}
        lowered = text.str.lower()
        unknown = text.notna() & ~lowered.isin(list(canonical))
        allowed = ", ".join(str(a) for a in col.allowed)
        _fail(file, col.name, f"unknown values {_examples(text[unknown])} (allowed: {allowed})", unknown)
        text = lowered.map(canonical).astype("str")
    return text


def coerce_column(s: pd.Series, col: Column, file: str) -> pd.Series:
    """Check one column against its declaration and return it in the public dtype.

    Parameters
    ----------
    s : Series
        The raw values (any dtype; text is parsed).
    col : Column
        The declaration.
    file : str
        Named in error messages.

    Returns
    -------
    Series
        int64 for ids and whole numbers, float64, ``str`` for text and categories, ``datetime64[ns]`` for dates.
    """
    s = s.reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype)
    if col.kind in ("id", "int", "float"):
        out = _coerce_numeric(s, col, file)
    elif col.kind == "datetime":
        out = _coerce_datetime(s, col, file)
    else:
        out = _coerce_text(s, col, file)
    if not col.nullable:
        _fail(file, col.name, "missing values", out.isna())
    if col.unique:
        _fail(file, col.name, "duplicate ids", out.duplicated(keep="first"))
    return out


def apply_column_map(
    df: pd.DataFrame, column_map: dict[str, str] | None, file: str, schema: TableSchema
) -> pd.DataFrame:
    """Rename the user's columns to the schema's names; every source must exist and every target be declared."""
    if not column_map:
        return df
    for src, dst in column_map.items():
        if src not in df.columns:
            raise DataValidationError(
                file,
                f"the column map renames {src!r}, which the file does not have (it has: {_names(df.columns)})",
            )
        if dst not in schema.column_names:
            raise DataValidationError(
                file,
                f"the column map target {dst!r} is not a column of {schema.name} ({_names(schema.column_names)})",
            )
    targets = list(column_map.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise DataValidationError(
            file, f"the column map maps several columns to {', '.join(map(repr, doubled))}"
        )
    clashes = [c for c in df.columns if c in targets and c not in column_map]
    if clashes:
        raise DataValidationError(
            file,
            f"the column map targets {', '.join(map(repr, clashes))}, which the file already has",
            column=clashes[0],
        )
    return df.rename(columns=column_map)


def _names(names: Sequence[str] | pd.Index) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:20]) + (f", ... ({len(names)} columns)" if len(names) > 20 else "")


def validate_frame(df: pd.DataFrame, schema: TableSchema, file: str) -> pd.DataFrame:
    """Validate a whole table and return only its declared columns, in order, in the public dtypes.

    Parameters
    ----------
    df : DataFrame
        The raw table; columns not in the schema are ignored.
    schema : TableSchema
        What the table must look like.
    file : str
        Named in error messages (a file name, or the table name for in-memory data).

    Raises
    ------
    DataValidationError
        For too many columns, no rows, missing columns and every problem :func:`coerce_column` finds.
    """
    if df.shape[1] > MAX_COLUMNS:
        raise DataValidationError(file, f"too many columns ({df.shape[1]:,}; at most {MAX_COLUMNS:,})")
    if len(df) == 0:
        raise DataValidationError(file, "no data rows")
    columns = [str(c).strip() for c in df.columns]
    df = df.set_axis(columns, axis=1)
    missing = [c for c in schema.column_names if c not in columns]
    if missing:
        also = f" (also missing: {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else ""
        raise DataValidationError(
            file,
            f"missing, table {schema.name} needs it{also}; the file has: {_names(columns)} "
            "(rename columns with --map SRC=DST)",
            column=missing[0],
        )
    doubled = sorted({c for c in schema.column_names if columns.count(c) > 1})
    if doubled:
        raise DataValidationError(file, "the column appears more than once", column=doubled[0])
    out = {col.name: coerce_column(df[col.name], col, file) for col in schema.columns}
    return pd.DataFrame(out)
