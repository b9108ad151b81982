"""Responses of a campaign: an uploaded CSV checked row by row, or the take-ups found in new holdings, recorded
through ``bankdata.record_responses`` (once per customer, within the window) and audited.

The file names its rows as the bank's loaders do (numbered from 1, the header not counted); one bad row refuses
the whole file, so nothing half-loaded is ever measured.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import (
    BANK_TABLES,
    Campaign,
    holdings_responses,
    record_responses,
    store_response_purchases,
    to_internal,
)
from dashapp.services import audit, ids, validation
from dashapp.services.campaigns import _rows, _url, get_campaign, product_of

MAX_UPLOAD_ROWS = 500_000
MAX_PROBLEMS_SHOWN = 5
UPLOAD_COLUMNS = ("customer_id", "responded_at")
_CUSTOMERS = BANK_TABLES["customers"]


class UploadRefused(ValueError):
    """A responses file that cannot be recorded; the message names the rows (nothing was recorded)."""


def _problems(kind: str, rows: np.ndarray, what: str) -> list[str]:
    if not len(rows):
        return []
    shown = ", ".join(str(int(r)) for r in rows[:MAX_PROBLEMS_SHOWN])
    more = f" and {len(rows) - MAX_PROBLEMS_SHOWN:,} more" if len(rows) > MAX_PROBLEMS_SHOWN else ""
    noun = "row" if len(rows) == 1 else "rows"
    return [f"{kind}: {what} in {noun} {shown}{more}"]


def _read_upload(contents: Any, filename: Any) -> tuple[pd.DataFrame, str]:
    text = validation.text(contents, "responses file", max_len=200_000_000)
    name = validation.text(filename, "file name", max_len=300, default="responses.csv")
    if not name.lower().endswith(".csv"):
        raise UploadRefused(f"{name}: upload a CSV file (customer_id, responded_at[, product])")
    _, _, payload = text.partition("base64,")
    try:
        raw = base64.b64decode(payload, validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError):
        raise UploadRefused(f"{name}: not a UTF-8 CSV file") from None
    try:
        frame = pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UploadRefused(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in UPLOAD_COLUMNS if c not in frame.columns]
    if missing:
        raise UploadRefused(
            f"{name}: missing column(s) {', '.join(missing)} (expected customer_id, responded_at[, product])"
        )
    if frame.empty:
        raise UploadRefused(f"{name}: the file has no rows")
    if len(frame) > MAX_UPLOAD_ROWS:
        raise UploadRefused(f"{name}: at most {MAX_UPLOAD_ROWS:,} rows per file, got {len(frame):,}")
    return frame, name


def _translate_ids(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Internal ids of the bank's customer ids (text as in the file) and a mask of those that are not ids of
    the bank; one bulk look-up for text ids."""
    values = text.str.strip()
    out = np.zeros(len(values), dtype=np.int64)
    if ids.is_text("customer"):
        known = to_internal("customer", sorted(set(values[values != ""])), _url())
        bad = ~values.isin(list(known)).to_numpy()
        out[~bad] = values[~bad].map(known).to_numpy(dtype=np.int64)
        return out, bad
    digits = values.str.fullmatch(r"[0-9]{1,15}").fillna(False).to_numpy(dtype=bool)
    out[digits] = values[digits].astype("int64").to_numpy()
    bad = ~digits | (out <= 0)
    if (~bad).any():
        present: set[int] = set()
        unique = np.unique(out[~bad])
        for start in range(0, len(unique), 20_000):
            chunk = [int(c) for c in unique[start : start + 20_000]]
            present.update(_rows(sa.select(_CUSTOMERS.c.customer_id).where(_CUSTOMERS.c.customer_id.in_(chunk)))
                           ["customer_id"].astype(int))  # fmt: skip
        bad |= ~np.isin(out, list(present))
    return out, bad


def parse_responses(contents: Any, filename: Any, stored: Campaign) -> pd.DataFrame:
    """A responses CSV (``dcc.Upload`` contents) checked row by row: customer_id (the bank's ids), responded_at
    (ISO 8601 date or date-time) and optionally product (the campaign's product, by id or name). Returns
    customer_id (internal), responded_at.

    Raises
    ------
    UploadRefused
        Naming the file, each problem and its rows (numbered from 1: data rows, the header not counted).
    """
    frame, name = _read_upload(contents, filename)
    numbers = np.arange(1, len(frame) + 1)
    customer_text = frame["customer_id"].astype(str)
    internal, unknown = _translate_ids(customer_text)
    empty = (customer_text.str.strip() == "").to_numpy()
    when = pd.to_datetime(frame["responded_at"].str.strip(), errors="coerce", format="ISO8601", utc=True)
    bad_date = when.isna().to_numpy()
    problems = [
        *_problems("customer_id", numbers[empty], "empty"),
        *_problems("customer_id", numbers[unknown & ~empty], "not a customer of the bank"),
        *_problems("responded_at", numbers[bad_date], "not an ISO date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"),
    ]
    if "product" in frame.columns:
        item = product_of(stored)
        given = frame["product"].str.strip()
        matches = given.isin(["", str(item.shown), str(item.product_id)]) | (
            given.str.lower() == item.name.lower()
        )
        problems += _problems(
            "product", numbers[~matches.to_numpy()], f"not this campaign's product ({item.name})"
        )
    if problems:
        raise UploadRefused(f"{name}: nothing recorded. " + "; ".join(problems))
    when = when.dt.tz_convert(None).dt.floor("s")
    # a date without a time on the campaign's first day counts from its creation (as `ledgerlight load responses`)
    date_only = frame["responded_at"].str.strip().str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)
    first_day = date_only.to_numpy(dtype=bool) & (when.dt.normalize() == pd.Timestamp(stored.created_at).normalize()
                                                  ).to_numpy(dtype=bool)  # fmt: skip
    when = when.mask(first_day, pd.Timestamp(stored.created_at))
    return pd.DataFrame({"customer_id": internal, "responded_at": when.to_numpy()})


def record_upload(value: Any, contents: Any, filename: Any) -> str:
    """Record an uploaded responses file for a campaign; returns what happened, in a line. Audited."""
    stored = get_campaign(value)
    responses = parse_responses(contents, filename, stored)
    done = record_responses(stored.campaign_id, responses, source="file")
    # a take-up is a purchase: stored as one (never twice), so the holdings, `ledgerlight learn --campaign` and the
    # next uplift model see what the customers did, as after `ledgerlight load responses`
    purchases = store_response_purchases(stored.campaign_id)
    audit.served(
        "campaign_responses",
        f"campaign {stored.campaign_id}",
        {
            "source": "file",
            "rows": len(responses),
            "recorded": done.recorded,
            "duplicates": done.duplicates,
            "not_members": done.not_members,
            "outside_window": done.outside_window,
            "purchases_stored": purchases,
        },
    )
    return f"{validation.text(filename, 'file name', max_len=300, default='file')}: {done.describe()}."


def record_holdings(value: Any) -> str:
    """Record the take-ups of the campaign's product found in the bank's holdings (purchases within the window)."""
    stored = get_campaign(value)
    responses = holdings_responses(stored.campaign_id)
    if responses.empty:
        return "No new holdings of the product among the campaign's customers within its window yet."
    done = record_responses(stored.campaign_id, responses, source="holdings")
    audit.served(
        "campaign_responses",
        f"campaign {stored.campaign_id}",
        {
            "source": "holdings",
            "rows": len(responses),
            "recorded": done.recorded,
            "duplicates": done.duplicates,
        },
    )
    return f"From holdings: {done.describe()}."
