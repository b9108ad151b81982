"""The seeded demo bank: ``generate_bank`` assembles customers, transactions, loans, products and interactions.

Everything is vectorised numpy drawn from one ``np.random.default_rng(seed)``, so a seed gives identical tables.
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
from bankdata._gen_interactions import generate_interactions, products_table, true_affinity
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
    window = _validate(n_customers, seed, months, start)
    rng = np.random.default_rng(seed)
    pop = generate_customers(rng, n_customers, window)
    book = generate_loans(rng, pop, window, months)
    affinity = true_affinity(rng, pop)
    interactions = generate_interactions(rng, pop, window, affinity)
    transactions = generate_transactions(rng, pop, window, months)
    truth = GroundTruth(
        personas=pd.DataFrame(
            {"customer_id": pop.customers["customer_id"], "persona": text_column(pop.persona, PERSONA_NAMES)}
        ),
        loan_pd=pd.DataFrame({"loan_id": book.loans["loan_id"], "true_pd": book.true_pd}),
        affinity=_affinity_frame(affinity),
    )
    return Bank(
        customers=pop.customers,
        transactions=transactions,
        loans=book.loans,
        products=products_table(),
        interactions=interactions,
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
        return Window.from_months(start, int(months))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"generate_bank: start must be a date like '2025-01-01', got {start!r}") from exc
