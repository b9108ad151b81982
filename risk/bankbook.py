"""The demo bank (or any :class:`bankdata.Bank`) as a labelled loan book: loans joined to their customers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata import Bank, DataValidationError

TARGET = "defaulted"
POSITIVE = "1"
#: customer columns that describe the applicant at application time (age and gender stay for fairness checks)
CUSTOMER_COLUMNS = (
    "customer_id",
    "age",
    "gender",
    "region",
    "income",
    "employment",
    "tenure_months",
    "credit_score",
    "balance",
)


def loan_frame(bank: Bank) -> pd.DataFrame:
    """Every loan with its customer's attributes (one row per loan, ``defaulted`` kept)."""
    return join_customers(bank.loans, bank.customers)


def join_customers(loans: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """``loans`` (in their order) with their customer's attributes: :func:`loan_frame` of two tables."""
    missing = [c for c in CUSTOMER_COLUMNS if c not in customers.columns]
    if missing:
        raise DataValidationError(
            "customers", f"missing column(s) {', '.join(missing)} needed by the risk model"
        )
    if loans.empty:
        raise DataValidationError("loans", "no loans to train or score the risk model on")
    customers = customers.loc[:, list(CUSTOMER_COLUMNS)]
    frame = loans.merge(customers, on="customer_id", how="left", validate="many_to_one")
    orphans = frame["income"].isna() & frame["credit_score"].isna()
    if orphans.any():
        rows = [int(i) + 1 for i in np.flatnonzero(orphans.to_numpy())[:5]]
        raise DataValidationError(
            "loans", "loan of an unknown customer", column="customer_id", rows=rows, n_rows=int(orphans.sum())
        )
    return frame


def latest_loans(bank: Bank) -> pd.DataFrame:
    """Each customer's most recent loan with the customer's attributes (customers without a loan are left out)."""
    frame = loan_frame(bank).sort_values(["customer_id", "issued_at", "loan_id"])
    return frame.drop_duplicates("customer_id", keep="last").reset_index(drop=True)


def true_pd(bank: Bank, loan_ids: pd.Series) -> np.ndarray | None:
    """The demo bank's ground-truth probability of default of each loan, or None without ground truth."""
    if bank.truth is None or bank.truth.loan_pd is None or bank.truth.loan_pd.empty:
        return None
    truth = bank.truth.loan_pd.set_index("loan_id")["true_pd"]
    values = loan_ids.map(truth)
    return None if values.isna().any() else values.to_numpy(dtype=np.float64)
