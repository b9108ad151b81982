"""Security settings from the environment: the session key, cookie flags, and the HTTP headers of every response."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta

log = logging.getLogger("ledgerlight.auth")

PRODUCTION = "production"
MIN_SECRET = 32


class ConfigError(RuntimeError):
    """The server's environment is not safe to serve from (e.g. no SECRET_KEY in production)."""


def is_production(env: Mapping[str, str] | None = None) -> bool:
    """``LEDGERLIGHT_ENV=production``."""
    env = os.environ if env is None else env
    return env.get("LEDGERLIGHT_ENV", "").strip().lower() == PRODUCTION


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def secret_key(env: Mapping[str, str] | None = None) -> str:
    """``SECRET_KEY`` from the environment.

    In production (``LEDGERLIGHT_ENV=production``) a missing or short key is refused; elsewhere a random key is made
    for this process, with a warning (sessions then end when the server restarts; ``gunicorn.conf.py`` makes one key
    for all workers).
    """
    env = os.environ if env is None else env
    key = env.get("SECRET_KEY", "")
    if len(key) >= MIN_SECRET:
        return key
    if is_production(env):
        problem = "is not set" if not key else f"is too short ({len(key)} characters; at least {MIN_SECRET})"
        raise ConfigError(
            f"SECRET_KEY {problem}: refusing to start with LEDGERLIGHT_ENV=production. "
            "Set it to a long random value, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    log.warning(
        "SECRET_KEY is not set (or shorter than %d characters): using a random key for this process; "
        "sessions end when it restarts",
        MIN_SECRET,
    )
    return secrets.token_hex(32)


def _max_request_bytes(env: Mapping[str, str]) -> int:
    raw = env.get("MAX_REQUEST_BYTES", str(8 << 20))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"MAX_REQUEST_BYTES={raw!r}: expected a whole number of bytes") from None
    if value < 1024:
        raise ConfigError(f"MAX_REQUEST_BYTES={value}: expected at least 1024")
    return value


def positive_setting(env: Mapping[str, str], name: str, default: float, most: float, unit: str) -> float:
    """The number ``env[name]`` (``default`` when unset), more than 0 and at most ``most``; ``ConfigError`` else."""
    raw = env.get(name, "")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number of {unit}") from None
    if not 0 < value <= most:
        raise ConfigError(f"{name}={value:g}: expected more than 0 and at most {most:g}")
    return value


def whole_setting(env: Mapping[str, str], name: str, default: int, lo: int = 1, hi: int = 10**6) -> int:
    """The whole number ``env[name]`` (``default`` when unset) within ``[lo, hi]``; ``ConfigError`` else."""
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value}: expected {lo} to {hi}")
    return value


def absolute_timeout(env: Mapping[str, str] | None = None) -> timedelta:
    """``SESSION_HOURS`` (default 8): a session ends this long after sign-in, used or not."""
    return timedelta(
        hours=positive_setting(os.environ if env is None else env, "SESSION_HOURS", 8, 24 * 30, "hours")
    )


def idle_timeout(env: Mapping[str, str] | None = None) -> timedelta:
    """``SESSION_IDLE_MINUTES`` (default 30): a session unused this long has ended."""
    return timedelta(
        minutes=positive_setting(
            os.environ if env is None else env, "SESSION_IDLE_MINUTES", 30, 24 * 60, "minutes"
        )
    )


def flask_settings(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """Flask config: key, cookie flags (HttpOnly, SameSite=Lax, Secure in production or with SESSION_COOKIE_SECURE)."""
    env = os.environ if env is None else env
    lifetime = absolute_timeout(env)
    idle_timeout(env)  # a malformed value stops the start, not the first request
    return {
        "SECRET_KEY": secret_key(env),
        "SESSION_COOKIE_NAME": "ledgerlight_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", is_production(env)),
        "PERMANENT_SESSION_LIFETIME": lifetime,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAX_CONTENT_LENGTH": _max_request_bytes(env),
        "DEBUG": False,
        "PROPAGATE_EXCEPTIONS": False,
    }


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The CSP: everything from this server only; the app's inline scripts by hash (``"'sha256-...'"``, as
    ``dash.Dash.csp_hashes`` gives them).

    No ``'unsafe-eval'``: the charts are SVG (Plotly's WebGL traces compile shaders with ``new Function`` and are not
    used). Plotly and React set inline styles, hence ``style-src 'unsafe-inline'``. No external host appears anywhere.
    """
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


HSTS = "max-age=31536000; includeSubDomains"


def security_headers(csp: str, *, hsts: bool = False) -> dict[str, str]:
    """The headers every response carries (``Strict-Transport-Security`` too when ``hsts``: in production)."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    return headers
