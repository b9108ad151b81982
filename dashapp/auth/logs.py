"""Structured logs: one JSON line per request (request id, user, method, path, status, duration)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "ledgerlight.access"
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", ...extra fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(body, default=str)


def access_logger() -> logging.Logger:
    """The request logger, writing JSON lines to stderr (set up once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(getattr(h, "_ledgerlight", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._ledgerlight = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def request_id(sent: str | None) -> str:
    """The caller's ``X-Request-ID`` when it looks like an id, else a fresh one."""
    return sent if sent and _SAFE_ID.fullmatch(sent) else uuid.uuid4().hex


def log_request(
    logger: logging.Logger,
    *,
    rid: str,
    user: str | None,
    method: str,
    path: str,
    status: int,
    started: float,
    **extra: Any,
) -> None:
    """Write the request's line (duration from ``started``, a ``time.perf_counter()`` value)."""
    fields = {
        "request_id": rid,
        "user": user,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        **extra,
    }
    level = logging.ERROR if status >= 500 else logging.WARNING if status in (401, 403) else logging.INFO
    logger.log(level, f"{method} {path} {status}", extra={"fields": fields})
