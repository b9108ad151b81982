"""Ledgerlight's data layer: the demo bank, loaders for your own files, the database and the artifact store.

Imports nothing else of Ledgerlight. The contract is in ``docs/contracts.md``.
"""

from bankdata._artifacts import Artifact, ArtifactError, ArtifactStore, fingerprint
from bankdata._bank import TABLES, Bank, GroundTruth
from bankdata._config import Settings, get_settings
from bankdata._db import read_bank, write_bank
from bankdata._generator import generate_bank
from bankdata._validation import DataValidationError

__all__ = [
    "TABLES",
    "Artifact",
    "ArtifactError",
    "ArtifactStore",
    "Bank",
    "DataValidationError",
    "GroundTruth",
    "Settings",
    "fingerprint",
    "generate_bank",
    "get_settings",
    "read_bank",
    "write_bank",
]
