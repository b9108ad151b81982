"""Which bank the database holds: an id made when a bank is written or first loaded, and the population a model
was trained on, so that a model of one bank (or of an outside file) is never served for another.

The id lives in one row of the ``bank_identity`` table. ``write_bank`` makes a new one (kind ``demo`` for the
generated bank with its ground truth, ``own`` otherwise), and so does the first ``load customers`` into an empty
database (kind ``own``). Removing the demo bank (:func:`remove_bank`) deletes it with the bank's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._db import (
    BANK_TABLES,
    TRUTH_DB_TABLES,
    _connect,
    describe_url,
    ensure_app_tables,
    insert_rows,
    metadata,
    read_app_rows,
)

bank_identity_table = sa.Table(
    "bank_identity",
    metadata,
    sa.Column("bank_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
KINDS = ("demo", "own", "legacy")
"""``demo``: the generated bank; ``own``: loaded from files; ``legacy``: written by a release that kept no id."""


@dataclass(frozen=True)
class BankIdentity:
    """The bank the database holds."""

    bank_id: str
    kind: str
    created_at: datetime

    @property
    def is_demo(self) -> bool:
        """The generated demo bank (its figures may be checked against the ground truth)."""
        return self.kind == "demo"


def new_bank_identity(conn: Connection, kind: str) -> BankIdentity:
    """Give the database's bank a new id inside the caller's write transaction (the old one is forgotten)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    metadata.create_all(conn, tables=[bank_identity_table])
    conn.execute(sa.delete(bank_identity_table))
    identity = BankIdentity(uuid.uuid4().hex, kind, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    insert_rows(
        conn,
        bank_identity_table,
        ["bank_id", "kind", "created_at"],
        [(identity.bank_id, identity.kind, identity.created_at)],
    )
    return identity


def read_identity(conn: Connection) -> BankIdentity | None:
    """The identity inside an open connection; None when the bank has none (or there is no bank)."""
    if not sa.inspect(conn).has_table(bank_identity_table.name):
        return None
    row = conn.execute(sa.select(bank_identity_table).limit(1)).first()
    return None if row is None else BankIdentity(str(row.bank_id), str(row.kind), row.created_at)


def bank_identity(url: str | None = None) -> BankIdentity | None:
    """The identity of the bank in the database; an older release's bank gets one (kind ``legacy``) on first ask.

    None when the database holds no customers.
    """
    t = bank_identity_table
    rows = read_app_rows(sa.select(t).limit(1), url, what="the bank's identity")
    if rows:
        return BankIdentity(str(rows[0].bank_id), str(rows[0].kind), rows[0].created_at)
    with _connect(url, write=True) as conn:
        customers = BANK_TABLES["customers"]
        if not sa.inspect(conn).has_table(customers.name):
            return None
        if conn.execute(sa.select(customers.c.customer_id).limit(1)).first() is None:
            return None
        return read_identity(conn) or new_bank_identity(conn, "legacy")


def population_of_bank(bank: Any) -> dict[str, Any]:
    """The population record of a model trained on ``bank`` (a :class:`~bankdata.Bank`), for its metadata."""
    identity: BankIdentity | None = getattr(bank, "identity", None)
    if identity is None:
        return {
            "kind": "generated",
            "source": "a demo bank generated for this run (not the database's bank)",
            "customers": int(bank.n_customers),
            "bank_id": None,
        }
    return {
        "kind": "bank",
        "source": f"the {identity.kind} bank in the database",
        "customers": int(bank.n_customers),
        "bank_id": identity.bank_id,
    }


def population_of_file(source: str, rows: int) -> dict[str, Any]:
    """The population record of a model trained on an outside file: an evaluation of that file, never served."""
    return {"kind": "file", "source": str(source), "rows": int(rows), "bank_id": None}


def remove_bank(url: str | None = None) -> dict[str, int]:
    """Delete the bank's rows, its ground truth, its summary, its served rows and its identity in one transaction.

    Accounts, sessions, the audit log and saved model versions are kept (versions trained on the removed bank can
    no longer be promoted). Returns the rows deleted per table.

    Raises
    ------
    ValueError
        The database holds no bank, or holds a bank of the bank's own (only the demo bank is removed).
    """
    from bankdata._serving import drop_served_tables

    with _connect(url, write=True) as conn:
        identity = read_identity(conn)
        tables = [*BANK_TABLES.values(), *TRUTH_DB_TABLES.values()]
        present = [t for t in tables if sa.inspect(conn).has_table(t.name)]
        counts = {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()) for t in present
        }
        if not any(counts.values()):
            raise ValueError(f"the {describe_url(conn.engine.url)} holds no bank: nothing to remove")
        if identity is not None and not identity.is_demo:
            raise ValueError(
                f"the {describe_url(conn.engine.url)} holds a bank loaded from your files (kind {identity.kind}), not "
                "the demo bank: nothing removed"
            )
        if identity is None and not counts.get(TRUTH_DB_TABLES["personas"].name):
            raise ValueError(
                f"the {describe_url(conn.engine.url)} holds a bank without the demo bank's ground truth: it is not "
                "the demo bank, nothing removed"
            )
        from bankdata._campaign_store import drop_campaign_tables
        from bankdata._external_ids import forget_ids

        drop_served_tables(conn)  # the served rows and the summary (the Overview) describe the bank removed
        drop_campaign_tables(conn)  # so do the campaigns' members and responses
        from bankdata._events import drop_event_tables

        drop_event_tables(conn)  # and the events the API stored for its customers
        forget_ids(conn)
        for table in present:
            conn.execute(sa.delete(table))
        if sa.inspect(conn).has_table(bank_identity_table.name):
            conn.execute(sa.delete(bank_identity_table))
        ensure_app_tables(conn)
    return counts


SERVED_MODELS = ("risk", "segments", "recsys")
"""The model names the app serves; any other name (``risk-<file>``, ``segments-<file>``) is an evaluation."""


def saved_state(artifact: Any, latest: str | None) -> str:
    """One line on what a just-saved version is: served, a candidate (and how to promote it), or an evaluation."""
    model, version = artifact.model, artifact.version
    population = (artifact.metadata.get("extra") or {}).get("population") or {}
    if model not in SERVED_MODELS or population.get("kind") in ("file", "generated"):
        return (
            f"{model}/{version} is an evaluation of {population.get('source', 'outside data')}, kept apart from "
            "the served models (it cannot be promoted)"
        )
    if latest == version:
        return f"{model}/{version} is served"
    return (
        f"{model}/{version} is a candidate (the app still serves {latest}): compare it with "
        f"`ledgerlight promote {model} {version} --dry-run`, then promote it with --reason"
    )
