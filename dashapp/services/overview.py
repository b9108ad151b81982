"""Portfolio aggregates for the Overview page, read from the bank's stored summary (``bankdata.read_summary``).

The summary is computed when the bank is written or loaded, so a request reads one row, never the bank's tables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bankdata import (
    SCORE_BANDS,
    Bank,
    DatabaseError,
    get_settings,
    read_summary,
    summarise_bank,
    summary_refreshed_at,
)
from dashapp.services.bank import DataUnavailable, check_database, safe_url

#: What the default-rate chart can be broken down by.
DEFAULT_BREAKDOWNS: dict[str, str] = {"purpose": "Loan purpose", "score_band": "Credit-score band"}
__all__ = [
    "DEFAULT_BREAKDOWNS",
    "SCORE_BANDS",
    "Kpis",
    "Overview",
    "default_rates_for",
    "get_overview",
    "summarise",
]


@dataclass(frozen=True)
class Kpis:
    """The headline numbers of the portfolio."""

    customers: int
    total_balance: float
    loans: int
    default_rate: float
    avg_products: float
    last_month: pd.Timestamp
    transactions_last_month: int
    volume_last_month: float


@dataclass(frozen=True)
class Overview:
    """Everything the Overview page shows, as small DataFrames (a few dozen rows each)."""

    kpis: Kpis
    monthly: pd.DataFrame  # month, direction, amount, transactions
    income: pd.DataFrame  # left, right, customers (histogram bins)
    defaults: dict[str, pd.DataFrame]  # breakdown -> group, loans, defaults, default_rate
    uptake: pd.DataFrame  # family, customers, share
    regions: pd.DataFrame  # region, customers, balance


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def from_document(doc: dict[str, Any]) -> Overview:
    """The Overview of a stored summary document (``bankdata.summarise_bank``)."""
    k = doc["kpis"]
    monthly = pd.DataFrame(doc["monthly"], columns=["month", "direction", "amount", "transactions"])
    monthly["month"] = pd.to_datetime(monthly["month"])
    return Overview(
        kpis=Kpis(
            customers=int(k["customers"]),
            total_balance=float(k["total_balance"]),
            loans=int(k["loans"]),
            default_rate=_nan(k["default_rate"]),
            avg_products=_nan(k["avg_products"]),
            last_month=pd.Timestamp(k["last_month"]) if k["last_month"] else pd.NaT,
            transactions_last_month=int(k["transactions_last_month"]),
            volume_last_month=float(k["volume_last_month"]),
        ),
        monthly=monthly,
        income=pd.DataFrame(doc["income"], columns=["left", "right", "customers"]),
        defaults={
            by: pd.DataFrame(rows, columns=["group", "loans", "defaults", "default_rate"])
            for by, rows in doc["defaults"].items()
        },
        uptake=pd.DataFrame(doc["uptake"], columns=["family", "customers", "share"]),
        regions=pd.DataFrame(doc["regions"], columns=["region", "customers", "balance"]),
    )


def summarise(bank: Bank) -> Overview:
    """The Overview aggregates of an in-memory bank (pure; what ``write_bank`` stores)."""
    return from_document(summarise_bank(bank))


def get_overview(url: str | None = None) -> Overview:
    """The Overview of the bank at ``url`` (default ``DATABASE_URL``): one stored row.

    Raises
    ------
    DataUnavailable
        The database is missing or unreachable, holds no bank, or has no summary yet (``ledgerlight setup``
        writes it for a bank stored before summaries existed).
    """
    url = check_database(url or get_settings().database_url)
    try:
        refreshed = summary_refreshed_at(url)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    return _overview(url, refreshed)


@functools.lru_cache(maxsize=4)
def _overview(url: str, refreshed: object) -> Overview:
    """The stored summary of ``url`` as refreshed at ``refreshed`` (parsed once per worker and refresh)."""
    try:
        doc = read_summary(url)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if doc is None:
        raise DataUnavailable(
            f"the database {safe_url(url)} has no bank summary yet: run `ledgerlight setup` "
            "(or `ledgerlight demo generate` / `ledgerlight load`)"
        )
    if not doc["kpis"]["customers"]:
        raise DataUnavailable(f"the database {safe_url(url)} has no customers")
    return from_document(doc)


def summary_stamp(url: str | None = None) -> tuple[str, str, str | None]:
    """The database, the checkpoints folder and the summary's refresh time: what cached pages are keyed by."""
    settings = get_settings()
    url = url or settings.database_url
    try:
        refreshed = summary_refreshed_at(check_database(url))
    except (DataUnavailable, DatabaseError):
        refreshed = None
    return url, str(settings.checkpoints_dir), None if refreshed is None else refreshed.isoformat()


def default_rates_for(by: str, url: str | None = None) -> pd.DataFrame:
    """The default-rate table for one breakdown (``"purpose"`` or ``"score_band"``)."""
    if by not in DEFAULT_BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {', '.join(DEFAULT_BREAKDOWNS)}")
    return get_overview(url).defaults[by]
