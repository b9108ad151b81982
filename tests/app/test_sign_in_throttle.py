"""The sign-in throttle: it holds under concurrency (also across gunicorn workers), grows its delays, and a stranger's
failures never lock the real user out of their own address."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests

from dashapp.auth import throttle
from dashapp.auth.throttle import ThrottlePolicy
from dashapp.auth.users import create_user
from tests.app.helpers import audit_rows, sign_in

RIGHT = "the-right-password-1"


def client_from(dash_app, address: str):
    """A test client whose requests come from ``address``."""
    client = dash_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture()
def target(bank_env, request) -> str:
    name = f"t{abs(hash(request.node.name)) % 10**8}"
    create_user(name, RIGHT, "marketing", by="test")
    return name


@pytest.fixture()
def no_delays(monkeypatch):
    """The default limits without the growing delays (so a test can reach the lock without sleeping)."""
    monkeypatch.setattr(throttle, "policy_from_env", lambda env=None: ThrottlePolicy(free_failures=100))


def test_five_failures_lock_the_name_for_that_address_only(dash_app, target, no_delays) -> None:
    attacker = client_from(dash_app, "10.1.1.1")
    for _ in range(5):
        assert sign_in(attacker, target, "wrong-password-1").status_code == 401
    locked = sign_in(attacker, target, RIGHT)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 60
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    owner = client_from(dash_app, "10.2.2.2")
    assert sign_in(owner, target, RIGHT).status_code == 302  # the attacker cannot lock the owner out
    assert ("sign_in_throttled", "session") in audit_rows(target)


def test_a_success_does_not_forgive_failures_within_the_window(dash_app, target, no_delays) -> None:
    client = client_from(dash_app, "10.1.1.2")
    for _ in range(4):
        assert sign_in(client, target, "wrong-password-1").status_code == 401
    assert sign_in(client, target, RIGHT).status_code == 302
    fresh = client_from(dash_app, "10.1.1.2")
    assert sign_in(fresh, target, "wrong-password-1").status_code == 401
    assert sign_in(fresh, target, RIGHT).status_code == 429  # the fifth failure locked this address


def test_delays_grow_after_the_first_failures(dash_app, target) -> None:
    client = client_from(dash_app, "10.1.1.3")
    assert sign_in(client, target, "wrong-password-1").status_code == 401
    assert sign_in(client, target, "wrong-password-2").status_code == 401
    assert sign_in(client, target, "wrong-password-3").status_code == 401
    waited = sign_in(client, target, RIGHT)
    assert waited.status_code == 429 and waited.headers["Retry-After"] == "1"
    policy = ThrottlePolicy()
    from bankdata import ThrottleKey

    pair = ThrottleKey("x", 5, "x")
    assert [policy.delay_after(pair, f) for f in range(1, 7)] == [0, 0, 1, 2, 4, 8]
    assert policy.delay_after(pair, 40) == policy.max_delay_seconds
    assert policy.delay_after(ThrottleKey("\naddress", 50), 40) == 0  # an address has a limit, never a delay


def test_many_names_from_one_address_are_throttled_too(dash_app, bank_env, monkeypatch) -> None:
    monkeypatch.setattr(
        throttle,
        "policy_from_env",
        lambda env=None: ThrottlePolicy(free_failures=100, max_address_failures=6),
    )
    client = client_from(dash_app, "10.1.1.4")
    for i in range(6):
        assert sign_in(client, f"sprayed-name-{i}", "guess-password-1").status_code == 401
    assert sign_in(client, "sprayed-name-99", "guess-password-1").status_code == 429


def test_an_admin_unlock_clears_the_lock(dash_app, target, no_delays) -> None:
    client = client_from(dash_app, "10.1.1.5")
    for _ in range(5):
        sign_in(client, target, "wrong-password-1")
    assert sign_in(client, target, RIGHT).status_code == 429
    assert throttle.unlock(target) >= 1
    assert sign_in(client, target, RIGHT).status_code == 302


def test_the_window_ends_the_lock(dash_app, target, monkeypatch) -> None:
    monkeypatch.setattr(
        throttle,
        "policy_from_env",
        lambda env=None: ThrottlePolicy(free_failures=100, max_failures=2, window=timedelta(seconds=1)),
    )
    client = client_from(dash_app, "10.1.1.6")
    sign_in(client, target, "wrong-password-1")
    sign_in(client, target, "wrong-password-1")
    assert sign_in(client, target, RIGHT).status_code == 429
    import time

    time.sleep(1.2)
    assert sign_in(client, target, RIGHT).status_code == 302


@pytest.mark.slow
def test_forty_simultaneous_sign_ins_check_at_most_five_wrong_passwords_across_workers(tmp_path) -> None:
    from bench import bench_load as load
    from dashapp.auth import create_user as add

    dep = load.prepare(tmp_path / "deploy", customers=300, seed=4, train_risk=False)
    add("racer", RIGHT, "marketing", dep.database_url)
    proc = load.start_gunicorn(dep, load.free_port(), workers=2, threads=8)
    try:
        base = f"http://127.0.0.1:{proc.args[proc.args.index('--bind') + 1].split(':')[1]}"
        sessions, tokens = [], []
        for _ in range(40):
            session = requests.Session()
            page = session.get(f"{base}/login", timeout=30).text
            tokens.append(page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0])
            sessions.append(session)
        passwords = ["wrong-password-1"] * 39 + [RIGHT]
        statuses: list[int] = [0] * 40
        barrier = threading.Barrier(40)

        def attempt(i: int) -> None:
            barrier.wait()
            response = sessions[i].post(
                f"{base}/login",
                data={"username": "racer", "password": passwords[i], "csrf_token": tokens[i]},
                allow_redirects=False,
                timeout=60,
            )
            statuses[i] = response.status_code

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count(401) <= 5, statuses  # wrong passwords checked: never more than the limit
        assert statuses.count(302) <= 1, statuses
        assert set(statuses) <= {302, 401, 429}, statuses
        failed_rows = load.audit_count(dep.database_url, "sign_in_failed")
        assert failed_rows == statuses.count(401) <= 5
    finally:
        load.stop(proc)


def test_malformed_throttle_settings_stop_the_start_with_the_setting_named() -> None:
    from dashapp.auth.config import ConfigError

    for env, name in (
        ({"SIGN_IN_LOCKOUT_MINUTES": "soon"}, "SIGN_IN_LOCKOUT_MINUTES"),
        ({"SIGN_IN_MAX_FAILURES": "0"}, "SIGN_IN_MAX_FAILURES"),
    ):
        with pytest.raises(ConfigError, match=name):
            throttle.policy_from_env(env)
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
        throttle.trusted_proxy_hops({"TRUSTED_PROXY_HOPS": "many"})
    assert throttle.policy_from_env({}) == ThrottlePolicy()
