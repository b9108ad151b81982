"""Settings come from the environment only."""

from __future__ import annotations

import pytest

from bankdata import get_settings


def test_defaults_are_local_files(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "LEDGERLIGHT_DATA_DIR",
        "LEDGERLIGHT_CHECKPOINTS",
        "LEDGERLIGHT_CREDIT_BLOCKED_BANDS",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "data/ledgerlight.db"
    )
    assert settings.checkpoints_dir.name == "checkpoints"
    assert settings.credit_blocked_bands == ("E",)


def test_heroku_style_postgres_url_is_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/bank")
    assert get_settings().database_url == "postgresql://u:p@db.example:5432/bank"


@pytest.mark.parametrize(("raw", "expected"), [("d, e", ("D", "E")), ("", ()), ("E", ("E",))])
def test_credit_blocked_bands_are_configurable(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: tuple
) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CREDIT_BLOCKED_BANDS", raw)
    assert get_settings().credit_blocked_bands == expected
