"""Serving at bank scale: a worker never reads a whole table that grows with the bank.

Every page is opened through the router as every role that may open it, and every server callback is sent as the
browser sends it, while ``bankdata.read_bank`` raises and every SQL statement is recorded. Each statement that reads
a bank or serving table must be bounded: a look-up (WHERE on a key), a LIMIT, or an aggregate. A page that went
back to reading the whole bank into pandas fails here on the first request, not in production at 1M customers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from dashapp.auth.callbacks import registered_callback
from dashapp.auth.rules import is_router, may_open, page_for_path
from tests.app.helpers import CALLBACK, router
from tests.app.test_security_suite import genuine

#: tables whose size grows with the bank (bank tables and serving tables)
GROWING = (
    "customers",
    "transactions",
    "loans",
    "interactions",
    "risk_scores",
    "segment_members",
    "recommendations",
    "campaign_candidates",
)
_FROM = re.compile(r"\b(?:FROM|JOIN)\s+\"?(" + "|".join(GROWING) + r")\"?\b", re.IGNORECASE)
_BOUNDED = re.compile(
    r"\bWHERE\b.*\b(customer_id|loan_id|product_id)\b|\bLIMIT\b|\bcount\(|\bGROUP BY\b|\bmax\(|\bmin\(",
    re.IGNORECASE | re.DOTALL,
)
PAGES = (
    "/",
    "/risk",
    "/risk/applicant",
    "/segments",
    "/recommendations",
    "/customer?id={customer}",
    "/monitoring",
    "/models",
    "/admin",
    "/help",
)


@pytest.fixture()
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the test runs; ``bankdata.read_bank`` raises."""
    import bankdata

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a worker read the whole bank")

    monkeypatch.setattr(bankdata, "read_bank", refuse)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(" ".join(str(statement).split()))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def unbounded(statements: list[str]) -> list[str]:
    """The statements that read a growing table with no key look-up, no LIMIT and no aggregate."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and _FROM.search(s) and not _BOUNDED.search(s)
    ]


def test_the_checker_sees_a_whole_table_read() -> None:
    assert unbounded(["SELECT customer_id, age FROM customers ORDER BY row_no"]) == [
        "SELECT customer_id, age FROM customers ORDER BY row_no"
    ]
    assert not unbounded(
        [
            "SELECT * FROM customers WHERE customers.customer_id = ?",
            "SELECT pd FROM risk_scores WHERE model_version = ? ORDER BY pd LIMIT ? OFFSET ?",
            "SELECT segment, count(*) FROM segment_members GROUP BY segment",
            "SELECT username FROM users",
        ]
    )


def test_every_page_reads_only_what_it_shows(dash_app, trained_env, as_user, statements) -> None:
    customer = int(trained_env.bank_env.bank.loans["customer_id"].iloc[0])
    opened = 0
    for role in ("admin", "risk", "marketing"):
        client = as_user(role)
        for template in PAGES:
            path, _, search = template.format(customer=customer).partition("?")
            page = page_for_path(dash_app, path)
            if page is None or not may_open(role, page):
                continue
            response = client.post(CALLBACK, json=router(path, f"?{search}" if search else ""))
            assert response.status_code == 200, (role, path, response.get_data(as_text=True)[:300])
            opened += 1
    assert opened >= 15
    assert statements, "no SQL ran: the pages cannot have shown the bank"
    assert unbounded(statements) == []


def test_every_callback_as_the_browser_sends_it_reads_only_what_it_shows(
    dash_app, trained_env, as_user, statements
) -> None:
    client = as_user("admin")
    answered = 0
    for key, entry in dash_app.callback_map.items():
        if entry.get("callback") is None:
            continue
        cb = registered_callback({"output": key}, dash_app.callback_map)
        if is_router(cb) or entry.get("background"):
            continue
        response = client.post(CALLBACK, json=genuine(cb))
        assert response.status_code < 500, (key, response.get_data(as_text=True)[:300])
        answered += response.status_code in (200, 204)
    assert answered >= 10
    assert unbounded(statements) == []
