"""The audit grid pages the whole trail on the server: newest first, filtered by whitelisted columns, an exact
count only once the end is reached; only an admin may ask for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankdata import append_audit
from dashapp.services import audit
from dashapp.services.validation import InputError
from tests.app.helpers import CALLBACK, single

OUTPUT = "admin-audit.getRowsResponse"


@pytest.fixture()
def trail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str, str]]:
    """250 audit rows in a fresh database: (user, action, target), oldest first."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'audit.db'}")
    rows = [
        (("ann", "bob", "Cy")[i % 3], ("view_customer", "export")[i % 2], f"customer {i}") for i in range(250)
    ]
    for user, action, target in rows:
        append_audit(user, action, target, f"row {i}" if (i := int(target.split()[1])) % 50 == 0 else "")
    return rows


def _targets(page: list[dict]) -> list[str]:
    return [r["target"] for r in page]


def test_pages_run_newest_first_and_the_count_is_known_at_the_end(trail) -> None:
    first, count = audit.trail_page(0, 100, [], {})
    assert _targets(first) == [t for _, _, t in reversed(trail)][:100]
    assert count == audit.UNKNOWN_COUNT  # more follow; the trail is never counted
    last, count = audit.trail_page(200, 300, [], {})
    assert _targets(last) == [t for _, _, t in reversed(trail)][200:]
    assert count == 250
    assert set(first[0]) == set(audit.TRAIL_COLUMNS) and len(first[0]["ts"]) == 19  # "YYYY-MM-DD HH:MM:SS"


def test_time_ascending_gives_the_oldest_first(trail) -> None:
    page, _ = audit.trail_page(0, 5, [{"colId": "ts", "sort": "asc"}], {})
    assert _targets(page) == [t for _, _, t in trail[:5]]


def test_filters_are_applied_by_the_query_case_insensitively(trail) -> None:
    wanted = [t for u, a, t in reversed(trail) if u == "Cy" and a == "export"]
    page, count = audit.trail_page(
        0,
        100,
        [],
        {
            "user": {"filterType": "text", "type": "equals", "filter": "cy"},
            "action": {"filterType": "text", "type": "contains", "filter": "EXP"},
        },
    )
    assert _targets(page) == wanted and count == len(wanted)
    page, count = audit.trail_page(
        0, 100, [], {"detail": {"filterType": "text", "type": "startsWith", "filter": "row"}}
    )
    assert count == 5 and all(r["detail"].startswith("row") for r in page)


@pytest.mark.parametrize(
    ("sort_model", "filter_model", "field"),
    [
        ([{"colId": "user", "sort": "asc"}], {}, "sort column"),
        ([{"colId": "ts", "sort": "sideways"}], {}, "sort direction"),
        ([], {"password_hash": {"filterType": "text", "type": "equals", "filter": "x"}}, "filter column"),
        ([], {"user": {"filterType": "text", "type": "regex", "filter": ".*"}}, "type"),
    ],
)
def test_anything_outside_the_whitelist_is_refused(trail, sort_model, filter_model, field) -> None:
    with pytest.raises(InputError, match=field):
        audit.trail_page(0, 100, sort_model, filter_model)


def test_a_page_is_at_most_the_grid_maximum(trail) -> None:
    with pytest.raises(InputError, match="row range"):
        audit.trail_page(0, 10_000, [], {})


def _request(start: int, end: int) -> dict:
    """The audit grid's rows request, as the browser sends it (the block and the note beside the grid)."""
    body = single(
        OUTPUT,
        [
            (
                "admin-audit",
                "getRowsRequest",
                {"startRow": start, "endRow": end, "sortModel": [], "filterModel": {}},
            )
        ],
    )
    body["output"] = f"..{OUTPUT}...admin-audit-note.children.."
    body["outputs"] = [body["outputs"], {"id": "admin-audit-note", "property": "children"}]
    return body


def test_only_an_admin_gets_the_trail_over_http(as_user) -> None:
    admin = as_user("admin")
    admin.post(
        CALLBACK, json=_request(0, 5)
    )  # the request itself leaves no audit row: the trail does not shift
    answer = admin.post(CALLBACK, json=_request(0, 5))
    assert answer.status_code == 200
    rows = answer.get_json()["response"]["admin-audit"]["getRowsResponse"]["rowData"]
    assert 0 < len(rows) <= 5 and set(rows[0]) == set(audit.TRAIL_COLUMNS)
    for role in ("risk", "marketing"):
        assert as_user(role).post(CALLBACK, json=_request(0, 5)).status_code == 403


def test_an_unreadable_trail_says_so_beside_the_empty_grid(as_user, monkeypatch: pytest.MonkeyPatch) -> None:
    from bankdata import DatabaseError

    def unreachable(*_args: object) -> None:
        raise DatabaseError("cannot read the audit log: connection refused")

    admin = as_user("admin")
    monkeypatch.setattr(audit, "trail_page", unreachable)
    answer = admin.post(CALLBACK, json=_request(0, 5))
    assert answer.status_code == 200
    response = answer.get_json()["response"]
    assert response["admin-audit"]["getRowsResponse"] == {"rowData": [], "rowCount": 0}
    assert "connection refused" in str(response["admin-audit-note"]["children"])
