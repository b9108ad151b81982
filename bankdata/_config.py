"""Configuration, read only from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
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
    bank_name : str or None
        The bank's name as its letters to applicants show it (``LEDGERLIGHT_BANK_NAME``); None: not configured.
    """

    database_url: str
    checkpoints_dir: Path
    data_dir: Path
    credit_blocked_bands: tuple[str, ...] = ("E",)
    bank_name: str | None = None


def get_settings() -> Settings:
    """The settings the environment names now (read on every call, so tests can change it; the same environment
    gives the same, cached, object)."""
    env = os.environ
    return _settings(
        env.get("LEDGERLIGHT_DATA_DIR"),
        env.get("LEDGERLIGHT_CHECKPOINTS"),
        env.get("DATABASE_URL"),
        env.get("LEDGERLIGHT_CREDIT_BLOCKED_BANDS", "E"),
        env.get("LEDGERLIGHT_BANK_NAME"),
    )


@lru_cache(maxsize=16)
def _settings(
    data_dir_raw: str | None,
    checkpoints_raw: str | None,
    url_raw: str | None,
    bands: str,
    bank_name: str | None = None,
) -> Settings:
    data_dir = Path(data_dir_raw or PROJECT_ROOT / "data")
    checkpoints = Path(checkpoints_raw or PROJECT_ROOT / "checkpoints")
    url = url_raw or f"sqlite:///{data_dir / 'ledgerlight.db'}"
    if url.startswith("postgres://"):  # the spelling many PaaS use; SQLAlchemy 2 wants postgresql://
        url = "postgresql://" + url[len("postgres://") :]
    blocked = tuple(b.strip().upper() for b in bands.split(",") if b.strip())
    return Settings(
        database_url=url,
        checkpoints_dir=checkpoints,
        data_dir=data_dir,
        credit_blocked_bands=blocked,
        bank_name=(bank_name or "").strip() or None,
    )
