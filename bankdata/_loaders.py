"""Read the user's own files (CSV, Parquet, whitespace-separated text) with clear errors, and validate them.

``read_tabular`` only reads (any columns, types inferred); ``load_table`` reads, renames with a column map and
validates against a declared table, returning the table in the public dtypes. Nothing here writes anything.
"""

from __future__ import annotations

import csv
import gzip
import logging
from pathlib import Path

import pandas as pd

from bankdata._schema import schema_for
from bankdata._validation import MAX_COLUMNS, DataValidationError, apply_column_map, validate_frame

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
CSV_SUFFIXES = (".csv", ".csv.gz")
TSV_SUFFIXES = (".tsv",)
TEXT_SUFFIXES = (".txt", ".dat")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = CSV_SUFFIXES + TSV_SUFFIXES + TEXT_SUFFIXES + PARQUET_SUFFIXES


def file_format(path: Path) -> str:
    """Return ``csv``, ``tsv``, ``text`` or ``parquet`` from the file name, or raise ``DataValidationError``."""
    name = path.name.lower()
    for fmt, suffixes in (
        ("csv", CSV_SUFFIXES),
        ("tsv", TSV_SUFFIXES),
        ("text", TEXT_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return fmt
    raise DataValidationError(
        path.name,
        f"unsupported file type {path.suffix or '(no extension)'!r}; expected one of {', '.join(SUPPORTED)}",
    )


def human_size(n_bytes: float) -> str:
    """``1536`` -> ``"1.5 kB"`` (decimal units)."""
    if n_bytes < 1000:
        return f"{n_bytes:,.0f} bytes"
    for unit in ("kB", "MB"):
        n_bytes /= 1000
        if n_bytes < 1000:
            return f"{n_bytes:,.1f} {unit}"
    return f"{n_bytes / 1000:,.1f} GB"


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise DataValidationError(path.name, "is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DataValidationError(path.name, "the file is empty")
    if size > max_bytes:
        raise DataValidationError(
            path.name, f"the file is too large ({human_size(size)}; the limit is {human_size(max_bytes)})"
        )


def _first_bad_utf8_line(path: Path) -> tuple[int, bytes]:
    """Line number (1-based, header is line 1) and bytes of the first line that is not UTF-8."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, line[max(exc.start - 10, 0) : exc.end + 10]
    return 0, b""


def _header_width(path: Path, fmt: str) -> int:
    """Fields in the first line, counted with the csv module (fast on any width); 0 for an empty file."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="strict", newline="") as fh:
        first = fh.readline()
    if fmt == "text":
        return len(first.split())
    return len(next(csv.reader([first], delimiter="\t" if fmt == "tsv" else ","), []))


def _read_delimited(path: Path, fmt: str) -> pd.DataFrame:
    sep = {"csv": ",", "tsv": "\t", "text": r"\s+"}[fmt]
    options = {
        "sep": sep,
        "encoding": "utf-8-sig",
        "encoding_errors": "strict",
        "skipinitialspace": fmt == "csv",
    }
    try:
        n_columns = _header_width(path, fmt)  # before pandas: its parser takes minutes on 1e6 columns
        if n_columns > MAX_COLUMNS:
            raise DataValidationError(path.name, f"too many columns ({n_columns:,}; at most {MAX_COLUMNS:,})")
        header = pd.read_csv(path, nrows=0, **options)
        if header.shape[1] > MAX_COLUMNS:
            raise DataValidationError(
                path.name, f"too many columns ({header.shape[1]:,}; at most {MAX_COLUMNS:,})"
            )
        return pd.read_csv(path, **options)
    except UnicodeDecodeError:
        line, context = _first_bad_utf8_line(path)
        raise DataValidationError(
            path.name,
            f"not UTF-8 text: undecodable bytes on line {line} (near {context!r}); "
            "save the file as UTF-8 (e.g. 'CSV UTF-8' in Excel)",
        ) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(path.name, "the file is empty (no header and no rows)") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        reason = " ".join(str(exc).split())
        raise DataValidationError(path.name, f"cannot parse the file as {fmt.upper()}: {reason}") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        n_columns = len(pq.read_schema(path).names)
        if n_columns > MAX_COLUMNS:
            raise DataValidationError(path.name, f"too many columns ({n_columns:,}; at most {MAX_COLUMNS:,})")
        return pd.read_parquet(path)
    except DataValidationError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for corrupt or foreign files
        raise DataValidationError(path.name, f"not a readable Parquet file: {exc}") from None


def read_tabular(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> pd.DataFrame:
    """Read a CSV, TSV, whitespace-separated text or Parquet file, chosen by its extension.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.csv.gz`` (UTF-8, comma), ``.tsv`` (tab), ``.txt``/``.dat`` (whitespace), ``.parquet``/``.pq``.
    max_bytes : int
        Refuse larger files.

    Returns
    -------
    DataFrame
        Column types as inferred by pandas; column names stripped of surrounding spaces.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    DataValidationError
        Unsupported extension, empty or too large file, not UTF-8, unparsable, too many columns or no data rows.
    """
    path = Path(path)
    fmt = file_format(path)
    _check_file(path, max_bytes)
    df = _read_parquet(path) if fmt == "parquet" else _read_delimited(path, fmt)
    if df.shape[1] > MAX_COLUMNS:
        raise DataValidationError(path.name, f"too many columns ({df.shape[1]:,}; at most {MAX_COLUMNS:,})")
    if len(df) == 0:
        raise DataValidationError(path.name, "no data rows (only a header)")
    df.columns = [str(c).strip() for c in df.columns]
    log.debug("read %s: %d rows x %d columns", path, len(df), df.shape[1])
    return df


def load_table(
    path: str | Path,
    table: str,
    column_map: dict[str, str] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    date_format: str | None = None,
    text_ids: bool = False,
) -> pd.DataFrame:
    """Read the user's file for one table and validate it completely.

    Parameters
    ----------
    path : str or Path
        The file (see :func:`read_tabular` for the formats).
    table : str
        One of ``customers``, ``transactions``, ``loans``, ``products``, ``interactions``.
    column_map : dict, optional
        ``{column in the file: column of the table}``, applied before validation.
    max_bytes : int
        Refuse larger files.
    date_format : str, optional
        strptime format of dates that are not ISO 8601 (e.g. ``%d/%m/%Y``); without it the file's own values must
        show the order (see :mod:`bankdata._validation`).
    text_ids : bool
        Accept text ids (customer, loan and product ids are then ``str`` columns; ``ledgerlight load`` maps them to
        internal whole numbers). Without it ids must be whole numbers.

    Returns
    -------
    DataFrame
        Exactly the table's declared columns in the public dtypes; other columns of the file are dropped.

    Raises
    ------
    DataValidationError
        Every problem found (up to a limit, grouped by column), naming the file, the column and the first
        offending rows.
    """
    schema = schema_for(table)
    path = Path(path)
    df = read_tabular(path, max_bytes=max_bytes)
    df = apply_column_map(df, column_map, path.name, schema)
    return validate_frame(df, schema, path.name, date_format=date_format, text_ids=text_ids)


def parse_column_map(pairs: list[str] | None) -> dict[str, str]:
    """Turn ``["Status=defaulted", ...]`` into ``{"Status": "defaulted"}``; raise ``ValueError`` for a bad pair."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        src, sep, dst = pair.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise ValueError(f"--map {pair!r}: expected SRC=DST, e.g. --map Status=defaulted")
        mapping[src.strip()] = dst.strip()
    return mapping
