"""What every export file shares: the bank's own ids, and text cells a spreadsheet can never run as formulas."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from bankdata._external_ids import read_id_kinds, to_external

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with ``'`` before every text cell starting with = + - @ tab or CR (CSV injection)."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            text = out[col].astype("str")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False) & out[col].notna()
            out[col] = text.where(~risky, "'" + text).where(out[col].notna(), None)
    return out


def shown_ids(entity: str, internal: Iterable[int], url: str | None = None) -> pd.Series:
    """The ids as the bank writes them: its text ids (a bank loaded with text ids) or the whole numbers."""
    ids = np.asarray(list(internal) if not isinstance(internal, np.ndarray) else internal, dtype=np.int64)
    if read_id_kinds(url).get(entity) != "text":
        return pd.Series(ids, dtype="int64")
    mapping = to_external(entity, ids.tolist(), url)
    return pd.Series([mapping.get(int(i), str(int(i))) for i in ids], dtype="str")
