"""A small generated bank written as CSV exports whose ids are text: customers ``C-00017``, products ``CC-…``
(from the product's name), loans ``L-9``, for the tests of banks with their own ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bankdata import Bank, generate_bank

LOAD_ORDER = ("products", "customers", "transactions", "loans", "interactions")


def customer_text(customer_id: int) -> str:
    """The text id the files give a generated customer."""
    return f"C-{int(customer_id):05d}"


def loan_text(loan_id: int) -> str:
    """The text id the files give a generated loan."""
    return f"L-{int(loan_id)}"


def product_texts(products: pd.DataFrame) -> dict[int, str]:
    """The text id of each generated product: ``CC-`` and its name in capitals (``CC-GOLD-CARD``...)."""
    return {
        int(p): "CC-" + "-".join(str(n).upper().split())
        for p, n in zip(products["product_id"], products["name"], strict=True)
    }


def renamed(bank: Bank, table: str) -> pd.DataFrame:
    """``table`` of ``bank`` with every id replaced by its text id."""
    frame = bank.table(table).copy()
    if "customer_id" in frame:
        frame["customer_id"] = frame["customer_id"].map(customer_text)
    if "loan_id" in frame:
        frame["loan_id"] = frame["loan_id"].map(loan_text)
    if "product_id" in frame:
        frame["product_id"] = frame["product_id"].map(product_texts(bank.products))
    return frame


def write_text_id_files(folder: Path, n_customers: int = 500, seed: int = 11) -> tuple[Bank, dict[str, Path]]:
    """Generate a bank and write each table as ``folder/<table>.csv`` with text ids; returns the bank and the
    paths in load order."""
    bank = generate_bank(n_customers, seed=seed, months=6)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table in LOAD_ORDER:
        paths[table] = folder / f"{table}.csv"
        renamed(bank, table).to_csv(paths[table], index=False)
    return bank, paths
