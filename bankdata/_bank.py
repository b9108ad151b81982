"""The in-memory bank: one DataFrame per table of the data model (see docs/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

TABLES: tuple[str, ...] = ("customers", "transactions", "loans", "products", "interactions")
TRUTH_TABLES: tuple[str, ...] = ("personas", "loan_pd", "affinity")


@dataclass(frozen=True)
class GroundTruth:
    """What the demo bank knows and a model never sees.

    Attributes
    ----------
    personas : DataFrame
        customer_id, persona: the latent persona that drove the customer's behaviour.
    loan_pd : DataFrame
        loan_id, true_pd: the probability of default the outcome was drawn from.
    affinity : DataFrame
        customer_id, product_id, affinity: the true propensity to take up each product.
    """

    personas: pd.DataFrame
    loan_pd: pd.DataFrame
    affinity: pd.DataFrame


@dataclass(frozen=True)
class Bank:
    """A bank's tables, from the demo generator, the database or the user's own files."""

    customers: pd.DataFrame
    transactions: pd.DataFrame
    loans: pd.DataFrame
    products: pd.DataFrame
    interactions: pd.DataFrame
    truth: GroundTruth | None = field(default=None, repr=False)
    identity: Any = field(default=None, repr=False, compare=False)
    """The database bank's :class:`~bankdata._identity.BankIdentity` when read from the database, else None."""

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.customers)

    def table(self, name: str) -> pd.DataFrame:
        """Return a table by name, raising a clear ``KeyError`` for an unknown name."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
        return getattr(self, name)

    def held_products(self) -> pd.DataFrame:
        """Unique (customer_id, product_id) pairs with a purchase: the products each customer holds."""
        bought = self.interactions.loc[
            self.interactions["event"] == "purchase", ["customer_id", "product_id"]
        ]
        return bought.drop_duplicates().reset_index(drop=True)
