"""The declared schema of every table, as data: used by the database tables and by validation alike.

A :class:`Column` names its logical kind (``id``, ``int``, ``float``, ``str``, ``datetime``, ``category``) and its
constraints; a :class:`TableSchema` lists the columns. ``SCHEMAS`` holds the five public tables, ``TRUTH_SCHEMAS``
the ground-truth tables (stored in the database with the ``truth_`` prefix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "int", "float", "str", "datetime", "category"]

TRUTH_PREFIX = "truth_"


@dataclass(frozen=True)
class Column:
    """One declared column.

    Attributes
    ----------
    name : str
        Column name.
    kind : {"id", "int", "float", "str", "datetime", "category"}
        Logical type. ``id`` identifies a row: a whole number in the database; a bank's files may use text,
        which loading maps to internal whole numbers (:mod:`bankdata._external_ids`); ``category`` is text from ``allowed``.
    nullable : bool
        Whether missing values are accepted.
    unique : bool
        Whether values must be unique within the table (the table's key).
    min_value, max_value : float or None
        Inclusive bounds for numbers.
    positive : bool
        Values must be strictly greater than zero.
    allowed : tuple or None
        The allowed values of a ``category`` column (text) or of an ``int`` column (numbers).
    references : str or None
        The table whose key every value must be (``customers`` for a loan's customer_id); checked when rows are
        loaded.
    """

    name: str
    kind: Kind
    nullable: bool = False
    unique: bool = False
    min_value: float | None = None
    max_value: float | None = None
    positive: bool = False
    allowed: tuple[str, ...] | tuple[int, ...] | None = None
    references: str | None = None

    @property
    def is_numeric(self) -> bool:
        """Whether the column holds numbers."""
        return self.kind in ("id", "int", "float")


@dataclass(frozen=True)
class TableSchema:
    """The declared columns of one table, in order."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names, in declared order."""
        return tuple(c.name for c in self.columns)

    @property
    def key(self) -> str | None:
        """The unique id column, if the table has one."""
        return next((c.name for c in self.columns if c.unique), None)

    def column(self, name: str) -> Column:
        """Return a column by name, raising ``KeyError`` naming the table for an unknown one."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}; columns: {', '.join(self.column_names)}")


GENDERS = ("F", "M")
DIRECTIONS = ("debit", "credit")
FAMILIES = ("deposit", "card", "loan", "investment", "insurance")
EVENTS = ("view", "click", "apply", "purchase")

SCHEMAS: dict[str, TableSchema] = {
    "customers": TableSchema(
        "customers",
        (
            Column("customer_id", "id", unique=True, min_value=0),
            Column("age", "int", min_value=16, max_value=120),
            Column("gender", "category", allowed=GENDERS),
            Column("region", "str", nullable=True),
            Column("income", "float", nullable=True, min_value=0),
            Column("employment", "str", nullable=True),
            Column("tenure_months", "int", min_value=0),
            Column("credit_score", "int", min_value=300, max_value=850),
            Column("balance", "float", nullable=True),
            Column("signup_date", "datetime"),
        ),
    ),
    "transactions": TableSchema(
        "transactions",
        (
            Column("customer_id", "id", min_value=0, references="customers"),
            Column("ts", "datetime"),
            Column("amount", "float", positive=True),
            Column("category", "str"),
            Column("channel", "str"),
            Column("direction", "category", allowed=DIRECTIONS),
        ),
    ),
    "loans": TableSchema(
        "loans",
        (
            Column("loan_id", "id", unique=True, min_value=0),
            Column("customer_id", "id", min_value=0, references="customers"),
            Column("issued_at", "datetime"),
            Column("amount", "float", positive=True),
            Column("term_months", "int", min_value=1),
            Column("interest_rate", "float", min_value=0),
            Column("purpose", "str"),
            Column("dti", "float", nullable=True, min_value=0),
            Column("prior_delinquencies", "int", min_value=0),
            Column("defaulted", "int", allowed=(0, 1)),
        ),
    ),
    "products": TableSchema(
        "products",
        (
            Column("product_id", "id", unique=True, min_value=0),
            Column("name", "str"),
            Column("family", "category", allowed=FAMILIES),
        ),
    ),
    "interactions": TableSchema(
        "interactions",
        (
            Column("customer_id", "id", min_value=0, references="customers"),
            Column("product_id", "id", min_value=0, references="products"),
            Column("ts", "datetime"),
            Column("event", "category", allowed=EVENTS),
        ),
    ),
}

TRUTH_SCHEMAS: dict[str, TableSchema] = {
    "personas": TableSchema(
        "personas", (Column("customer_id", "id", unique=True, min_value=0), Column("persona", "str"))
    ),
    "loan_pd": TableSchema(
        "loan_pd",
        (
            Column("loan_id", "id", unique=True, min_value=0),
            Column("true_pd", "float", min_value=0, max_value=1),
        ),
    ),
    "affinity": TableSchema(
        "affinity",
        (
            Column("customer_id", "id", min_value=0),
            Column("product_id", "id", min_value=0),
            Column("affinity", "float"),
        ),
    ),
}


def schema_for(table: str) -> TableSchema:
    """Return the schema of a public table, raising a ``ValueError`` that lists the known tables."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(SCHEMAS)}") from None
