"""Sessions, user changes and the sign-in throttle in the database, on SQLite and PostgreSQL: revocation ends
sessions, and concurrent reservations never exceed a key's limit."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from bankdata import (
    ThrottleKey,
    add_user,
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

NOW = datetime(2026, 12, 1, 12, 0, 0)
WINDOW = timedelta(minutes=15)


def _session(url: str, token: str = "t" * 64, user: str = "ana") -> str:
    create_session(token, user, NOW, NOW + timedelta(hours=8), "10.0.0.1", url)
    return token


def test_a_session_belongs_to_a_user_with_their_current_role(url) -> None:
    add_user("ana", "hash", "risk", url)
    token = _session(url)
    row = find_session(token, url)
    assert (row["username"], row["role"], row["revoked_at"]) == ("ana", "risk", None)
    touch_session(token, NOW + timedelta(minutes=3), url)
    assert find_session(token, url)["last_seen_at"] == NOW + timedelta(minutes=3)
    assert find_session("unknown", url) is None
    assert open_sessions("ana", NOW, url) == 1


def test_revoking_ends_one_session_or_all_of_a_user(url) -> None:
    add_user("ana", "hash", "risk", url)
    one, two = _session(url, "a" * 64), _session(url, "b" * 64)
    assert revoke_sessions(now=NOW, why="sign_out", token_hash=one, url=url) == 1
    assert find_session(one, url)["revoked_at"] == NOW and find_session(two, url)["revoked_at"] is None
    assert revoke_sessions(now=NOW, why="admin", username="ana", url=url) == 1
    assert open_sessions("ana", NOW, url) == 0
    with pytest.raises(ValueError, match="exactly one"):
        revoke_sessions(now=NOW, why="x", url=url)


def test_password_role_and_removal_end_every_session(url) -> None:
    add_user("ana", "hash", "risk", url)
    _session(url, "a" * 64)
    assert set_password_hash("ana", "new-hash", NOW, url) and open_sessions("ana", NOW, url) == 0
    _session(url, "b" * 64)
    assert set_role("ana", "admin", NOW, url) and open_sessions("ana", NOW, url) == 0
    _session(url, "c" * 64)
    assert find_session("c" * 64, url)["role"] == "admin"
    assert delete_user("ana", NOW, url) and find_session("c" * 64, url) is None
    assert not set_role("ana", "risk", NOW, url) and not delete_user("ana", NOW, url)


def _keys(limit: int = 5) -> list[ThrottleKey]:
    return [ThrottleKey("ana\n10.0.0.1", limit, "ana"), ThrottleKey("\n10.0.0.1", 50, None)]


def test_failures_reach_the_limit_then_the_window_forgives_them(url) -> None:
    keys = _keys(3)
    for _ in range(3):
        assert reserve_sign_in(keys, NOW, WINDOW, url) is None
        finish_sign_in(keys, True, NOW, WINDOW, lambda k, f: 0.0, url)
    wait = reserve_sign_in(keys, NOW + timedelta(minutes=1), WINDOW, url)
    assert wait == pytest.approx(14 * 60)
    assert reserve_sign_in(keys, NOW + WINDOW, WINDOW, url) is None  # a new window


def test_a_delay_refuses_until_it_has_passed(url) -> None:
    keys = _keys()
    assert reserve_sign_in(keys, NOW, WINDOW, url) is None
    finish_sign_in(keys, True, NOW, WINDOW, lambda k, f: 8.0 if k.username else 0.0, url)
    assert reserve_sign_in(keys, NOW + timedelta(seconds=3), WINDOW, url) == pytest.approx(5.0)
    assert reserve_sign_in(keys, NOW + timedelta(seconds=9), WINDOW, url) is None


def test_a_success_or_an_unchecked_attempt_only_releases_its_place(url) -> None:
    keys = _keys(2)
    for failed in (False, None, False):
        assert reserve_sign_in(keys, NOW, WINDOW, url) is None
        finish_sign_in(keys, failed, NOW, WINDOW, lambda k, f: 0.0, url)
    assert reserve_sign_in(keys, NOW, WINDOW, url) is None and reserve_sign_in(keys, NOW, WINDOW, url) is None
    assert reserve_sign_in(keys, NOW, WINDOW, url) is not None  # two in flight: the limit of 2 is taken


def test_concurrent_reservations_never_exceed_the_limit(url) -> None:
    keys = _keys(5)
    got: list[float | None] = []
    barrier = threading.Barrier(24)

    def reserve() -> None:
        barrier.wait()
        got.append(reserve_sign_in(keys, NOW, WINDOW, url))

    threads = [threading.Thread(target=reserve) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got.count(None) == 5 and len(got) == 24


def test_an_unlock_clears_the_names_counters_only(url) -> None:
    reserve_sign_in(_keys(1), NOW, WINDOW, url)
    finish_sign_in(_keys(1), True, NOW, WINDOW, lambda k, f: 0.0, url)
    assert reserve_sign_in(_keys(1), NOW, WINDOW, url) is not None
    assert clear_sign_in_throttle("ana", url) == 1  # the address's own counter stays
    assert reserve_sign_in(_keys(1), NOW, WINDOW, url) is None
