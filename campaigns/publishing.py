"""Publishing a trained uplift model: every customer of the bank ranked by predicted uplift, per product, in
:data:`UPLIFT_TABLE` (keyed by the ``uplift`` artifact's version), so a page or ``campaigns create --model uplift``
reads a ranked list with one index range and never scores the bank on request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import served_table, write_served

UPLIFT_MODEL = "uplift"
"""The uplift model's name in the artifact store."""

UPLIFT_TABLE = served_table(
    "uplift_candidates",
    sa.Column("product_id", sa.BigInteger, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("uplift", sa.Float, nullable=False),
    indexes=[("product_id", "rank")],
)
"""Per uplift version and product: every customer of the bank, ``rank`` 1 = the highest predicted uplift (ties by
customer id)."""


def uplift_rows(product_id: int, customer_ids: np.ndarray, uplift: np.ndarray) -> pd.DataFrame:
    """The :data:`UPLIFT_TABLE` rows of one product: customers by predicted uplift, best first (ties by id)."""
    ids = np.asarray(customer_ids, dtype=np.int64)
    values = np.asarray(uplift, dtype=float)
    if ids.shape != values.shape:
        raise ValueError(f"{len(ids)} customers but {len(values)} uplift predictions")
    order = np.lexsort((ids, -values))
    return pd.DataFrame({"product_id": np.int64(product_id), "rank": np.arange(1, len(ids) + 1, dtype=np.int64),
                         "customer_id": ids[order], "uplift": values[order]})  # fmt: skip


def publish_uplift(version: str, rows: pd.DataFrame, url: str | None = None) -> int:
    """Write the rows (:func:`uplift_rows` of every product, concatenated) as ``version``; returns rows written."""
    return write_served(UPLIFT_TABLE, version, rows, url)
