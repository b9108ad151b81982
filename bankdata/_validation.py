"""Validate a DataFrame against a declared table schema and coerce it to the public dtypes.

Validation looks at every column and reports every problem it finds (up to ``MAX_PROBLEMS``, grouped by column) in
one :class:`DataValidationError`, whose message names the file, the column and the first offending rows, e.g.
``loans.csv: column 'amount': negative values in rows 3, 17 (2 rows)``. Rows are numbered from 1 and count data rows
only (in a CSV with a header, row 1 is on line 2).

Dates: ISO 8601 is read as is. Numeric dates such as ``03/04/2025`` are read in the order the file itself shows
(a value like ``31/03/2025`` makes the whole column day-first); a column where every value could be either order, or
that mixes both, is refused unless the caller names the format (``date_format="%d/%m/%Y"``, ``--date-format``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bankdata._schema import Column, TableSchema

MAX_ROWS_SHOWN = 5
MAX_PROBLEMS = 20
MAX_COLUMNS = 1000
MAX_ID_LENGTH = 100  # characters of a text id
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
    problems : list of DataValidationError
        Every problem found, this one first (one entry when only one was found), grouped by column.
    """

    def __init__(
        self, file: str, problem: str, *, column: str | None = None, rows: Sequence[int] = (), n_rows: int = 0
    ) -> None:
        self.file = file
        self.column = column
        self.problem = problem
        self.n_rows = n_rows or len(rows)
        self.rows = [int(r) for r in rows[:MAX_ROWS_SHOWN]]
        self.problems: list[DataValidationError] = [self]
        super().__init__(self._message())

    @classmethod
    def combine(cls, problems: Sequence[DataValidationError]) -> DataValidationError:
        """One error that lists ``problems`` (the first one's attributes, every problem in the message)."""
        first = problems[0]
        if len(problems) == 1:
            return first
        ordered = sorted(
            problems, key=lambda p: (p.column is None, [q.column for q in problems].index(p.column))
        )
        error = cls(first.file, first.problem, column=first.column, rows=first.rows, n_rows=first.n_rows)
        error.problems = list(ordered)
        more = " or more" if len(problems) >= MAX_PROBLEMS else ""
        lines = [f"{first.file}: {len(problems)}{more} problems, by column:"]
        lines += ["  " + p._message().removeprefix(f"{first.file}: ") for p in ordered]
        error.args = ("\n".join(lines),)
        return error

    def _message(self) -> str:
        where = f"{self.file}: " + (f"column {self.column!r}: " if self.column else "")
        if not self.rows:
            return where + self.problem
        shown = ", ".join(str(r) for r in self.rows)
        more = ", ..." if self.n_rows > len(self.rows) else ""
        noun = "row" if self.n_rows == 1 else "rows"
        return f"{where}{self.problem} in {noun} {shown}{more} ({self.n_rows} {noun})"


class ProblemReport:
    """Collects the problems of one file; :meth:`raise_if_any` raises them together.

    Parameters
    ----------
    file : str
        Named in every message.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[DataValidationError] = []

    def add(self, column: str | None, problem: str, mask: np.ndarray | pd.Series | None = None) -> bool:
        """Record a problem (where ``mask`` holds, or for the whole column without a mask); True if recorded."""
        if len(self.problems) >= MAX_PROBLEMS:
            return mask is None or bool(np.asarray(mask, dtype=bool).any())
        if mask is None:
            self.problems.append(DataValidationError(self.file, problem, column=column))
            return True
        rows, n = bad_rows(mask)
        if n:
            self.problems.append(DataValidationError(self.file, problem, column=column, rows=rows, n_rows=n))
        return bool(n)

    def raise_if_any(self) -> None:
        """Raise every recorded problem as one :class:`DataValidationError`."""
        if self.problems:
            raise DataValidationError.combine(self.problems)


def bad_rows(mask: np.ndarray | pd.Series) -> tuple[list[int], int]:
    """Return the first few 1-based row numbers where ``mask`` is true, and how many there are."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return [int(p) + 1 for p in positions[:MAX_ROWS_SHOWN]], len(positions)


def _examples(values: pd.Series) -> str:
    uniq = pd.unique(values.astype(str))[:3]
    return ", ".join(repr(v) for v in uniq)


def _as_numbers(s: pd.Series, col: Column, report: ProblemReport) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("int64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = s.astype("str").str.strip()
    if col.allowed == (0, 1):  # a flag: also accept yes/no, true/false
        text = text.str.lower().replace(FLAG_WORDS)
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
    not_number = numbers.isna() & s.notna() & (text != "")
    report.add(col.name, f"text in a numeric column ({_examples(text[not_number])})", not_number)
    return numbers.astype("float64")


def _check_bounds(x: pd.Series, col: Column, report: ProblemReport) -> None:
    if col.positive:
        report.add(col.name, "values that are not greater than 0", x <= 0)
    if col.min_value == 0 and col.max_value is None:
        report.add(col.name, "negative values", x < 0)
    elif col.min_value is not None or col.max_value is not None:
        lo = -np.inf if col.min_value is None else col.min_value
        hi = np.inf if col.max_value is None else col.max_value
        report.add(col.name, f"values outside {lo:g}..{hi:g}", (x < lo) | (x > hi))
    if col.allowed is not None:
        allowed = ", ".join(str(a) for a in col.allowed)
        report.add(col.name, f"values other than {allowed}", x.notna() & ~x.isin(col.allowed))


def _coerce_numeric(s: pd.Series, col: Column, report: ProblemReport) -> pd.Series:
    before = len(report.problems)
    x = _as_numbers(s, col, report)
    report.add(col.name, "infinite values", np.isinf(x))
    if col.kind == "float":
        _check_bounds(x, col, report)
        return x
    report.add(col.name, "values that are not whole numbers", x.notna() & (x != np.floor(x)))
    _check_bounds(x, col, report)
    if len(report.problems) > before:  # reported: the column is not converted
        return x
    if x.isna().any():  # a nullable int column
        return x.astype("Int64")
    return x.astype("int64")


_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")
_ORDER_FORMATS = {"day-first": "%d{sep}%m{sep}%Y", "month-first": "%m{sep}%d{sep}%Y"}


def _numeric_date_order(text: pd.Series, col: Column, report: ProblemReport) -> str | None:
    """``day-first`` or ``month-first`` as the column's own values show it; None (reported) when they cannot tell
    or disagree."""
    parts = text.str.extract(_NUMERIC_DATE)
    first, second = parts[0].astype("float64"), parts[2].astype("float64")
    day_first_only = (first > 12) & (second <= 12)
    month_first_only = (second > 12) & (first <= 12)
    hint = "name the format with --date-format (e.g. --date-format %d/%m/%Y for 31/03/2025)"
    if day_first_only.any() and month_first_only.any():
        report.add(
            col.name,
            f"dates in both day-first and month-first order ({_examples(text[day_first_only])} and "
            f"{_examples(text[month_first_only])}); {hint}",
            month_first_only,
        )
        return None
    if day_first_only.any():
        return "day-first"
    if month_first_only.any():
        return "month-first"
    report.add(
        col.name,
        f"ambiguous dates ({_examples(text)} could be day-first or month-first); {hint}",
        text.notna(),
    )
    return None


def _parse_numeric_dates(text: pd.Series, order: str) -> pd.Series:
    """Parse ``dd/mm/yyyy``-like text in the given order (2-digit years are 20yy); NaT where a value does not fit."""
    parts = text.str.extract(_NUMERIC_DATE)
    day, month = (parts[0], parts[2]) if order == "day-first" else (parts[2], parts[0])
    year = parts[3].where(parts[3].str.len() == 4, "20" + parts[3])
    iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + (" " + parts[4]).fillna("")
    return pd.to_datetime(iso, errors="coerce", format="ISO8601", utc=True)


def _as_datetimes(s: pd.Series, col: Column, report: ProblemReport, date_format: str | None) -> pd.Series:
    """Naive UTC datetimes in any resolution; text is parsed (ISO 8601, the given format, or an unambiguous order)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if pd.api.types.is_numeric_dtype(s):
        report.add(col.name, "numbers where dates are expected (write dates like 2024-03-31)")
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    text = s.astype("str").str.strip()
    text = text.where(s.notna() & (text != ""), None)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    retry = parsed.isna() & text.notna()
    if retry.any() and date_format is not None:
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", format=date_format, utc=True)
        retry = parsed.isna() & text.notna()
        report.add(col.name, f"dates not in the format {date_format} ({_examples(text[retry])})", retry)
        return parsed.dt.tz_localize(None)
    numeric = retry & text.str.match(_NUMERIC_DATE).fillna(False).astype(bool)
    if numeric.any():
        order = _numeric_date_order(text[numeric], col, report)
        if order is None:
            return parsed.dt.tz_localize(None)
        parsed[numeric] = _parse_numeric_dates(text[numeric], order)
    words = retry & ~numeric
    if words.any():  # spellings with a month name (Mar 31 2024, 31 March 2024): unambiguous, slower
        parsed[words] = pd.to_datetime(text[words], errors="coerce", format="mixed", utc=True)
    bad = parsed.isna() & text.notna()
    report.add(col.name, f"unparsable dates ({_examples(text[bad])}; write e.g. 2024-03-31 14:05:00)", bad)
    return parsed.dt.tz_localize(None)


def _coerce_datetime(s: pd.Series, col: Column, report: ProblemReport, date_format: str | None) -> pd.Series:
    parsed = _as_datetimes(s, col, report, date_format)
    lo, hi = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")
    out_of_range = (parsed < lo) | (parsed > hi)
    if report.add(col.name, f"dates outside {lo:%Y-%m-%d}..{hi:%Y-%m-%d}", out_of_range):
        return parsed.where(~out_of_range).astype("datetime64[ns]")
    return parsed.astype("datetime64[ns]")


def _coerce_text(s: pd.Series, col: Column, report: ProblemReport) -> pd.Series:
    text = s.astype("str").str.strip()
    text = text.where(s.notna() & (text != ""), None)
    if col.kind == "category" and col.allowed is not None:
        canonical = {str(a).lower(): str(a) for a in col.allowed}
        lowered = text.str.lower()
        unknown = text.notna() & ~lowered.isin(list(canonical))
        allowed = ", ".join(str(a) for a in col.allowed)
        report.add(col.name, f"unknown values {_examples(text[unknown])} (allowed: {allowed})", unknown)
        text = lowered.map(canonical).astype("str")
    return text


def _is_text_ids(s: pd.Series) -> bool:
    """Whether an id column holds text ids: some value is not a number (a column of whole numbers, even written as
    text, holds whole-number ids)."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    text = s.astype("str").str.strip()
    present = s.notna() & (text != "")
    return bool((pd.to_numeric(text.where(present, None), errors="coerce").isna() & present).any())


def _coerce_text_ids(s: pd.Series, col: Column, report: ProblemReport) -> pd.Series:
    text = s.astype("str").str.strip()
    text = text.where(s.notna() & (text != ""), None)
    report.add(
        col.name, f"ids longer than {MAX_ID_LENGTH} characters", text.str.len().fillna(0) > MAX_ID_LENGTH
    )
    return text.astype("str")


def _raw_missing(s: pd.Series) -> pd.Series:
    """Cells that are empty in the input (not those that failed to parse)."""
    if (
        pd.api.types.is_numeric_dtype(s)
        or pd.api.types.is_datetime64_any_dtype(s)
        or pd.api.types.is_bool_dtype(s)
    ):
        return s.isna()
    return s.isna() | (s.astype("str").str.strip() == "")


def coerce_column(
    s: pd.Series,
    col: Column,
    file: str | ProblemReport,
    *,
    date_format: str | None = None,
    text_ids: bool = False,
) -> pd.Series:
    """Check one column against its declaration and return it in the public dtype.

    Parameters
    ----------
    s : Series
        The raw values (any dtype; text is parsed).
    col : Column
        The declaration.
    file : str or ProblemReport
        Named in error messages; a report collects the problems instead of raising them here.
    date_format : str, optional
        strptime format of dates that are not ISO 8601 (e.g. ``%d/%m/%Y``).
    text_ids : bool
        Accept text in an ``id`` column (returned as ``str``): a bank's own ids, mapped to internal whole numbers
        when stored (:mod:`bankdata._external_ids`). Without it an id must be a whole number.

    Returns
    -------
    Series
        int64 for ids and whole numbers (``str`` for text ids), float64, ``str`` for text and categories, ``datetime64[ns]`` for dates.

    Raises
    ------
    DataValidationError
        Every problem of the column, when ``file`` is a name.
    """
    report = file if isinstance(file, ProblemReport) else ProblemReport(file)
    s = s.reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype)
    if col.kind == "id" and text_ids and _is_text_ids(s):
        out = _coerce_text_ids(s, col, report)
    elif col.kind in ("id", "int", "float"):
        out = _coerce_numeric(s, col, report)
    elif col.kind == "datetime":
        out = _coerce_datetime(s, col, report, date_format)
    else:
        out = _coerce_text(s, col, report)
    if not col.nullable:
        report.add(col.name, "missing values", _raw_missing(s))
    if col.unique:
        report.add(col.name, "duplicate ids", out.notna() & out.duplicated(keep="first"))
    if not isinstance(file, ProblemReport):
        report.raise_if_any()
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


def validate_frame(
    df: pd.DataFrame,
    schema: TableSchema,
    file: str,
    *,
    date_format: str | None = None,
    text_ids: bool = False,
) -> pd.DataFrame:
    """Validate a whole table and return only its declared columns, in order, in the public dtypes.

    Parameters
    ----------
    df : DataFrame
        The raw table; columns not in the schema are ignored.
    schema : TableSchema
        What the table must look like.
    file : str
        Named in error messages (a file name, or the table name for in-memory data).
    date_format : str, optional
        strptime format of dates that are not ISO 8601 (see :func:`coerce_column`).
    text_ids : bool
        Accept text ids (see :func:`coerce_column`).

    Raises
    ------
    DataValidationError
        For too many columns, no rows, missing columns, or listing every problem :func:`coerce_column` finds in
        any column (up to ``MAX_PROBLEMS``).
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
    report = ProblemReport(file)
    out = {
        col.name: coerce_column(df[col.name], col, report, date_format=date_format, text_ids=text_ids)
        for col in schema.columns
    }
    report.raise_if_any()
    return pd.DataFrame(out)
