"""Risk bands: a fixed master scale of probability of default, shared by every page that filters by risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: band labels, best first
BANDS: tuple[str, ...] = ("A", "B", "C", "D", "E")
#: upper PD edge of bands A-D (E is everything at or above 20 %)
BAND_EDGES: tuple[float, ...] = (0.02, 0.05, 0.10, 0.20)
BAND_NAMES: dict[str, str] = {"A": "very low", "B": "low", "C": "medium", "D": "high", "E": "very high"}
HIGHEST_BAND = BANDS[-1]


def risk_band(pd_values: np.ndarray | pd.Series | float) -> pd.Categorical | str:
    """The band of each probability of default (A < 2 % <= B < 5 % <= C < 10 % <= D < 20 % <= E)."""
    scalar = np.ndim(pd_values) == 0
    values = np.atleast_1d(np.asarray(pd_values, dtype=np.float64))
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise ValueError("probabilities of default must lie in [0, 1]")
    codes = np.searchsorted(np.asarray(BAND_EDGES), values, side="right")
    if scalar:
        return BANDS[int(codes[0])]
    return pd.Categorical.from_codes(codes, categories=list(BANDS), ordered=True)
