"""CSV downloads: every export the app makes goes through :func:`safe_csv`, so no cell runs as a spreadsheet formula."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc

from bankdata import neutralise_formulas


def safe_csv(frame: pd.DataFrame, filename: str) -> dict[str, Any]:
    """``dcc.Download`` data for ``frame`` as CSV, text cells starting with ``= + - @`` (or tab, CR) neutralised.

    Parameters
    ----------
    frame : DataFrame
        What to send; it is not modified.
    filename : str
        The name the browser saves it under.
    """
    return dcc.send_data_frame(neutralise_formulas(frame).to_csv, filename, index=False)
