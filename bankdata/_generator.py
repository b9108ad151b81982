"""The seeded demo bank: ``generate_bank`` assembles customers, transactions, loans, products and interactions.

Everything is vectorised numpy. Each table draws from its own stream spawned from ``np.random.SeedSequence(seed)``,
so a seed gives identical tables, and changing how one table is drawn leaves the others' draws as they were.
The hidden ground truth (personas, true default probabilities, true product affinities) is returned in
``Bank.truth`` and never appears in the five public tables. See docs/demo-bank.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata._bank import Bank, GroundTruth
from bankdata._gen_calendar import Window
from bankdata._gen_common import text_column
from bankdata._gen_customers import generate_customers
from bankdata._gen_interactions import draw_take_up, generate_interactions, products_table
from bankdata._gen_loans import generate_loans
from bankdata._gen_transactions import generate_transactions
from bankdata._personas import PERSONA_NAMES

MAX_MONTHS = 120


def generate_bank(
    n_customers: int = 50_000, seed: int = 42, months: int = 12, start: str = "2025-01-01"
) -> Bank:
    """Generate a demo bank with a known ground truth.

    Parameters
    ----------
    n_customers : int
        Number of customers (1 or more); about 30 transactions, 0.8 loans and 3 held products each per year.
    seed : int
        Seed of the random generator; the same arguments give identical tables.
    months : int
        Length of the activity window in calendar months (1 to 120).
    start : str
        First day of the window, e.g. ``"2025-01-01"``.

    Returns
    -------
    Bank
        The five tables plus ``truth`` (personas, loan_pd, affinity).
    """
    return _build(n_customers, seed, months, start)


def generate_later_batch(
    bank: Bank,
    n_customers: int | None = None,
    seed: int = 1,
    months: int = 1,
    shift: float = 0.0,
    pd_shift: float = 0.0,
) -> Bank:
    """Generate a later cohort of new customers, optionally drifted, to monitor a model trained on ``bank``.

    Parameters
    ----------
    bank : Bank
        The earlier bank; the batch starts on the first day of the month after its last activity, and its
        customer and loan ids continue after the bank's.
    n_customers : int, optional
        Customers in the batch (default: a tenth of the bank's, at least 1).
    seed : int
        Seed of the batch (use one different from the bank's).
    months : int
        Length of the batch's window.
    shift : float
        Population drift: 0 keeps the bank's persona mix; 1 makes struggling borrowers about 3.9 times as common
        and affluent investors 0.4 times; negative values tilt the other way. Features and true PD follow the mix.
    pd_shift : float
        Concept drift: added to every loan's log-odds of default (the same features default more often).

    Returns
    -------
    Bank
        The batch's tables and ground truth, with ids after the bank's.
    """
    if not isinstance(bank, Bank):
        raise TypeError(f"generate_later_batch: bank must be a Bank, got {type(bank).__name__}")
    for name, value in (("shift", shift), ("pd_shift", pd_shift)):
        if not np.isfinite(value):
            raise ValueError(f"generate_later_batch: {name} must be a finite number, got {value!r}")
    if bank.loans.empty and bank.transactions.empty:
        raise ValueError(
            "generate_later_batch: the bank has no loans or transactions to date the batch after"
        )
    last = max(
        frame[col].max()
        for frame, col in ((bank.transactions, "ts"), (bank.loans, "issued_at"))
        if len(frame)
    )
    n = max(bank.n_customers // 10, 1) if n_customers is None else n_customers
    customer_offset = int(bank.customers["customer_id"].max()) if len(bank.customers) else 0
    loan_offset = int(bank.loans["loan_id"].max()) if len(bank.loans) else 0
    return generate_cohort(
        pd.Timestamp(last),
        n_customers=n,
        seed=seed,
        months=months,
        customer_offset=customer_offset,
        loan_offset=loan_offset,
        shift=float(shift),
        pd_shift=float(pd_shift),
    )


def next_month_start(last: pd.Timestamp | str) -> str:
    """The first day of the month after ``last`` (``"2026-01-01"`` for any moment of December 2025)."""
    return (pd.Timestamp(last).normalize() + pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d")


def generate_cohort(
    last: pd.Timestamp | str,
    *,
    n_customers: int,
    seed: int,
    months: int,
    customer_offset: int,
    loan_offset: int,
    shift: float = 0.0,
    pd_shift: float = 0.0,
) -> Bank:
    """New customers, their activity and loans over ``months`` months starting the month after ``last``, drawn
    from the demo bank's ground truth, with customer ids after ``customer_offset`` and loan ids after
    ``loan_offset``.

    Parameters
    ----------
    last : Timestamp or str
        The bank's last activity; the cohort's window starts on the first day of the next month.
    n_customers, seed, months : int
        As :func:`generate_bank`.
    customer_offset, loan_offset : int
        The bank's largest customer and loan ids.
    shift, pd_shift : float
        Population and concept drift (see :func:`generate_later_batch`); 0 draws from the bank's own truth.

    Returns
    -------
    Bank
        The cohort's tables and ground truth.
    """
    start = next_month_start(last)
    batch = _build(n_customers, seed, months, start, shift=float(shift), pd_shift=float(pd_shift))
    return _offset_ids(batch, int(customer_offset), int(loan_offset))


def _build(
    n_customers: int, seed: int, months: int, start: str, shift: float = 0.0, pd_shift: float = 0.0
) -> Bank:
    """Draw every table and the ground truth from streams spawned from ``seed``, one per table."""
    window = _validate(n_customers, seed, months, start)
    customers_rng, loans_rng, affinity_rng, interactions_rng, transactions_rng = (
        np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(5)
    )
    pop = generate_customers(customers_rng, n_customers, window, shift=shift)
    book = generate_loans(loans_rng, pop, window, months, shift=pd_shift)
    take_up = draw_take_up(affinity_rng, pop)
    interactions = generate_interactions(interactions_rng, pop, window, take_up)
    transactions = generate_transactions(transactions_rng, pop, window, months)
    truth = GroundTruth(
        personas=pd.DataFrame(
            {"customer_id": pop.customers["customer_id"], "persona": text_column(pop.persona, PERSONA_NAMES)}
        ),
        loan_pd=pd.DataFrame({"loan_id": book.loans["loan_id"], "true_pd": book.true_pd}),
        affinity=_affinity_frame(take_up.affinity),
    )
    return Bank(
        customers=pop.customers,
        transactions=transactions,
        loans=book.loans,
        products=products_table(),
        interactions=interactions,
        truth=truth,
    )


def _offset_ids(bank: Bank, customer_offset: int, loan_offset: int) -> Bank:
    """Move every customer id up by ``customer_offset`` and every loan id by ``loan_offset``."""

    def moved(df: pd.DataFrame) -> pd.DataFrame:
        out = df.assign(customer_id=df["customer_id"] + customer_offset) if "customer_id" in df else df
        return out.assign(loan_id=out["loan_id"] + loan_offset) if "loan_id" in out else out

    truth = bank.truth
    if truth is not None:
        truth = GroundTruth(moved(truth.personas), moved(truth.loan_pd), moved(truth.affinity))
    return Bank(
        customers=moved(bank.customers),
        transactions=moved(bank.transactions),
        loans=moved(bank.loans),
        products=bank.products,
        interactions=moved(bank.interactions),
        truth=truth,
    )


def _affinity_frame(affinity: np.ndarray) -> pd.DataFrame:
    n, k = affinity.shape
    return pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(1, n + 1, dtype=np.int64), k),
            "product_id": np.tile(np.arange(1, k + 1, dtype=np.int64), n),
            "affinity": affinity.ravel(),
        },
        copy=False,
    )


def _validate(n_customers: int, seed: int, months: int, start: str) -> Window:
    """Check the arguments, naming the bad one, and build the window."""
    for name, value in (("n_customers", n_customers), ("seed", seed), ("months", months)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"generate_bank: {name} must be an integer, got {value!r}")
    if n_customers < 1:
        raise ValueError(f"generate_bank: n_customers must be at least 1, got {n_customers}")
    if seed < 0:
        raise ValueError(f"generate_bank: seed must be non-negative, got {seed}")
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"generate_bank: months must be between 1 and {MAX_MONTHS}, got {months}")
    try:
        window = Window.from_months(start, int(months))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"generate_bank: start must be a date like '2025-01-01', got {start!r}") from exc
    if (
        int(n_customers).bit_length() + window.second_bits > 56
    ):  # sort keys pack customer, second, codes in int64
        raise ValueError(
            f"generate_bank: {n_customers:,} customers over {months} months is too large to generate"
        )
    return window
