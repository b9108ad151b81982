"""Fixtures of the storage tests: an empty database on SQLite, and on PostgreSQL when one is given."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankdata import _db as db
from bankdata import _serving as serving


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or (``-m postgres``) the PostgreSQL server in ``DATABASE_URL_TEST``."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bank.db'}"
        return
    pg_url = os.environ.get("DATABASE_URL_TEST")
    if not pg_url:
        pytest.skip("DATABASE_URL_TEST is not set")
    _drop_everything(pg_url)
    yield pg_url
    _drop_everything(pg_url)


def _drop_everything(pg_url: str) -> None:
    with db.engine_for(pg_url).begin() as conn:
        serving.served_metadata.drop_all(conn)
        db.metadata.drop_all(conn)
