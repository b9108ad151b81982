"""A bank's own ids (whole numbers or text) and the database's internal whole-number ids.

The database keys every bank, serving and model table by whole numbers. A bank whose customer, loan or product ids
are text keeps them in ``external_ids(entity, internal_id, external_id)``: ``load`` gives each new text id the next
internal id of its entity and translates references (a loan's customer_id, an interaction's product_id) through
the mapping. A bank with whole-number ids has no mapping rows: its ids are the internal ids.

``id_kinds(entity, kind)`` records each entity's kind (``integer`` or ``text``) when its first rows are loaded; a
later file of the other kind is refused. The app and the CLI show a bank's ids with :func:`to_external` and read
them back with :func:`to_internal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._db import _connect, insert_rows, metadata
from bankdata._schema import TableSchema
from bankdata._validation import ProblemReport

#: entity -> (its table, its key column)
ENTITIES: dict[str, tuple[str, str]] = {
    "customer": ("customers", "customer_id"),
    "loan": ("loans", "loan_id"),
    "product": ("products", "product_id"),
}
#: an id column of any table -> the entity it names
ENTITY_OF_COLUMN: dict[str, str] = {column: entity for entity, (_, column) in ENTITIES.items()}
ID_KINDS = ("integer", "text")
MAX_LOOKUP = 5_000  # external ids per query (bound parameters)
READ_ALL_ABOVE = 50_000  # a file naming more distinct ids reads the entity's whole mapping (one scan) instead

external_ids_table = sa.Table(
    "external_ids",
    metadata,
    sa.Column("entity", sa.String(20), primary_key=True),
    sa.Column("internal_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.UniqueConstraint("entity", "external_id", name="uq_external_ids_entity_external_id"),
)
id_kinds_table = sa.Table(
    "id_kinds",
    metadata,
    sa.Column("entity", sa.String(20), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),
)
MAPPING_TABLES = (external_ids_table, id_kinds_table)


def _has_tables(conn: Connection) -> bool:
    inspector = sa.inspect(conn)
    return all(inspector.has_table(t.name) for t in MAPPING_TABLES)


def stored_kinds(conn: Connection) -> dict[str, str]:
    """``{entity: "integer" | "text"}`` of the entities loaded so far, inside an open connection."""
    if not _has_tables(conn):
        return {}
    return {
        str(e): str(k) for e, k in conn.execute(sa.select(id_kinds_table.c.entity, id_kinds_table.c.kind))
    }


def read_id_kinds(url: str | None = None) -> dict[str, str]:
    """``{entity: "integer" | "text"}`` of the bank in the database (an entity not listed has integer ids: the demo
    bank, a bank written before kinds were recorded, or an entity not loaded yet)."""
    with _connect(url, write=False) as conn:
        return stored_kinds(conn)


def forget_ids(conn: Connection) -> None:
    """Delete every mapping row and kind inside the caller's write transaction (the bank is replaced or removed)."""
    for table in MAPPING_TABLES:
        if sa.inspect(conn).has_table(table.name):
            conn.execute(sa.delete(table))


def _mapping(conn: Connection, entity: str, external: Sequence[str] | None = None) -> pd.Series:
    """internal id by external id (a str-indexed int64 Series) of ``entity``: all of them, or of ``external``."""
    t = external_ids_table
    base = sa.select(t.c.external_id, t.c.internal_id).where(t.c.entity == entity)
    if external is None or len(external) > READ_ALL_ABOVE:
        rows = list(conn.execute(base))
    else:
        rows = []
        wanted = list(dict.fromkeys(external))
        for start in range(0, len(wanted), MAX_LOOKUP):
            rows += conn.execute(base.where(t.c.external_id.in_(wanted[start : start + MAX_LOOKUP]))).all()
    return pd.Series(
        [int(r[1]) for r in rows], index=pd.Index([str(r[0]) for r in rows], dtype="str"), dtype="int64"
    )


def _file_kind(values: pd.Series) -> str:
    return "integer" if pd.api.types.is_integer_dtype(values.dtype) else "text"


def _kind_problem(
    report: ProblemReport, column: str, entity: str, file_kind: str, stored: str, values: pd.Series
) -> None:
    examples = ", ".join(repr(str(v)) for v in pd.unique(values.dropna())[:3])
    hint = "text ids such as 'C-00017'" if stored == "text" else "whole numbers"
    report.add(
        column,
        f"{'text ids' if file_kind == 'text' else 'whole-number ids'} (e.g. {examples}), but the "
        f"bank's {entity} ids are {hint}: one bank keeps one kind of id per entity",
    )


def translate_load(
    conn: Connection, schema: TableSchema, df: pd.DataFrame, report: ProblemReport
) -> tuple[pd.DataFrame, set[str], list[tuple[str, pd.Series]]]:
    """Turn the text ids of a validated file into internal ids, inside the load's write transaction.

    Parameters
    ----------
    conn : Connection
        The load's open write transaction.
    schema : TableSchema
        The table loaded.
    df : DataFrame
        Validated rows: each id column int64 (whole numbers) or ``str`` (text ids).
    report : ProblemReport
        Collects the problems: a kind other than the bank's, text ids already in the database, references to ids
        the database does not hold (with the file's rows).

    Returns
    -------
    frame : DataFrame
        ``df`` with every id column int64 (internal ids; -1 where a reference is unknown, reported).
    checked : set of str
        The columns whose keys or references were checked here (text columns).
    new : list of (entity, Series)
        The mapping rows to store once the file is accepted (:func:`store_mapping`): internal id by external id.
    """
    kinds = stored_kinds(conn)
    out = df.copy()
    checked: set[str] = set()
    new: list[tuple[str, pd.Series]] = []
    for col in schema.columns:
        entity = ENTITY_OF_COLUMN.get(col.name)
        if col.kind != "id" or entity is None:
            continue
        values = df[col.name]
        file_kind = _file_kind(values)
        stored = kinds.get(entity)
        if stored is None and _table_has_rows(conn, ENTITIES[entity][0]):
            stored = "integer"  # the demo bank, or rows loaded before kinds were recorded
        if stored is not None and stored != file_kind:
            _kind_problem(report, col.name, entity, file_kind, stored, values)
            checked.add(col.name)
            out[col.name] = np.full(len(df), -1, dtype="int64")
            continue
        if file_kind == "integer":
            continue
        checked.add(col.name)
        text = values.astype("str")
        known = _mapping(conn, entity, text.unique().tolist())
        positions = known.index.get_indexer(text)
        found = positions >= 0
        ids = np.full(len(df), -1, dtype="int64")
        ids[found] = known.to_numpy()[positions[found]]
        if col.unique:
            report.add(col.name, "ids already in the database", found)
            start = _next_internal(conn, entity)
            ids[~found] = np.arange(start, start + int((~found).sum()), dtype="int64")
            new.append((entity, pd.Series(ids[~found], index=text[~found].to_numpy())))
        elif col.references is not None:
            examples = ", ".join(map(repr, pd.unique(text[~found])[:3]))
            report.add(
                col.name,
                f"ids not in table {col.references} (e.g. {examples}); load {col.references} first",
                ~found,
            )
        out[col.name] = ids
    return out, checked, new


def _table_has_rows(conn: Connection, table: str) -> bool:
    if not sa.inspect(conn).has_table(table):
        return False
    return conn.execute(sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1)).first() is not None


def _next_internal(conn: Connection, entity: str) -> int:
    """The next internal id of ``entity``: one more than the largest mapped (1 for the first)."""
    t = external_ids_table
    top = conn.execute(sa.select(sa.func.max(t.c.internal_id)).where(t.c.entity == entity)).scalar()
    return 1 if top is None else int(top) + 1


def store_mapping(
    conn: Connection, schema: TableSchema, df: pd.DataFrame, new: list[tuple[str, pd.Series]]
) -> None:
    """Store the new mapping rows and the kind of each entity whose key the file brings (first load of it)."""
    metadata.create_all(conn, tables=list(MAPPING_TABLES))
    for entity, ids in new:
        rows = list(
            zip(
                [entity] * len(ids),
                ids.to_numpy(dtype="int64").tolist(),
                ids.index.astype(str).tolist(),
                strict=True,
            )
        )
        for start in range(0, len(rows), 50_000):
            insert_rows(
                conn,
                external_ids_table,
                ["entity", "internal_id", "external_id"],
                rows[start : start + 50_000],
            )
    key = schema.key
    key_entity = ENTITY_OF_COLUMN.get(key or "")
    if key_entity is not None and key_entity not in stored_kinds(conn):
        conn.execute(sa.insert(id_kinds_table).values(entity=key_entity, kind=_file_kind(df[key])))


def _lookup(url: str | None, entity: str, column: sa.Column, other: sa.Column, keys: list) -> dict:
    t = external_ids_table
    out: dict = {}
    with _connect(url, write=False) as conn:
        if not sa.inspect(conn).has_table(t.name):
            return out
        for start in range(0, len(keys), MAX_LOOKUP):
            part = keys[start : start + MAX_LOOKUP]
            out.update(
                conn.execute(sa.select(column, other).where(t.c.entity == entity, column.in_(part))).all()
            )
    return out


def to_external(entity: str, internal: Iterable[int], url: str | None = None) -> dict[int, str]:
    """``{internal id: the bank's text id}`` of ``internal`` (one indexed query per 5,000 ids); ids without a
    mapping row (a whole-number bank) are left out."""
    keys = list(dict.fromkeys(int(i) for i in internal))
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
    t = external_ids_table
    return {int(k): str(v) for k, v in _lookup(url, entity, t.c.internal_id, t.c.external_id, keys).items()}


def to_internal(entity: str, external: Iterable[str], url: str | None = None) -> dict[str, int]:
    """``{the bank's text id: internal id}`` of ``external`` (ids the bank does not hold are left out)."""
    keys = list(dict.fromkeys(str(e) for e in external))
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
    t = external_ids_table
    return {str(k): int(v) for k, v in _lookup(url, entity, t.c.external_id, t.c.internal_id, keys).items()}
