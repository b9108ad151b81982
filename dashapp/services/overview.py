"""Portfolio aggregates for the Overview page, computed once per worker from the bank."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bankdata import Bank, get_settings
from dashapp.services.bank import get_bank

#: Credit-score bands (FICO-style cut points), lower bound inclusive.
SCORE_BANDS: tuple[tuple[int, str], ...] = ((300, "Poor <580"), (580, "Fair 580-669"), (670, "Good 670-739"),
                                            (740, "Very good 740-799"), (800, "Exceptional 800+"))
#: What the default-rate chart can be broken down by.
DEFAULT_BREAKDOWNS: dict[str, str] = {"purpose": "Loan purpose", "score_band": "Credit-score band"}
PRODUCT_FAMILIES: tuple[str, ...] = ("deposit", "card", "loan", "investment", "insurance")


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


def get_overview(url: str | None = None) -> Overview:
    """The Overview aggregates of the bank at ``url`` (default ``DATABASE_URL``), cached per worker.

    Raises
    ------
    DataUnavailable
        When the bank cannot be read (see ``get_bank``).
    """
    return _overview(url or get_settings().database_url)


@functools.cache
def _overview(url: str) -> Overview:
    return summarise(get_bank(url))


def summarise(bank: Bank, *, income_bins: int = 40) -> Overview:
    """Compute the Overview aggregates of a bank (pure; no caching)."""
    return Overview(
        kpis=kpis(bank),
        monthly=monthly_volume(bank.transactions),
        income=income_histogram(bank.customers["income"], bins=income_bins),
        defaults={key: default_rates(bank, key) for key in DEFAULT_BREAKDOWNS},
        uptake=product_uptake(bank),
        regions=customers_by_region(bank.customers),
    )


def kpis(bank: Bank) -> Kpis:
    """Headline numbers: customers, balances, loans and their default rate, products held, last month's activity."""
    tx = bank.transactions
    month = tx["ts"].dt.to_period("M")
    last = month.max()
    in_last = month == last
    held = bank.held_products()
    return Kpis(
        customers=len(bank.customers),
        total_balance=float(bank.customers["balance"].sum()),
        loans=len(bank.loans),
        default_rate=float(bank.loans["defaulted"].mean()) if len(bank.loans) else float("nan"),
        avg_products=len(held) / len(bank.customers) if len(bank.customers) else float("nan"),
        last_month=last.to_timestamp() if len(tx) else pd.NaT,
        transactions_last_month=int(in_last.sum()),
        volume_last_month=float(tx.loc[in_last, "amount"].sum()),
    )


def monthly_volume(transactions: pd.DataFrame) -> pd.DataFrame:
    """Transaction amount and count per calendar month and direction (debit / credit)."""
    month = transactions["ts"].dt.to_period("M").dt.to_timestamp().rename("month")
    out = (transactions.groupby([month, transactions["direction"]], observed=True)["amount"]
           .agg(amount="sum", transactions="size").reset_index())
    out["direction"] = out["direction"].astype(str)
    return out.sort_values(["month", "direction"], ignore_index=True)


def income_histogram(income: pd.Series, *, bins: int = 40) -> pd.DataFrame:
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
    return pd.Series(pd.Categorical.from_codes(np.clip(codes, 0, len(labels) - 1), categories=labels, ordered=True),
                     index=credit_score.index)


def default_rates(bank: Bank, by: str) -> pd.DataFrame:
    """Loans, defaults and the default rate per group: ``by`` is ``"purpose"`` or ``"score_band"``."""
    if by not in DEFAULT_BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {', '.join(DEFAULT_BREAKDOWNS)}")
    loans = bank.loans
    if by == "purpose":
        group = loans["purpose"].astype(str)
    else:
        scores = loans[["customer_id"]].merge(bank.customers[["customer_id", "credit_score"]], on="customer_id", how="left")
        group = score_band(scores["credit_score"]).set_axis(loans.index)
    out = (loans["defaulted"].groupby(group.rename("group"), observed=True)
           .agg(loans="size", defaults="sum").reset_index())
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
    out = (customers.groupby(customers["region"].astype(str).rename("region"))["balance"]
           .agg(customers="size", balance="sum").reset_index())
    return out.sort_values("customers", ascending=False, ignore_index=True)


def default_rates_for(by: str, url: str | None = None) -> pd.DataFrame:
    """The cached default-rate table for one breakdown (``"purpose"`` or ``"score_band"``)."""
    if by not in DEFAULT_BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {', '.join(DEFAULT_BREAKDOWNS)}")
    return get_overview(url).defaults[by]
