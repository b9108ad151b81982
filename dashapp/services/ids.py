"""The bank's own ids at the services' boundary: pages show them and accept them, the database keys by internal ids.

A bank loaded with text ids (``C-00017``, ``CC-GOLD``, ``L-9``) has a mapping table (:mod:`bankdata._external_ids`);
a bank of whole numbers (the demo bank) has none, and then everything here returns its input untouched without a
query. Which entities have text ids is read once per worker every :data:`KINDS_SECONDS` seconds (one tiny query),
so a bank loaded while the app runs is picked up without a restart.

Translation is in bulk: one indexed query per page of rows (:func:`show`), one primary-key look-up for one id
(:func:`shown`, :func:`customer`). Grids filter a text id on the mapping's index (:func:`grid_column`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from bankdata import DatabaseError, external_ids_table, get_settings, read_id_kinds, to_external, to_internal
from dashapp.services import grid, validation
from dashapp.services.bank import DataUnavailable, check_database
from dashapp.services.validation import InputError

KINDS_SECONDS = 15
MAX_ID_LENGTH = validation.MAX_ID_LENGTH


@functools.lru_cache(maxsize=4)
def _kinds(url: str, _period: int) -> Mapping[str, str]:
    try:
        return dict(read_id_kinds(check_database(url)))  # a missing SQLite file is not created
    except (DataUnavailable, DatabaseError):
        return {}


def kinds() -> Mapping[str, str]:
    """``{entity: "integer" | "text"}`` of the bank (entities not listed have whole-number ids)."""
    return _kinds(get_settings().database_url, int(time.monotonic() // KINDS_SECONDS))


def is_text(entity: str) -> bool:
    """Whether the bank's ``entity`` ids (``customer``, ``product``, ``loan``) are text."""
    return kinds().get(entity) == "text"


def shown_many(entity: str, internal: Iterable[int]) -> dict[int, Any]:
    """``{internal id: the bank's id}``; without text ids each id maps to itself (no query)."""
    ids = [int(i) for i in internal]
    if not is_text(entity):
        return {i: i for i in ids}
    found = to_external(entity, ids, get_settings().database_url)
    return {i: found.get(i, i) for i in ids}


def shown(entity: str, internal: int) -> Any:
    """The bank's id of one row (the internal id itself for a bank of whole numbers)."""
    return shown_many(entity, [internal])[int(internal)]


def show(frame: pd.DataFrame, column: str, entity: str) -> pd.DataFrame:
    """``frame`` with ``column`` holding the bank's ids (a copy; the frame itself without text ids)."""
    if not is_text(entity) or column not in frame.columns or frame.empty:
        return frame
    mapping = shown_many(entity, frame[column].dropna().astype("int64").unique())
    return frame.assign(
        **{column: frame[column].map(lambda v: v if pd.isna(v) else mapping.get(int(v), v)).astype(object)}
    )


def show_records(records: list[dict[str, Any]], column: str, entity: str) -> list[dict[str, Any]]:
    """Grid rows with ``column`` holding the bank's ids (the rows themselves without text ids)."""
    if not is_text(entity) or not records:
        return records
    mapping = shown_many(entity, [r[column] for r in records if r.get(column) is not None])
    return [
        {**r, column: mapping.get(int(r[column]), r[column]) if r.get(column) is not None else None}
        for r in records
    ]


def ref(entity: str, value: Any, field: str | None = None) -> int | str:
    """An id as the bank writes it, checked for shape but not looked up: a whole number for a bank of whole
    numbers (``validation.customer_id``), a text id for a bank with text ids (``validation.text_id``)."""
    field = field or f"{entity} id"
    return validation.text_id(value, field) if is_text(entity) else validation.customer_id(value, field)


def customer_ref(value: Any, field: str = "customer id") -> int | str:
    """A customer id as the bank writes it (see :func:`ref`): for page addresses, stores and search boxes."""
    return ref("customer", value, field)


def internal(entity: str, value: Any, field: str | None = None) -> int:
    """The internal id of the bank's id ``value`` (from an input, a page address or a grid row).

    Raises
    ------
    InputError
        Not an id of the bank's kind, or (text ids) no row has it.
    """
    field = field or f"{entity} id"
    if not is_text(entity):
        return validation.customer_id(value, field)
    text = validation.text_id(value, field)
    found = to_internal(entity, [text], get_settings().database_url)
    if text not in found:
        raise InputError(field, f"no {entity} with id {text!r}")
    return found[text]


def customer(value: Any, field: str = "customer id") -> int:
    """The internal id of a customer id the user gave (see :func:`internal`)."""
    return internal("customer", value, field)


def grid_column(entity: str, sql: sa.ColumnElement[Any]) -> grid.Column:
    """A grid's id column: a number filter for whole numbers; for text ids a text filter that the grid matches on
    the mapping's index (``grid.Column.entity``). Sorting stays on the internal id (the order of loading)."""
    return grid.Column(sql, "text", entity=entity) if is_text(entity) else grid.Column(sql, "number")


def filter_kind(entity: str, default: str = "number") -> str:
    """The ag-grid filter kind of an id column: ``text`` for text ids, else ``default``."""
    return "text" if is_text(entity) else default


def search(entity: str, prefix: str, limit: int = 30) -> list[tuple[int, str]]:
    """``(internal id, the bank's id)`` of the ``limit`` smallest text ids that start with ``prefix`` (one range of
    the mapping's unique index); empty for a bank of whole numbers."""
    if not is_text(entity):
        return []
    t = external_ids_table
    text = (prefix or "").strip()[:MAX_ID_LENGTH]
    where = [t.c.entity == entity]
    if text:  # the range walks the unique index; LIKE keeps only true prefixes under any collation
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += [
            t.c.external_id >= text,
            t.c.external_id < text + "\U0010ffff",
            t.c.external_id.like(escaped + "%", escape="\\"),
        ]
    statement = (
        sa.select(t.c.internal_id, t.c.external_id).where(*where).order_by(t.c.external_id).limit(int(limit))
    )
    from bankdata import query_records

    try:
        rows = query_records(statement, get_settings().database_url)
    except DatabaseError:
        return []
    return [(int(r["internal_id"]), str(r["external_id"])) for r in rows]
