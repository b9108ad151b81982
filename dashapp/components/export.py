"""CSV downloads: every export the app makes goes through :func:`safe_csv`, so no cell runs as a spreadsheet formula
and every header is in words."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc

from bankdata import header_labels, neutralise_formulas


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """What a download holds: ``frame`` with text cells starting with ``= + - @`` (or tab, CR) neutralised and its
    headers renamed by the label map (``customer_id`` -> ``Customer id``, ``dti`` -> ``Debt-to-income ratio``).

    Renaming is the last step: the services drop restricted columns (``dashapp.policy``) by their raw names first.
    Values stay as stored (codes such as ``self_employed``), so a download can be joined or filtered by machine.
    """
    safe = neutralise_formulas(frame)
    return safe.rename(columns=header_labels(safe.columns))


def safe_csv(frame: pd.DataFrame, filename: str) -> dict[str, Any]:
    """``dcc.Download`` data for ``frame`` as CSV (see :func:`csv_frame`: formulas neutralised, headers in words).

    Parameters
    ----------
    frame : DataFrame
        What to send; it is not modified.
    filename : str
        The name the browser saves it under.
    """
    return dcc.send_data_frame(csv_frame(frame).to_csv, filename, index=False)
