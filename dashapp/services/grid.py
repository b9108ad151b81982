"""A dash-ag-grid infinite-row-model request (``getRowsRequest``) as SQL: a checked row range, ``ORDER BY`` and
``WHERE`` clauses on whitelisted columns, values bound as parameters.

A service names the columns a grid may filter and sort by (``{name: Column(sql, "number" | "text")}``) and gets
back clauses for its own ``SELECT``; anything else in the request is an :class:`InputError`. Two choices are the
service's: how ties are broken (:func:`order`), and whether a filter may use its column's index (:func:`filters`).
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from bankdata import external_ids_table
from dashapp.services import validation
from dashapp.services.validation import InputError

#: most rows one grid request may ask for (the grid's cache block is smaller)
MAX_PAGE = 500
NUMBER_TYPES = (
    "equals",
    "notEqual",
    "lessThan",
    "lessThanOrEqual",
    "greaterThan",
    "greaterThanOrEqual",
    "inRange",
    "blank",
    "notBlank",
)
TEXT_TYPES = ("equals", "notEqual", "contains", "notContains", "startsWith", "endsWith", "blank", "notBlank")
MAX_FILTER_TEXT = 60
_COMPARE = {
    "equals": op.eq,
    "notEqual": op.ne,
    "lessThan": op.lt,
    "lessThanOrEqual": op.le,
    "greaterThan": op.gt,
    "greaterThanOrEqual": op.ge,
}
_LIKE = {"contains": "%{}%", "notContains": "%{}%", "startsWith": "{}%", "endsWith": "%{}"}


class Column(NamedTuple):
    """A column a grid may filter and sort by.

    ``kind`` is its ag-grid filter kind, ``"number"`` or ``"text"``. Text compares case-insensitively: with
    ``case`` (text stored in one case, e.g. ``str.upper``) the filter text is put in that case and the column is
    compared as stored, so an equality can use its index; without, both sides are lower-cased.

    ``entity`` (``customer``, ``product``, ``loan``) marks an internal id column of a bank with text ids: a text
    filter then matches the bank's ids as stored in ``external_ids`` (its unique index) and keeps the rows whose
    internal id is among the matches.
    """

    sql: sa.ColumnElement[Any]
    kind: str
    case: Callable[[str], str] | None = None
    entity: str | None = None


Columns = Mapping[str, Column]


@dataclass(frozen=True)
class RowRange:
    """Rows ``start`` (first) to ``end`` (exclusive) of a grid."""

    start: int
    end: int

    @property
    def size(self) -> int:
        """How many rows."""
        return self.end - self.start


@dataclass(frozen=True)
class Sort:
    """One column of a sort model: its name and ``"asc"`` or ``"desc"``."""

    column: str
    direction: str


def row_range(start_row: Any, end_row: Any, *, max_rows: int = MAX_PAGE) -> RowRange:
    """The requested rows, checked.

    Raises
    ------
    InputError
        Not whole numbers, or not 1 to ``max_rows`` rows.
    """
    start = validation.whole_number(start_row, "start row", lo=0, hi=10**12)
    end = validation.whole_number(end_row, "end row", lo=0, hi=10**12)
    if end <= start or end - start > max_rows:
        raise InputError("row range", f"must ask for 1 to {max_rows} rows, got {start}..{end}")
    return RowRange(start, end)


def sorts(sort_model: Any, names: Collection[str], *, max_sorts: int | None = None) -> list[Sort]:
    """The columns and directions of an ag-grid sort model, checked; a repeated column counts once.

    Raises
    ------
    InputError
        Not a list of at most ``max_sorts`` (default: one per name) ``{colId, sort}`` objects on ``names``.
    """
    items = validation.items(sort_model, "sort model", max_len=len(names) if max_sorts is None else max_sorts)
    out: dict[str, Sort] = {}
    for item in items:
        item = validation.record(item, "sort", ["colId", "sort"])
        name = validation.choice(item["colId"], "sort column", list(names))
        direction = validation.choice(item["sort"], "sort direction", ("asc", "desc"))
        out.setdefault(name, Sort(name, direction))
    return list(out.values())


def order(by: Sequence[Sort], columns: Columns, key: str, *, key_follows: bool = False) -> list[Any]:
    """``ORDER BY`` the sorts, then the ``key`` column (unique: every page has one order).

    The key is ascending, or with ``key_follows`` in the first sort's direction, so that one index on
    ``(column, key)`` scanned forwards or backwards gives the order. A key already sorted on is not repeated.
    """
    direction = by[0].direction if by and key_follows else "asc"
    keys = [*by, *([] if key in {s.column for s in by} else [Sort(key, direction)])]
    return [
        columns[s.column].sql.asc() if s.direction == "asc" else columns[s.column].sql.desc() for s in keys
    ]


def filters(filter_model: Any, columns: Columns, *, use_index: bool = True) -> list[sa.ColumnElement[bool]]:
    """``WHERE`` conditions of an ag-grid filter model: one condition, or two joined by ``AND``/``OR``, a column.

    ``use_index=False`` hides the filtered columns from the query planner (``COALESCE(c, c)``), so that it walks
    the sort column's index and skips non-matches rather than sorting every match of a broad filter.

    Raises
    ------
    InputError
        An unknown column, filter kind or type, operator, or a bad value.
    """
    if filter_model is None:
        return []
    if not isinstance(filter_model, dict):
        raise InputError("filter model", "must be an object")
    out = []
    for name, spec in filter_model.items():
        name = validation.choice(name, "filter column", list(columns))
        column = columns[name]
        if not use_index:
            column = column._replace(sql=sa.func.coalesce(column.sql, column.sql))
        if isinstance(spec, dict) and "conditions" in spec:
            conditions = validation.items(spec["conditions"], f"filter of {name} conditions", max_len=2)
            operator = validation.choice(
                spec.get("operator", "AND"), f"filter of {name} operator", ("AND", "OR")
            )
            parts = [
                _condition(
                    name,
                    column,
                    {"filterType": spec.get("filterType", column.kind), **c} if isinstance(c, dict) else c,
                )
                for c in conditions
            ]
            if parts:
                out.append(sa.and_(*parts) if operator == "AND" else sa.or_(*parts))
        else:
            out.append(_condition(name, column, spec))
    return out


def _number(value: Any, field: str) -> float:
    return validation.number(value, field, lo=-1e15, hi=1e15)


def _condition(name: str, column: Column, spec: Any) -> sa.ColumnElement[bool]:
    field = f"filter of {name}"
    spec = validation.record(spec, field, ["type"])
    if spec.get("filterType", column.kind) != column.kind:
        raise InputError(field, f"must be a {column.kind} filter, got {str(spec.get('filterType'))[:20]!r}")
    types = NUMBER_TYPES if column.kind == "number" else TEXT_TYPES
    ftype = validation.choice(spec["type"], f"{field} type", types)
    sql: Any = column.sql
    if ftype == "blank":
        return sql.is_(None)
    if ftype == "notBlank":
        return sql.is_not(None)
    if column.kind == "number":
        value = _number(spec.get("filter"), field)
        if ftype == "inRange":
            high = _number(spec.get("filterTo"), field)
            return sa.and_(sql >= min(value, high), sql <= max(value, high))
        return _COMPARE[ftype](sql, value)
    needle = validation.text(spec.get("filter"), field, max_len=MAX_FILTER_TEXT)
    if column.entity is not None:
        return _through_ids(column, ftype, needle)
    if column.case is None:
        sql, needle = sa.func.lower(sql), needle.lower()
    else:
        needle = column.case(needle)
    return _text_match(sql, ftype, needle)


def _text_match(sql: Any, ftype: str, needle: str) -> sa.ColumnElement[bool]:
    if ftype in ("equals", "notEqual"):
        return _COMPARE[ftype](sql, needle)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = sql.like(_LIKE[ftype].format(escaped), escape="\\")
    return sa.not_(like) if ftype == "notContains" else like


def _through_ids(column: Column, ftype: str, needle: str) -> sa.ColumnElement[bool]:
    """A text filter on the bank's ids of an internal id column: ``id IN (the matching internal ids)`` (an equality
    is one look-up of the mapping's unique index; a pattern scans the entity's ids, never the grid's table)."""
    t = external_ids_table
    negate = {"notEqual": "equals", "notContains": "contains"}
    matched = sa.select(t.c.internal_id).where(
        t.c.entity == column.entity, _text_match(t.c.external_id, negate.get(ftype, ftype), needle)
    )
    return column.sql.not_in(matched) if ftype in negate else column.sql.in_(matched)
