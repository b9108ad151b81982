"""A bank of whole-number ids (the demo bank): the ids service changes nothing and asks the database nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from bankdata import engine_for
from dashapp.services import ids
from dashapp.services import risk as risk_service
from dashapp.services.validation import InputError


@pytest.fixture()
def statements(bank_env):
    """The SQL statements run on the test bank's database while the test runs."""
    seen: list[str] = []
    engine = engine_for(bank_env.database_url)

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def test_whole_number_ids_pass_through_without_a_query(bank_env, statements: list[str]) -> None:
    ids.kinds()  # the kinds of the bank, read once per worker and period
    statements.clear()
    frame = pd.DataFrame({"customer_id": [3, 1, 2], "x": [0.1, 0.2, 0.3]})
    assert ids.show(frame, "customer_id", "customer") is frame
    rows = [{"customer_id": 5, "loan_id": 9}]
    assert ids.show_records(rows, "customer_id", "customer") is rows
    assert ids.shown("loan", 9) == 9 and ids.customer(17) == 17 and ids.customer_ref("17") == 17
    assert ids.grid_column("customer", risk_service.SCORES.c.customer_id).kind == "number"
    assert risk_service.filter_kinds() == risk_service.FILTERS
    assert statements == []
    with pytest.raises(InputError, match="whole number"):
        ids.customer_ref("C-00017")  # a bank of whole numbers takes no text id


def test_a_missing_database_file_is_not_created_by_asking_for_the_kinds(empty_database: str) -> None:
    from pathlib import Path

    assert ids.kinds() == {} and not ids.is_text("customer")
    assert not Path(empty_database.removeprefix("sqlite:///")).exists()
