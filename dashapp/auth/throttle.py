"""Sign-in throttling that holds under concurrency and cannot lock somebody else out.

Attempts are counted per (user name, client address) and per client address, in the database (so every worker
agrees) and atomically (``bankdata.reserve_sign_in``): an attempt is reserved before its password is checked, so
40 simultaneous tries check at most ``SIGN_IN_MAX_FAILURES`` wrong passwords. After a few failures each further try
waits longer (1 s, 2 s, 4 s ...); at the limit the pair is refused until its window ends. Because the address is
part of the key, a stranger's failures never lock the real user out of their own address; ``ledgerlight users
unlock NAME`` clears a name's counters.

Behind a proxy, the client address is the proxy's unless ``TRUSTED_PROXY_HOPS`` tells how many proxies to trust
(``X-Forwarded-For``): set it on a PaaS, or every user shares the router's address.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import flask

from bankdata import ThrottleKey, clear_sign_in_throttle, finish_sign_in, reserve_sign_in
from dashapp.auth.config import positive_setting, whole_setting
from dashapp.auth.sessions import now_utc


@dataclass(frozen=True)
class ThrottlePolicy:
    """Limits of the sign-in throttle (from the environment, see :func:`policy_from_env`)."""

    max_failures: int = 5  # per user name and address, per window
    max_address_failures: int = 50  # per address, all user names together
    window: timedelta = timedelta(minutes=15)
    free_failures: int = 2  # failures of a pair before the delays start
    max_delay_seconds: float = 60.0

    def delay_after(self, key: ThrottleKey, failures: int) -> float:
        """Seconds a (name, address) pair must wait after its ``failures``-th failure (0, 0, 1, 2, 4 ... up to the
        maximum). An address alone gets no delay, only its limit: people behind one office address are not slowed
        down by a colleague's typos."""
        if key.username is None or failures <= self.free_failures:
            return 0.0
        return min(2.0 ** (failures - self.free_failures - 1), self.max_delay_seconds)


def policy_from_env(env: Mapping[str, str] | None = None) -> ThrottlePolicy:
    """``SIGN_IN_MAX_FAILURES`` (5), ``SIGN_IN_MAX_FAILURES_PER_ADDRESS`` (50), ``SIGN_IN_LOCKOUT_MINUTES`` (15)."""
    env = os.environ if env is None else env
    minutes = positive_setting(env, "SIGN_IN_LOCKOUT_MINUTES", 15, 24 * 60, "minutes")
    return ThrottlePolicy(
        max_failures=whole_setting(env, "SIGN_IN_MAX_FAILURES", 5),
        max_address_failures=whole_setting(env, "SIGN_IN_MAX_FAILURES_PER_ADDRESS", 50),
        window=timedelta(minutes=minutes),
    )


def trusted_proxy_hops(env: Mapping[str, str] | None = None) -> int:
    """``TRUSTED_PROXY_HOPS`` (default 0): how many proxies in front of the app may set ``X-Forwarded-For``."""
    return whole_setting(os.environ if env is None else env, "TRUSTED_PROXY_HOPS", 0, lo=0, hi=5)


def client_address() -> str:
    """The address the current request came from (after ``ProxyFix`` when proxies are trusted)."""
    return str(flask.request.remote_addr or "unknown")[:64]


def _keys(username: str, address: str, policy: ThrottlePolicy) -> list[ThrottleKey]:
    name = username[:120]
    return [
        ThrottleKey(f"{name}\n{address}", policy.max_failures, name),
        ThrottleKey(f"\n{address}", policy.max_address_failures, None),
    ]


def reserve(username: str, address: str, policy: ThrottlePolicy | None = None) -> float | None:
    """None when this attempt may check its password now, else the seconds to wait (the answer is 429)."""
    policy = policy or policy_from_env()
    return reserve_sign_in(_keys(username, address, policy), now_utc(), policy.window)


def finish(username: str, address: str, failed: bool | None, policy: ThrottlePolicy | None = None) -> None:
    """Record how a reserved attempt ended: ``True`` wrong password, ``False`` signed in, ``None`` not checked."""
    policy = policy or policy_from_env()
    finish_sign_in(_keys(username, address, policy), failed, now_utc(), policy.window, policy.delay_after)


def unlock(username: str) -> int:
    """Forget the failed sign-ins of ``username`` from every address (an admin's unlock)."""
    return clear_sign_in_throttle(username[:120])
