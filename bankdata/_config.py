"""Configuration, read only from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """Where the data, the database and the trained artifacts live.

    Attributes
    ----------
    database_url : str
        SQLAlchemy URL (``DATABASE_URL``); default a SQLite file in ``data_dir``.
    checkpoints_dir : Path
        Root of the artifact store (``LEDGERLIGHT_CHECKPOINTS``); default ``./checkpoints``.
    data_dir : Path
        Generated and uploaded data (``LEDGERLIGHT_DATA_DIR``); default ``./data``.
    credit_blocked_bands : tuple of str
        Risk bands whose customers are never offered credit products (``LEDGERLIGHT_CREDIT_BLOCKED_BANDS``,
        comma separated; default ``E``, the worst band; empty to switch the rule off).
    """

    database_url: str
    checkpoints_dir: Path
    data_dir: Path
    credit_blocked_bands: tuple[str, ...] = ("E",)


def get_settings() -> Settings:
    """Read the settings from the environment (fresh on every call, so tests can change it)."""
    data_dir = Path(os.environ.get("LEDGERLIGHT_DATA_DIR", PROJECT_ROOT / "data"))
    checkpoints = Path(os.environ.get("LEDGERLIGHT_CHECKPOINTS", PROJECT_ROOT / "checkpoints"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'ledgerlight.db'}"
    if url.startswith("postgres://"):  # the spelling many PaaS use; SQLAlchemy 2 wants postgresql://
        url = "postgresql://" + url[len("postgres://") :]
    bands = os.environ.get("LEDGERLIGHT_CREDIT_BLOCKED_BANDS", "E")
    blocked = tuple(b.strip().upper() for b in bands.split(",") if b.strip())
    return Settings(database_url=url, checkpoints_dir=checkpoints, data_dir=data_dir, credit_blocked_bands=blocked)
