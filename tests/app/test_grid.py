"""The shared grid module turns an ag-grid ``getRowsRequest`` into SQL on whitelisted columns: checked on a small
in-memory SQLite table, against the rows expected by hand; anything outside the whitelist is an ``InputError``."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from dashapp.services import grid
from dashapp.services.validation import InputError

META = sa.MetaData()
T = sa.Table(
    "t",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("x", sa.Float),
    sa.Column("name", sa.String),
    sa.Column("band", sa.String),
    sa.Column("secret", sa.String),
)
ROWS = [  # id, x, name, band
    (1, 3.0, "Alpha", "A"),
    (2, 1.0, "beta", "B"),
    (3, 2.0, "Gamma_1", "A"),
    (4, None, "delta%", "C"),
    (5, 2.0, None, "B"),
]
COLUMNS = {
    "id": grid.Column(T.c.id, "number"),
    "x": grid.Column(T.c.x, "number"),
    "name": grid.Column(T.c.name, "text"),
    "band": grid.Column(T.c.band, "text", str.upper),
}


@pytest.fixture(scope="module")
def engine() -> sa.Engine:
    eng = sa.create_engine("sqlite://")
    META.create_all(eng)
    with eng.begin() as conn:
        conn.execute(T.insert(), [dict(zip(("id", "x", "name", "band"), r, strict=True)) for r in ROWS])
    return eng


def _ids(
    engine: sa.Engine,
    filter_model: Any = None,
    sort_model: Any = None,
    *,
    key_follows: bool = False,
    use_index: bool = True,
) -> list[int]:
    order = grid.order(grid.sorts(sort_model, COLUMNS), COLUMNS, "id", key_follows=key_follows)
    where = grid.filters(filter_model, COLUMNS, use_index=use_index)
    with engine.connect() as conn:
        return [r.id for r in conn.execute(sa.select(T.c.id).where(*where).order_by(*order))]


def test_row_range_is_checked() -> None:
    assert grid.row_range(0, 500).size == 500
    assert grid.row_range(10.0, 20) == grid.RowRange(10, 20)
    for start, end in [(0, 501), (-1, 5), (5, 5), (7, 3), ("0", 10), (0.5, 10), (0, float("inf"))]:
        with pytest.raises(InputError, match="row"):
            grid.row_range(start, end)
    with pytest.raises(InputError):
        grid.row_range(0, 11, max_rows=10)


def test_sort_then_key_ascending_or_in_the_sort_direction(engine) -> None:
    assert _ids(engine) == [1, 2, 3, 4, 5]
    assert _ids(engine, sort_model=[{"colId": "x", "sort": "desc"}]) == [
        1,
        3,
        5,
        2,
        4,
    ]  # NULL last on SQLite desc
    assert _ids(engine, sort_model=[{"colId": "x", "sort": "desc"}], key_follows=True) == [1, 5, 3, 2, 4]
    assert _ids(engine, sort_model=[{"colId": "band", "sort": "asc"}, {"colId": "x", "sort": "desc"}]) == [
        1,
        3,
        5,
        2,
        4,
    ]
    assert _ids(engine, sort_model=[{"colId": "id", "sort": "desc"}], key_follows=True) == [5, 4, 3, 2, 1]
    assert len(grid.order(grid.sorts([{"colId": "id", "sort": "desc"}] * 2, COLUMNS), COLUMNS, "id")) == 1


FILTERED = [
    ({"x": {"filterType": "number", "type": "equals", "filter": 2}}, [3, 5]),
    ({"x": {"type": "notEqual", "filter": 2}}, [1, 2]),
    ({"x": {"type": "lessThan", "filter": 2}}, [2]),
    ({"x": {"type": "lessThanOrEqual", "filter": 2}}, [2, 3, 5]),
    ({"x": {"type": "greaterThan", "filter": 2}}, [1]),
    ({"x": {"type": "greaterThanOrEqual", "filter": 2}}, [1, 3, 5]),
    ({"x": {"type": "inRange", "filter": 3, "filterTo": 1.5}}, [1, 3, 5]),
    ({"x": {"type": "blank"}}, [4]),
    ({"x": {"type": "notBlank"}}, [1, 2, 3, 5]),
    ({"name": {"filterType": "text", "type": "equals", "filter": "ALPHA"}}, [1]),  # lower-cased both sides
    ({"name": {"type": "notEqual", "filter": "alpha"}}, [2, 3, 4]),
    ({"name": {"type": "contains", "filter": "TA"}}, [2, 4]),
    ({"name": {"type": "notContains", "filter": "ta"}}, [1, 3]),
    ({"name": {"type": "startsWith", "filter": "g"}}, [3]),
    ({"name": {"type": "endsWith", "filter": "A"}}, [1, 2]),
    ({"name": {"type": "contains", "filter": "_"}}, [3]),  # LIKE wildcards match literally
    ({"name": {"type": "endsWith", "filter": "%"}}, [4]),
    ({"band": {"type": "equals", "filter": "a"}}, [1, 3]),  # stored upper: the filter text is upper-cased
    ({"band": {"type": "notEqual", "filter": "a"}}, [2, 4, 5]),
    (
        {
            "x": {
                "filterType": "number",
                "operator": "OR",
                "conditions": [{"type": "lessThan", "filter": 2}, {"type": "greaterThan", "filter": 2}],
            }
        },
        [1, 2],
    ),
    (
        {
            "x": {
                "operator": "AND",
                "conditions": [{"type": "greaterThan", "filter": 1}, {"type": "lessThan", "filter": 3}],
            }
        },
        [3, 5],
    ),
    ({"x": {"type": "greaterThan", "filter": 1}, "band": {"type": "equals", "filter": "B"}}, [5]),
    ({}, [1, 2, 3, 4, 5]),
    (None, [1, 2, 3, 4, 5]),
]


@pytest.mark.parametrize(("filter_model", "expected"), FILTERED)
def test_each_filter_kind_and_type(engine, filter_model, expected) -> None:
    assert _ids(engine, filter_model) == expected
    assert _ids(engine, filter_model, use_index=False) == expected  # hidden from the planner: same rows


def test_a_filter_hidden_from_the_planner_wraps_its_column() -> None:
    (shown,) = grid.filters({"band": {"type": "equals", "filter": "a"}}, COLUMNS)
    (hidden,) = grid.filters({"band": {"type": "equals", "filter": "a"}}, COLUMNS, use_index=False)
    assert "coalesce" not in str(shown).lower() and "coalesce(t.band, t.band)" in str(hidden).lower()
    assert shown.compile().params == {"band_1": "A"}  # bound, in the stored case


HOSTILE_SORTS = [
    "x",
    {"colId": "x"},
    [{"colId": "secret", "sort": "asc"}],
    [{"colId": "x; DROP TABLE t", "sort": "asc"}],
    [{"colId": "x", "sort": "sideways"}],
    [{"colId": "x"}],
    ["x"],
    [{"colId": "x", "sort": "asc"}] * 5,
]


@pytest.mark.parametrize("sort_model", HOSTILE_SORTS)
def test_hostile_sort_models_are_refused(sort_model) -> None:
    with pytest.raises(InputError):
        grid.sorts(sort_model, COLUMNS)


def test_max_sorts() -> None:
    two = [{"colId": "x", "sort": "asc"}, {"colId": "id", "sort": "asc"}]
    assert len(grid.sorts(two, COLUMNS)) == 2
    with pytest.raises(InputError, match="sort model"):
        grid.sorts(two, COLUMNS, max_sorts=1)


HOSTILE_FILTERS = [
    ["x"],
    "x",
    {"secret": {"filterType": "text", "type": "equals", "filter": "a"}},
    {"x": {"filterType": "number", "type": "regex", "filter": ".*"}},
    {"x": {"filterType": "text", "type": "contains", "filter": "1"}},  # wrong kind for the column
    {"name": {"filterType": "number", "type": "equals", "filter": 1}},
    {"x": {"type": "equals", "filter": "0 OR 1=1"}},
    {"x": {"type": "equals", "filter": float("nan")}},
    {"x": {"type": "equals", "filter": True}},
    {"x": {"type": "equals", "filter": 1e300}},
    {"x": {"type": "inRange", "filter": 1}},
    {"x": {"type": "equals"}},
    {"x": {"filter": 1}},
    {"x": "equals"},
    {"name": {"type": "equals", "filter": "a" * 61}},
    {"name": {"type": "equals", "filter": 3}},
    {"x": {"operator": "XOR", "conditions": []}},
    {"x": {"conditions": [{"type": "equals", "filter": 1}] * 3}},
    {"x": {"conditions": "equals"}},
    {"x": {"conditions": ["equals"]}},
]


@pytest.mark.parametrize("filter_model", HOSTILE_FILTERS)
@pytest.mark.parametrize("use_index", [True, False])
def test_hostile_filter_models_are_refused(filter_model, use_index) -> None:
    with pytest.raises(InputError):
        grid.filters(filter_model, COLUMNS, use_index=use_index)
