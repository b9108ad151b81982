"""Ledgerlight's data layer: the demo bank, loaders for your own files, the database and the artifact store.

Imports nothing else of Ledgerlight. The contract is in ``docs/contracts.md``.
"""

from bankdata._accounts import (
    ThrottleKey,
    clear_sign_in_throttle,
    create_session,
    delete_user,
    find_session,
    finish_sign_in,
    open_sessions,
    reserve_sign_in,
    revoke_sessions,
    set_password_hash,
    set_role,
    touch_session,
)
from bankdata._artifacts import Artifact, ArtifactError, ArtifactStore, fingerprint, save_json, save_npz
from bankdata._bank import TABLES, Bank, GroundTruth
from bankdata._config import Settings, get_settings
from bankdata._db import (
    BANK_TABLES,
    DatabaseError,
    add_user,
    append_audit,
    append_load,
    engine_for,
    ensure_bank_indexes,
    get_user,
    read_audit,
    read_bank,
    segment_names,
    set_segment_name,
    table_counts,
    write_bank,
)
from bankdata._generator import generate_bank, generate_later_batch
from bankdata._loaders import load_table, parse_column_map, read_tabular
from bankdata._modelcard import model_card_html, model_card_sections
from bankdata._serving import (
    published_rows,
    query,
    query_records,
    read_evidence,
    served_table,
    write_evidence,
    write_served,
)
from bankdata._summary import SCORE_BANDS, read_summary, refresh_summary, summarise_bank, summary_refreshed_at
from bankdata._validation import DataValidationError

__all__ = [
    "BANK_TABLES",
    "TABLES",
    "ThrottleKey",
    "Artifact",
    "ArtifactError",
    "ArtifactStore",
    "Bank",
    "DataValidationError",
    "DatabaseError",
    "GroundTruth",
    "Settings",
    "add_user",
    "clear_sign_in_throttle",
    "create_session",
    "delete_user",
    "find_session",
    "finish_sign_in",
    "open_sessions",
    "reserve_sign_in",
    "revoke_sessions",
    "set_password_hash",
    "set_role",
    "touch_session",
    "append_audit",
    "append_load",
    "engine_for",
    "ensure_bank_indexes",
    "SCORE_BANDS",
    "published_rows",
    "read_summary",
    "summary_refreshed_at",
    "refresh_summary",
    "summarise_bank",
    "query",
    "query_records",
    "read_evidence",
    "served_table",
    "write_evidence",
    "write_served",
    "fingerprint",
    "generate_bank",
    "generate_later_batch",
    "get_settings",
    "get_user",
    "load_table",
    "model_card_html",
    "model_card_sections",
    "parse_column_map",
    "read_audit",
    "read_bank",
    "read_tabular",
    "save_json",
    "save_npz",
    "segment_names",
    "set_segment_name",
    "table_counts",
    "write_bank",
]
