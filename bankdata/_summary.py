"""The bank's summary: the portfolio aggregates the Overview shows, computed when the bank is written or loaded and
kept in one row of ``bank_summary``, so no worker aggregates 31.5M transactions on a request.

``summarise_bank`` is pure pandas over a :class:`Bank` (vectorised); ``write_bank`` stores its result in the same
transaction, and ``refresh_summary`` recomputes it after ``append_load`` (offline: it reads the bank).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._bank import Bank
from bankdata._serving import served_metadata

SUMMARY_NAME = "overview"
#: Credit-score bands (FICO-style cut points), lower bound inclusive.
SCORE_BANDS: tuple[tuple[int, str], ...] = (
    (300, "Poor <580"),
    (580, "Fair 580-669"),
    (670, "Good 670-739"),
    (740, "Very good 740-799"),
    (800, "Exceptional 800+"),
)
BREAKDOWNS: tuple[str, ...] = ("purpose", "score_band")
PRODUCT_FAMILIES: tuple[str, ...] = ("deposit", "card", "loan", "investment", "insurance")
INCOME_BINS = 40

summary_table = sa.Table(
    "bank_summary",
    served_metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("refreshed_at", sa.DateTime, nullable=False),
)


def monthly_volume(transactions: pd.DataFrame) -> pd.DataFrame:
    """Transaction amount and count per calendar month and direction (debit / credit)."""
    month = transactions["ts"].dt.to_period("M").dt.to_timestamp().rename("month")
    out = (
        transactions.groupby([month, transactions["direction"]], observed=True)["amount"]
        .agg(amount="sum", transactions="size")
        .reset_index()
    )
    out["direction"] = out["direction"].astype(str)
    return out.sort_values(["month", "direction"], ignore_index=True)


def income_histogram(income: pd.Series, *, bins: int = INCOME_BINS) -> pd.DataFrame:
    """Histogram of annual income; the top 0.5% is folded into the last bin so the tail does not flatten the chart."""
    values = income.dropna().to_numpy(dtype=float)
    if values.size == 0:
        return pd.DataFrame({"left": [], "right": [], "customers": []})
    top = float(np.quantile(values, 0.995))
    counts, edges = np.histogram(np.clip(values, None, top), bins=bins, range=(float(values.min()), top))
    return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "customers": counts})


def score_band(credit_score: pd.Series) -> pd.Series:
    """The credit-score band of each score, as an ordered categorical."""
    lows = [low for low, _ in SCORE_BANDS]
    labels = [label for _, label in SCORE_BANDS]
    codes = np.searchsorted(lows, credit_score.to_numpy(dtype=float), side="right") - 1
    return pd.Series(
        pd.Categorical.from_codes(np.clip(codes, 0, len(labels) - 1), categories=labels, ordered=True),
        index=credit_score.index,
    )


def default_rates(bank: Bank, by: str) -> pd.DataFrame:
    """Loans, defaults and the default rate per group: ``by`` is ``"purpose"`` or ``"score_band"``."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {', '.join(BREAKDOWNS)}")
    loans = bank.loans
    if by == "purpose":
        group = loans["purpose"].astype(str)
    else:
        scores = loans[["customer_id"]].merge(
            bank.customers[["customer_id", "credit_score"]], on="customer_id", how="left"
        )
        group = score_band(scores["credit_score"]).set_axis(loans.index)
    out = (
        loans["defaulted"]
        .groupby(group.rename("group"), observed=True)
        .agg(loans="size", defaults="sum")
        .reset_index()
    )
    out["group"] = out["group"].astype(str)
    out["default_rate"] = out["defaults"] / out["loans"]
    if by == "purpose":
        out = out.sort_values("default_rate", ascending=False, ignore_index=True)
    return out


def product_uptake(bank: Bank) -> pd.DataFrame:
    """Customers holding at least one product of each family, and their share of all customers."""
    held = bank.held_products().merge(bank.products[["product_id", "family"]], on="product_id", how="left")
    counts = held.groupby("family")["customer_id"].nunique()
    families = list(PRODUCT_FAMILIES) + sorted(set(counts.index.astype(str)) - set(PRODUCT_FAMILIES))
    out = pd.DataFrame({"family": families, "customers": [int(counts.get(f, 0)) for f in families]})
    out["share"] = out["customers"] / max(len(bank.customers), 1)
    return out


def customers_by_region(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers and total balance per region, largest first."""
    out = (
        customers.groupby(customers["region"].astype(str).rename("region"))["balance"]
        .agg(customers="size", balance="sum")
        .reset_index()
    )
    return out.sort_values("customers", ascending=False, ignore_index=True)


def kpis(bank: Bank) -> dict[str, Any]:
    """Headline numbers: customers, balances, loans and their default rate, products held, last month's activity."""
    tx = bank.transactions
    month = tx["ts"].dt.to_period("M")
    last = month.max() if len(tx) else None
    in_last = (month == last) if last is not None else np.zeros(len(tx), dtype=bool)
    n = len(bank.customers)
    return {
        "customers": n,
        "total_balance": float(bank.customers["balance"].sum()),
        "loans": len(bank.loans),
        "default_rate": float(bank.loans["defaulted"].mean()) if len(bank.loans) else None,
        "avg_products": len(bank.held_products()) / n if n else None,
        "last_month": last.to_timestamp().isoformat() if last is not None else None,
        "transactions_last_month": int(np.sum(in_last)),
        "volume_last_month": float(tx.loc[in_last, "amount"].sum()) if len(tx) else 0.0,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return json.loads(out.to_json(orient="records"))


def summarise_bank(bank: Bank) -> dict[str, Any]:
    """The Overview's aggregates of a bank as a JSON-ready document (a few dozen rows per part)."""
    return {
        "kpis": kpis(bank),
        "monthly": _records(monthly_volume(bank.transactions)),
        "income": _records(income_histogram(bank.customers["income"])),
        "defaults": {by: _records(default_rates(bank, by)) for by in BREAKDOWNS},
        "uptake": _records(product_uptake(bank)),
        "regions": _records(customers_by_region(bank.customers)),
    }


def store_summary(conn: Connection, document: dict[str, Any]) -> None:
    """Replace the stored summary inside the caller's write transaction."""
    summary_table.create(conn, checkfirst=True)
    conn.execute(sa.delete(summary_table).where(summary_table.c.name == SUMMARY_NAME))
    conn.execute(
        sa.insert(summary_table).values(
            name=SUMMARY_NAME,
            payload=json.dumps(document),
            refreshed_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )


def refresh_summary(url: str | None = None) -> dict[str, Any]:
    """Recompute the summary from the bank in the database (after ``append_load``) and store it; returns it."""
    from bankdata._db import _connect, read_bank

    document = summarise_bank(read_bank(url))
    with _connect(url, write=True) as conn:
        store_summary(conn, document)
    return document


def read_summary(url: str | None = None) -> dict[str, Any] | None:
    """The stored summary document, or None when the database has none (a bank written before summaries)."""
    from bankdata._db import _connect

    with _connect(url, write=False) as conn:
        if not sa.inspect(conn).has_table(summary_table.name):
            return None
        text = conn.execute(
            sa.select(summary_table.c.payload).where(summary_table.c.name == SUMMARY_NAME)
        ).scalar()
    return None if text is None else json.loads(text)


def summary_refreshed_at(url: str | None = None) -> datetime | None:
    """When the stored summary was last written, or None when there is none (a cheap key for caches of what the
    summary shows)."""
    from bankdata._db import _connect

    with _connect(url, write=False) as conn:
        try:
            return conn.execute(
                sa.select(summary_table.c.refreshed_at).where(summary_table.c.name == SUMMARY_NAME)
            ).scalar()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # no summary table yet
            return None
