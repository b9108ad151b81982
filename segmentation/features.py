"""Behavioural features per customer from a transaction log and (optionally) a profile table.

This module is the one place where every segmentation feature is defined: see ``FEATURES`` (fixed columns) and
``FEATURE_PATTERNS`` (one column per category, channel or product family). ``LOG_FEATURES`` names the skewed
columns that the model compresses with a signed ``log1p`` before robust scaling.

The category and channel mixes count spending transactions rather than summing amounts: amounts are long-tailed
(one large transfer or trip outweighs a year of groceries), so count shares describe a habit with far less noise,
while ``monetary`` and ``avg_ticket`` keep the amounts. Credits (salary, incoming transfers) are left out of the
channel mix: how a salary arrives is the payer's choice, not the customer's.

The transaction log needs ``customer_id``, ``ts`` and ``amount`` (> 0); ``category``, ``channel`` and
``direction`` (debit/credit) are used when present. Without ``direction`` every row counts as spending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata import Bank, DataValidationError

FEATURES: dict[str, str] = {
    "recency_days": "days from the customer's last spending transaction to the reference date (window length if none)",
    "frequency": "number of spending (debit) transactions in the window",
    "monetary": "total spending (debit amount) in the window",
    "avg_ticket": "monetary / frequency (0 without spending)",
    "tenure_months": "months as a customer: the profile's tenure_months, else months since the first transaction",
    "age": "age in years (profile)",
    "income": "annual income (profile)",
    "balance": "current balance (profile)",
    "balance_trend": "least-squares slope per month of the running net flow (credits - debits) over the window",
    "n_products": "number of distinct products held (purchased)",
}
FEATURE_PATTERNS: dict[str, str] = {
    "spend_<category>": "share of the customer's spending transactions in that category (0-1; 0 without spending)",
    "channel_<channel>": "share of the customer's spending transactions made through that channel (0-1)",
    "holds_<family>": "1 when the customer holds a product of that family (deposit, card, loan, ...), else 0",
}
LOG_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_ticket",
    "income",
    "balance",
    "balance_trend",
)
PROFILE_NUMERIC: tuple[str, ...] = ("age", "income", "tenure_months", "balance")
REQUIRED_TRANSACTION_COLUMNS: tuple[str, ...] = ("customer_id", "ts", "amount")
_DAY = np.timedelta64(1, "D")
_MONTH_DAYS = 30.4375


def _fail(name: str, problem: str, mask: np.ndarray, column: str | None = None) -> None:
    """Raise a ``DataValidationError`` naming the table, the column and the rows (from 1) where ``mask`` holds."""
    rows = np.flatnonzero(mask)
    if len(rows):
        raise DataValidationError(
            name, problem, column=column, rows=[int(r) + 1 for r in rows[:5]], n_rows=len(rows)
        )


def validate_transactions(transactions: pd.DataFrame, *, name: str = "transactions") -> pd.DataFrame:
    """Check a transaction log and return it with ``ts`` as datetime64 and ``amount`` as float.

    Raises
    ------
    DataValidationError
        A ``ValueError`` naming the table (``name``), the column and the offending rows: missing columns, missing or
        unparseable dates, missing or negative amounts, missing customer ids, an empty log.
    """
    missing = [c for c in REQUIRED_TRANSACTION_COLUMNS if c not in transactions.columns]
    if missing:
        found = ", ".join(map(str, transactions.columns))
        raise DataValidationError(name, f"missing column(s) {', '.join(missing)} (found: {found})")
    if transactions.empty:
        raise DataValidationError(name, "no transactions; segmentation needs at least one row")
    _fail(name, "empty customer ids", transactions["customer_id"].isna().to_numpy(), "customer_id")
    ts = transactions["ts"]
    ready = ts.dtype == "datetime64[ns]" and transactions["amount"].dtype == np.float64
    if not pd.api.types.is_datetime64_any_dtype(ts):
        ts = pd.to_datetime(ts, errors="coerce", format="mixed")
    bad_ts = ts.isna().to_numpy()
    if bad_ts.all():
        raise DataValidationError(
            name, f"no valid dates (all {len(ts)} rows empty or unparsable)", column="ts"
        )
    _fail(name, "empty or unparsable dates", bad_ts, "ts")
    amount = pd.to_numeric(transactions["amount"], errors="coerce")
    _fail(name, "empty or non-numeric amounts", amount.isna().to_numpy(), "amount")
    _fail(
        name,
        "negative amounts (amount must be >= 0; credits go in the direction column)",
        (amount < 0).to_numpy(),
        "amount",
    )
    if ready:
        return transactions
    return transactions.assign(ts=ts.astype("datetime64[ns]"), amount=amount.astype(np.float64))


def _customer_index(
    transactions: pd.DataFrame, customers: pd.DataFrame | None, profile_name: str
) -> pd.Index:
    """The customers to describe: the profile's ids, else every id in the log."""
    if customers is None:
        return pd.Index(pd.unique(transactions["customer_id"].to_numpy()), name="customer_id").sort_values()
    if "customer_id" not in customers.columns:
        found = ", ".join(map(str, customers.columns))
        raise DataValidationError(profile_name, f"missing column customer_id (found: {found})")
    ids = pd.Index(customers["customer_id"].to_numpy(), name="customer_id")
    _fail(profile_name, "duplicate customer ids", ids.duplicated(), "customer_id")
    return ids


def _codes(ids: pd.Index, values: np.ndarray, name: str) -> np.ndarray:
    """Position of each row's customer in ``ids``; ids unknown to the profile are an error."""
    consecutive = (
        ids.dtype.kind in "iu"
        and values.dtype.kind in "iu"
        and len(ids) > 0
        and ids.is_monotonic_increasing
        and int(ids[-1]) - int(ids[0]) == len(ids) - 1
    )
    if consecutive:
        codes = values.astype(np.int64) - int(ids[0])  # consecutive ids (the demo bank): no hashing needed
        codes[(codes < 0) | (codes >= len(ids))] = -1
    else:
        codes = ids.get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        examples = ", ".join(map(str, pd.unique(values[unknown])[:3]))
        _fail(name, f"customer ids not in the profile (e.g. {examples})", unknown, "customer_id")
    return codes


def _shares(
    codes: np.ndarray, labels: pd.Series, weights: np.ndarray | None, n: int, prefix: str
) -> pd.DataFrame:
    """Per-customer share of ``weights`` (or of row counts) over the levels of ``labels``."""
    level_codes, levels = pd.factorize(labels, sort=True, use_na_sentinel=False)
    k = len(levels)
    flat = (
        np.bincount(codes * k + level_codes, weights=weights, minlength=n * k)
        .reshape(n, k)
        .astype(np.float64)
    )
    total = flat.sum(axis=1, keepdims=True)
    shares = np.divide(flat, total, out=np.zeros_like(flat), where=total > 0)
    return pd.DataFrame(shares, columns=[f"{prefix}{_slug(v)}" for v in levels])


def _slug(value: object) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(value).strip().lower()) or "unknown"


def _balance_trend(codes: np.ndarray, ts: np.ndarray, signed: np.ndarray, n: int) -> np.ndarray:
    """Slope per month of each customer's running net flow over the calendar months of the window."""
    month = ts.astype("datetime64[M]").astype(np.int64)
    month -= month.min()
    m = int(month.max()) + 1
    if m < 2:
        return np.zeros(n)
    flows = np.bincount(codes * m + month, weights=signed, minlength=n * m).reshape(n, m)
    running = np.cumsum(flows, axis=1)
    t = np.arange(m, dtype=np.float64) - (m - 1) / 2.0
    return (running @ t) / float(t @ t)


def customer_features(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    holdings: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | None = None,
    name: str = "transactions",
    profile_name: str = "customers",
) -> pd.DataFrame:
    """Compute the segmentation features, one row per customer (index ``customer_id``).

    Parameters
    ----------
    transactions : DataFrame
        customer_id, ts, amount (>= 0) and optionally category, channel, direction (debit/credit).
    customers : DataFrame, optional
        The profile: customer_id plus any of age, income, tenure_months, balance. Defines the customers
        described (customers without transactions get zero spending); log rows with other ids are an error.
    holdings : DataFrame, optional
        customer_id, family: products held, one row per (customer, product); gives ``n_products`` and
        ``holds_<family>``.
    as_of : Timestamp, optional
        Reference date for recency; default the day after the last transaction.
    name, profile_name : str
        Names of the log and the profile in error messages (e.g. the file names).

    Returns
    -------
    DataFrame
        Float columns described in ``FEATURES`` and ``FEATURE_PATTERNS``, indexed by customer_id.
    """
    tx = validate_transactions(transactions, name=name)
    ids = _customer_index(tx, customers, profile_name)
    n = len(ids)
    codes = _codes(ids, tx["customer_id"].to_numpy(), name)
    ts = tx["ts"].to_numpy().astype("datetime64[ns]")
    amount = tx["amount"].to_numpy(dtype=np.float64)
    if "direction" in tx.columns:
        dir_codes, levels = pd.factorize(tx["direction"], use_na_sentinel=True)
        lowered = np.array(
            [str(v).strip().lower() for v in levels] + [""]
        )  # the last entry stands for missing
        known = np.isin(lowered, ["debit", "credit"])
        _fail(name, "values other than debit, credit", ~known[dir_codes], "direction")
        debit = (lowered == "debit")[dir_codes]
    else:
        debit = np.ones(len(tx), dtype=bool)
    start = ts.min()
    ref = (
        np.datetime64(as_of, "ns")
        if as_of is not None
        else (ts.max() + _DAY).astype("datetime64[D]").astype("datetime64[ns]")
    )
    window_days = float((ref - start) / _DAY)

    frequency = np.bincount(codes[debit], minlength=n).astype(np.float64)
    monetary = np.bincount(codes[debit], weights=amount[debit], minlength=n)
    ts_int = ts.astype(np.int64)
    last = pd.Series(ts_int[debit]).groupby(codes[debit]).max()
    recency = np.full(n, window_days)
    recency[last.index.to_numpy()] = (ref.astype(np.int64) - last.to_numpy()) / _DAY.astype(
        "timedelta64[ns]"
    ).astype(np.int64)
    out = pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": frequency,
            "monetary": monetary,
            "avg_ticket": np.divide(monetary, frequency, out=np.zeros(n), where=frequency > 0),
        },
        index=ids,
    )
    profile = customers if customers is not None else pd.DataFrame()
    profile_cols = [c for c in PROFILE_NUMERIC if c in profile.columns]
    for col in profile_cols:
        raw = profile[col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        _fail(profile_name, "non-numeric values", np.isnan(values) & raw.notna().to_numpy(), col)
        _fail(profile_name, "infinite values", np.isinf(values), col)
        out[col] = values  # empty cells stay missing: the segment model imputes them and records how many
    if "tenure_months" not in profile_cols:
        first = pd.Series(ts_int).groupby(codes).min()
        tenure = np.zeros(n)
        tenure[first.index.to_numpy()] = (ref.astype(np.int64) - first.to_numpy()) / (
            _DAY.astype("timedelta64[ns]").astype(np.int64) * _MONTH_DAYS
        )
        out["tenure_months"] = tenure
    if "direction" in tx.columns:
        out["balance_trend"] = _balance_trend(codes, ts, np.where(debit, -amount, amount), n)
    parts = [out]
    if "category" in tx.columns:
        parts.append(_shares(codes[debit], tx["category"][debit], None, n, "spend_"))
    if "channel" in tx.columns:
        # every channel of the log gets a column (a stable set of features); credits weigh 0
        parts.append(_shares(codes, tx["channel"], debit.astype(np.float64), n, "channel_"))
    if holdings is not None:
        parts.append(_holdings(ids, holdings))
    for part in parts[1:]:
        part.index = ids
    return pd.concat(parts, axis=1).astype(np.float64)


def _holdings(ids: pd.Index, holdings: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "family") if c not in holdings.columns]
    if missing:
        raise DataValidationError("holdings", f"missing column(s) {', '.join(missing)}")
    codes = _codes(ids, holdings["customer_id"].to_numpy(), "holdings")
    n = len(ids)
    flags = _shares(codes, holdings["family"], None, n, "holds_")
    flags = (flags > 0).astype(np.float64)
    flags.insert(0, "n_products", np.bincount(codes, minlength=n).astype(np.float64))
    return flags


def bank_features(bank: Bank, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Features of every customer of a ``bankdata.Bank`` (transactions, profile and held products)."""
    held = bank.held_products().merge(bank.products[["product_id", "family"]], on="product_id", how="left")
    return customer_features(bank.transactions, bank.customers, held, as_of=as_of)
