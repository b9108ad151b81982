"""Values from a request turned into what the services expect, or :class:`InputError` naming the field and why.

Every value a callback or a page address hands the app goes through one of these first: the request has already
been matched against the registered callback (``dashapp.auth.callbacks``), so ids and properties are the server's,
but values are whatever the client sent. An :class:`InputError` becomes a 400 answer with its message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from typing import Any

MAX_TEXT = 2_000
MAX_LIST = 1_000
MAX_ID_LENGTH = 100  # the longest text id a bank's file may hold (bankdata's validation)
_DIGITS = re.compile(r"[0-9]{1,15}")
_REQUIRED: Any = object()


class InputError(ValueError):
    """A value from the request that the app cannot use: ``field`` names it, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def number(
    value: Any, field: str, *, lo: float | None = None, hi: float | None = None, default: Any = _REQUIRED
) -> float:
    """A finite number within ``[lo, hi]``; ``None`` gives ``default`` (or an error when there is none)."""
    if value is None and default is not _REQUIRED:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, f"must be a number, got {_shown(value)}")
    if not math.isfinite(value):
        raise InputError(field, "must be a finite number")
    if lo is not None and value < lo:
        raise InputError(field, f"must be at least {lo:g}, got {value:g}")
    if hi is not None and value > hi:
        raise InputError(field, f"must be at most {hi:g}, got {value:g}")
    return float(value)


def whole_number(
    value: Any, field: str, *, lo: int | None = None, hi: int | None = None, default: Any = _REQUIRED
) -> int:
    """A whole number within ``[lo, hi]`` (``3.0`` counts, ``3.5`` and ``"3"`` do not)."""
    if value is None and default is not _REQUIRED:
        return default
    checked = number(value, field, lo=lo, hi=hi)
    if not checked.is_integer():
        raise InputError(field, f"must be a whole number, got {value:g}")
    return int(checked)


def clicks(value: Any, field: str = "clicks") -> int:
    """A button's ``n_clicks`` (None before the first click)."""
    return whole_number(value, field, lo=0, default=0)


def customer_id(value: Any, field: str = "customer id") -> int:
    """A customer id: a positive whole number, or its ASCII digits as text (as in a page address)."""
    if isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise InputError(field, f"must be a whole number of 1 to 15 digits, got {_shown(value)}")
        value = int(text)
    return whole_number(value, field, lo=1, hi=10**15)


def text_id(value: Any, field: str) -> str:
    """A bank's text id (``C-00017``): 1 to :data:`MAX_ID_LENGTH` printable characters, surrounding spaces
    dropped; a whole number is taken as its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InputError(field, f"must be an id, got {_shown(value)}")
    text = value.strip()
    if not text or len(text) > MAX_ID_LENGTH or not text.isprintable():
        raise InputError(
            field, f"must be an id of 1 to {MAX_ID_LENGTH} printable characters, got {_shown(value)}"
        )
    return text


def text(value: Any, field: str, *, max_len: int = MAX_TEXT, default: Any = _REQUIRED) -> str:
    """A string of at most ``max_len`` characters."""
    if value is None and default is not _REQUIRED:
        return default
    if not isinstance(value, str):
        raise InputError(field, f"must be text, got {_shown(value)}")
    if len(value) > max_len:
        raise InputError(field, f"must have at most {max_len} characters, got {len(value):,}")
    return value


def choice(value: Any, field: str, options: Collection[Any], *, default: Any = _REQUIRED) -> Any:
    """One of ``options`` (compared by type and value: ``1`` is not ``"1"`` and ``True`` is not ``1``)."""
    if value is None and default is not _REQUIRED:
        return default
    for option in options:
        if type(option) is type(value) and option == value:
            return option
    listed = ", ".join(str(o) for o in list(options)[:12])
    raise InputError(field, f"{_shown(value)} is not one of {listed}")


def items(value: Any, field: str, *, max_len: int = MAX_LIST) -> list[Any]:
    """A list (``None`` is the empty list) of at most ``max_len`` items."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(field, f"must be a list, got {_shown(value)}")
    if len(value) > max_len:
        raise InputError(field, f"must have at most {max_len} items, got {len(value):,}")
    return value


def choices(value: Any, field: str, options: Collection[Any]) -> tuple[Any, ...]:
    """Several of ``options`` (a list; ``None`` means none), each checked like :func:`choice`."""
    return tuple(choice(v, field, options) for v in items(value, field))


def number_range(
    value: Any, field: str, *, lo: float | None = None, hi: float | None = None
) -> tuple[float, float] | None:
    """A ``[low, high]`` pair from a range slider, ``low <= high`` (``None``: no restriction)."""
    if value is None:
        return None
    pair = items(value, field, max_len=2)
    if len(pair) != 2:
        raise InputError(field, f"must be [low, high], got {_shown(value)}")
    low, high = (number(v, field, lo=None, hi=None) for v in pair)
    if low > high:
        raise InputError(field, f"low must not exceed high, got [{low:g}, {high:g}]")
    if (lo is not None and high < lo) or (hi is not None and low > hi):
        raise InputError(field, f"[{low:g}, {high:g}] lies outside [{lo:g}, {hi:g}]")
    return low, high


def record(value: Any, field: str, keys: Sequence[str]) -> dict[str, Any]:
    """A JSON object (a grid row, a stored ticket) that has at least ``keys``."""
    if not isinstance(value, dict):
        raise InputError(field, f"must be an object, got {_shown(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise InputError(field, f"lacks {', '.join(missing)}")
    return value
