"""A database of the module's ``demo_bank`` (each test module defines that fixture) and folders of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankdata import ArtifactStore, Bank, write_bank
from dashapp.services import clear_caches


@pytest.fixture()
def env(demo_bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``DATABASE_URL``, checkpoints and data folder under ``tmp_path``, the database holding ``demo_bank``:
    yields ``url``, ``tmp``, ``store`` and ``bank``."""
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LEDGERLIGHT_ENV", raising=False)
    write_bank(demo_bank, url)
    clear_caches()
    yield {"url": url, "tmp": tmp_path, "store": ArtifactStore(), "bank": demo_bank}
    clear_caches()
