"""Server-side sessions: they end at sign-out, after the idle and absolute timeouts, and when the user's password or
role changes or the user is removed; the ``ledgerlight users`` commands that do it."""

from __future__ import annotations

import argparse
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bankdata import engine_for, open_sessions
from dashapp.auth import cli as users_cli
from dashapp.auth.sessions import now_utc, token_hash
from dashapp.auth.users import authenticate, change_password, change_role, create_user, remove_user
from tests.app.helpers import audit_rows, sign_in

PASSWORD = "session-test-password-1"


@pytest.fixture()
def person(bank_env, request) -> str:
    """A fresh marketing user for one test (its name is the test's)."""
    name = f"s{abs(hash(request.node.name)) % 10**8}"
    create_user(name, PASSWORD, "marketing", by="test")
    return name


def signed_in(dash_app, name: str, password: str = PASSWORD):
    client = dash_app.server.test_client()
    assert sign_in(client, name, password).status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    return client


def _token(client) -> str:
    with client.session_transaction() as session:
        return session["_user_id"]


def _set(client, **values) -> None:
    from bankdata._db import user_sessions_table as t

    with engine_for().begin() as conn:
        conn.execute(sa.update(t).where(t.c.token_hash == token_hash(_token(client))).values(**values))


def test_the_cookie_holds_a_random_token_and_the_database_only_its_hash(dash_app, person) -> None:
    client = signed_in(dash_app, person)
    token = _token(client)
    assert len(token) >= 40 and person not in token
    from bankdata import find_session

    row = find_session(token_hash(token))
    assert row["username"] == person and row["role"] == "marketing" and row["revoked_at"] is None
    assert find_session(token) is None  # the token itself is stored nowhere


def test_sign_out_ends_the_session_on_the_server(dash_app, person) -> None:
    client = signed_in(dash_app, person)
    token = _token(client)
    with client.session_transaction() as session:
        csrf = session["csrf_token"]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    replay = dash_app.server.test_client()
    with replay.session_transaction() as session:
        session["_user_id"] = token
    assert replay.get("/_dash-layout").status_code == 401
    assert open_sessions(person, now_utc()) == 0


def test_an_idle_session_ends(dash_app, person, monkeypatch) -> None:
    client = signed_in(dash_app, person)
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "30")
    _set(client, last_seen_at=now_utc() - timedelta(minutes=31))
    assert client.get("/_dash-layout").status_code == 401
    assert open_sessions(person, now_utc()) == 0  # revoked as idle, not merely refused


def test_a_session_in_use_is_kept_alive_until_its_absolute_end(dash_app, person) -> None:
    client = signed_in(dash_app, person)
    _set(client, last_seen_at=now_utc() - timedelta(minutes=5))
    assert client.get("/_dash-layout").status_code == 200  # used 5 minutes ago: still alive, and touched
    _set(client, expires_at=now_utc() - timedelta(seconds=1))
    assert client.get("/_dash-layout").status_code == 401


def test_a_password_change_ends_every_session_of_the_user(dash_app, person) -> None:
    first, second = signed_in(dash_app, person), signed_in(dash_app, person)
    change_password(person, "a-brand-new-password", by="admin")
    assert first.get("/_dash-layout").status_code == 401 and second.get("/_dash-layout").status_code == 401
    assert authenticate(person, PASSWORD) is None and authenticate(person, "a-brand-new-password") is not None
    assert ("change_password", f"user {person}") in audit_rows("admin")


def test_a_role_change_ends_the_session_and_the_next_one_has_the_new_role(dash_app, person) -> None:
    client = signed_in(dash_app, person)
    assert client.get("/segments").status_code == 200
    change_role(person, "risk", by="admin")
    assert client.get("/segments").status_code == 302  # signed out: to the sign-in form
    again = signed_in(dash_app, person)
    assert again.get("/segments").status_code == 403 and again.get("/risk/applicant").status_code == 200


def test_a_removed_user_is_signed_out_and_cannot_sign_in(dash_app, person) -> None:
    client = signed_in(dash_app, person)
    remove_user(person, by="admin")
    assert client.get("/_dash-layout").status_code == 401
    assert sign_in(dash_app.server.test_client(), person, PASSWORD).status_code == 401
    with pytest.raises(ValueError, match="there is no user called"):
        remove_user(person, by="admin")


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    users_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_users_cli_changes_passwords_and_roles_and_removes_users(
    dash_app, person, monkeypatch, capsys
) -> None:
    client = signed_in(dash_app, person)
    monkeypatch.setattr("sys.stdin", io.StringIO("changed-by-the-cli-1\n"))
    args = _cli(["users", "passwd", person, "--password-stdin"])
    assert args.func(args) == 0
    assert client.get("/_dash-layout").status_code == 401
    assert authenticate(person, "changed-by-the-cli-1") is not None
    args = _cli(["users", "role", person, "--role", "admin"])
    assert args.func(args) == 0 and authenticate(person, "changed-by-the-cli-1").role == "admin"
    args = _cli(["users", "delete", person])
    assert args.func(args) == 0 and authenticate(person, "changed-by-the-cli-1") is None
    out = capsys.readouterr().out
    assert f"removed {person}" in out and "changed-by-the-cli-1" not in out
    assert [a for a, _ in audit_rows("cli")[-3:]] == ["change_password", "change_role", "remove_user"]
    with pytest.raises(SystemExit):
        _cli(["users", "role", person, "--role", "boss"])
