"""A campaign's responses from a file (``ledgerlight load responses FILE --campaign ID``), and the take-ups they
record stored as ``purchase`` interactions, so the recommenders and the holdings see what customers did.

A responses file has ``customer_id`` (the bank's ids: whole numbers or text), ``responded_at`` (when the product was
taken up; ISO 8601, or ``date_format``) and optionally ``product`` (its name or id; every row must name the
campaign's product). A customer the bank does not hold refuses the whole file, naming the rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata._campaign_store import Campaign, campaign_responses_table, read_campaign
from bankdata._db import BANK_TABLES, ROW_NO, _connect, _insert_frame, metadata
from bankdata._external_ids import read_id_kinds, to_external, to_internal
from bankdata._loaders import DEFAULT_MAX_BYTES, read_tabular
from bankdata._schema import SCHEMAS, Column, TableSchema
from bankdata._serving import query
from bankdata._validation import DataValidationError, apply_column_map, bad_rows, validate_frame

RESPONSES_SCHEMA = TableSchema(
    "responses", (Column("customer_id", "id", min_value=0), Column("responded_at", "datetime"),
                  Column("product", "str", nullable=True)),
)  # fmt: skip
"""The columns of a responses file (``product`` is optional)."""
_IN_CHUNK = 5_000


def _known_customers(ids: np.ndarray, url: str | None) -> set[int]:
    t = BANK_TABLES["customers"]
    found: set[int] = set()
    unique = np.unique(ids).tolist()
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = [int(i) for i in unique[start : start + _IN_CHUNK]]
        found.update(int(v) for v in query(sa.select(t.c.customer_id).where(t.c.customer_id.in_(chunk)), url)
                     ["customer_id"])  # fmt: skip
    return found


def internal_customer_ids(values: pd.Series, file: str, url: str | None = None) -> np.ndarray:
    """The internal ids of a file's customers (text ids translated; whole numbers of a text-id bank read as its
    text ids).

    Raises
    ------
    DataValidationError
        Some customers are not in the bank (the rows are named; nothing is stored).
    """
    text_bank = read_id_kinds(url).get("customer") == "text"
    if text_bank or not pd.api.types.is_integer_dtype(values.dtype):
        keys = values.astype("str").str.strip()
        found = to_internal("customer", keys.unique().tolist(), url)
        mapped = keys.map(found)
        if not text_bank:  # a whole-number bank: digits written as text are its ids
            digits = keys.str.fullmatch(r"\d{1,15}").fillna(False)
            numbers = pd.to_numeric(keys.where(digits), errors="coerce")
            known = _known_customers(numbers.dropna().to_numpy(dtype=np.int64), url)
            mapped = mapped.where(mapped.notna(), numbers.where(numbers.isin(known)))
        unknown = mapped.isna().to_numpy()
        out = mapped.fillna(-1).to_numpy(dtype=np.int64)
    else:
        out = values.to_numpy(dtype=np.int64)
        unknown = ~np.isin(out, list(_known_customers(out, url)))
    if unknown.any():
        rows, n = bad_rows(unknown)
        examples = ", ".join(map(str, pd.unique(values[unknown].astype("str"))[:3]))
        raise DataValidationError(file, f"customers the bank does not hold (e.g. {examples}); nothing stored",
                                  column="customer_id", rows=rows, n_rows=n)  # fmt: skip
    return out


def _product_labels(campaign: Campaign, url: str | None) -> set[str]:
    """How a file may name the campaign's product: its name, its id, its external id (case-insensitive)."""
    p = BANK_TABLES["products"]
    names = query(sa.select(p.c.name).where(p.c.product_id == campaign.product_id), url)["name"].astype(str)
    labels = {n.strip().casefold() for n in names} | {str(campaign.product_id)}
    labels |= {v.casefold() for v in to_external("product", [campaign.product_id], url).values()}
    return labels


def read_responses(
    path: str | Path, campaign_id: int, *, column_map: dict[str, str] | None = None, date_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES, url: str | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Read and validate a responses file for campaign ``campaign_id``.

    Returns
    -------
    DataFrame
        ``customer_id`` (internal ids) and ``responded_at``, one row per row of the file, for
        :func:`bankdata.record_responses`. A date without a time on the campaign's first day counts from the moment
        the campaign was created (so it is inside the window).

    Raises
    ------
    ValueError
        No such campaign.
    DataValidationError
        Missing columns, unreadable dates, customers the bank does not hold, or rows naming another product
        (every problem names the file, the column and the rows; nothing is stored).
    """
    campaign = read_campaign(campaign_id, url)
    if campaign is None:
        raise ValueError(f"no campaign {campaign_id}: `ledgerlight campaigns list` shows the stored ones")
    path = Path(path)
    raw = apply_column_map(read_tabular(path, max_bytes=max_bytes), column_map, path.name, RESPONSES_SCHEMA)
    columns = [c for c in RESPONSES_SCHEMA.columns if c.name != "product" or c.name in raw.columns]
    frame = validate_frame(raw, TableSchema("responses", tuple(columns)), path.name, date_format=date_format,
                           text_ids=True)  # fmt: skip
    if "product" in frame.columns:
        named = frame["product"].astype("str").str.strip().str.casefold()
        other = frame["product"].notna().to_numpy() & ~named.isin(_product_labels(campaign, url)).to_numpy()
        if other.any():
            rows, n = bad_rows(other)
            examples = ", ".join(map(repr, pd.unique(frame.loc[other, "product"].astype("str"))[:3]))
            raise DataValidationError(path.name, f"another product than the campaign's ({examples}; campaign "
                                                 f"{campaign.campaign_id} offers product {campaign.product_id}); "
                                                 "nothing stored", column="product", rows=rows, n_rows=n)  # fmt: skip
    ids = internal_customer_ids(frame["customer_id"], path.name, url)
    when = pd.to_datetime(frame["responded_at"])
    start = pd.Timestamp(campaign.created_at)
    first_day = (when == when.dt.normalize()) & (when.dt.normalize() == start.normalize())
    when = when.where(~first_day, start)
    return pd.DataFrame({"customer_id": ids, "responded_at": when.to_numpy()})


def store_response_purchases(campaign_id: int, url: str | None = None) -> int:
    """Store every recorded response of the campaign as a ``purchase`` interaction of its product (at the response's
    time) unless that interaction is already stored; returns how many were added (0 when run again)."""
    campaign = read_campaign(campaign_id, url)
    if campaign is None:
        raise ValueError(f"no campaign {campaign_id}")
    it, r = BANK_TABLES["interactions"], campaign_responses_table
    stored = (sa.select(it.c.customer_id)
              .where(it.c.customer_id == r.c.customer_id, it.c.product_id == campaign.product_id,
                     it.c.event == "purchase", it.c.ts == r.c.responded_at)
              .exists())  # fmt: skip
    with _connect(url, write=True) as conn:
        metadata.create_all(conn, tables=[it, r])
        rows = conn.execute(sa.select(r.c.customer_id, r.c.responded_at)
                            .where(r.c.campaign_id == campaign.campaign_id, ~stored)
                            .order_by(r.c.responded_at, r.c.customer_id)).all()  # fmt: skip
        if not rows:
            return 0
        frame = pd.DataFrame({
            "customer_id": np.array([row[0] for row in rows], dtype=np.int64),
            "product_id": np.int64(campaign.product_id),
            "ts": pd.to_datetime([row[1] for row in rows]),
            "event": "purchase",
        })  # fmt: skip
        last = conn.execute(sa.select(sa.func.max(it.c[ROW_NO]))).scalar()
        return _insert_frame(
            conn, it, frame, SCHEMAS["interactions"], first_row=0 if last is None else last + 1
        )
