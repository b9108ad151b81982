"""Fixtures shared by every area: a small demo bank and a temporary artifact store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bankdata import ArtifactStore, Bank, generate_bank

SMALL_BANK_CUSTOMERS = 3_000
# every figure the tests build is checked property by property (serving skips it: dashapp.figures.theme)
os.environ.setdefault("LEDGERLIGHT_VALIDATE_FIGURES", "1")


@pytest.fixture(scope="session")
def small_bank() -> Bank:
    """A 3,000-customer demo bank, generated once per test session (seeded)."""
    return generate_bank(n_customers=SMALL_BANK_CUSTOMERS, seed=7)


@pytest.fixture()
def tmp_store(tmp_path: Path) -> ArtifactStore:
    """An empty artifact store in a temporary folder."""
    return ArtifactStore(root=tmp_path / "checkpoints")
