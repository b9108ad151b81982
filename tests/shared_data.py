"""The real public data sets next to the repository (``../shared/data``), found one way for every test.

``LEDGERLIGHT_SHARED_DATA`` points elsewhere. A test that needs a file that is not there is skipped with the path it
looked at, or fails when ``LEDGERLIGHT_REQUIRE_SHARED_DATA=1`` (a CI that ships the data sets and must use them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The folder of the shared data sets: ``$LEDGERLIGHT_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    override = os.environ.get("LEDGERLIGHT_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """The path of one shared data file; skips (or, when required, fails) the test naming where it looked."""
    path = shared_data_dir() / name
    if not path.exists():
        message = (f"shared data file {name} not found at {path} (set LEDGERLIGHT_SHARED_DATA to the folder that "
                   "holds ../shared/data's files)")  # fmt: skip
        if os.environ.get("LEDGERLIGHT_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
