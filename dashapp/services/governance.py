"""Monitoring page data: fairness of the served risk model at a cut-off and drift of a later batch, read from the
evidence that publishing wrote for that version (``risk.publish``), so the page never scores or generates anything.

Fairness is published at the training cut-off and on a grid of cut-offs (``risk.publishing.FAIRNESS_GRID``); drift
for each population shift of ``SHIFT_GRID``, each with the later month's true default rate for every concept drift
of ``PD_SHIFT_GRID``. A value between grid points is snapped to the nearest one.
"""

from __future__ import annotations

import functools
from typing import Any

import risk
from bankdata import DatabaseError, get_settings, read_evidence
from dashapp.services.bank import DataUnavailable, check_database
from dashapp.services.served import NotPublished, served_version
from risk import FAIRNESS_GRID, PD_SHIFT_GRID, SHIFT_GRID, MonitorReport, drift_key, threshold_key

SHIFT_RANGE = (min(SHIFT_GRID), max(SHIFT_GRID))
PD_SHIFT_RANGE = (min(PD_SHIFT_GRID), max(PD_SHIFT_GRID))
THRESHOLD_RANGE = (min(FAIRNESS_GRID), max(FAIRNESS_GRID))


def _evidence(kind: str) -> Any:
    """One evidence document of the served risk version; ``NotPublished`` when publishing has not written it."""
    version = served_version(risk.MODEL_NAME)
    url = check_database(get_settings().database_url)
    doc = _read_or_none(url, version, kind)
    if doc is None:
        note = _read_or_none(url, version, "fairness_note") if kind.startswith("fairness") else None
        if note is not None:  # published, but the data had no protected column to check
            raise ValueError(note)
        raise NotPublished(risk.MODEL_NAME, version, f"its {kind} evidence")
    return doc


@functools.lru_cache(maxsize=128)
def _read(url: str, version: str, kind: str) -> Any:
    try:
        doc = read_evidence(risk.MODEL_NAME, version, kind, url)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if doc is None:  # not cached: it may be published later
        raise LookupError(kind)
    return doc


def _read_or_none(url: str, version: str, kind: str) -> Any:
    try:
        return _read(url, version, kind)
    except LookupError:
        return None


def _nearest(value: float, grid: list[float]) -> float:
    return min(grid, key=lambda g: (abs(g - value), g))


def fairness_grid() -> dict[str, Any]:
    """``thresholds`` (the published cut-offs, sorted) and ``trained`` (the training cut-off, among them)."""
    return _evidence("fairness_grid")


def fairness(threshold: float | None = None) -> dict[str, Any]:
    """The fairness report (``risk.fairness.model_fairness``) at the published cut-off nearest ``threshold``
    (default: the training cut-off); its ``threshold`` says which.

    Raises ``NotTrained`` (not trained, or not published), ``DataUnavailable`` (no database) or ``ValueError``
    (a threshold outside [0, 1]).
    """
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    if threshold is None:
        return _evidence("fairness")
    grid = fairness_grid()
    return _evidence(threshold_key(_nearest(float(threshold), grid["thresholds"])))


def drift_grid() -> dict[str, Any]:
    """``shift`` and ``pd_shift`` (the published values), ``later_customers``, ``expected_loans``, ``training_loans``."""
    return _evidence("drift_grid")


def drift_unavailable() -> str | None:
    """Why the generated later month is not available (a bank of its own, without the demo's ground truth), or None."""
    return drift_grid().get("unavailable")


def drift(shift: float, pd_shift: float = 0.0) -> MonitorReport:
    """PSI and characteristic stability of the generated later month with population drift ``shift`` against the
    training loans (snapped to the published shifts). Concept drift (``pd_shift``) does not move the features, so it
    does not change the report: see :func:`true_default_rate`."""
    for name, value, (low, high) in (("shift", shift, SHIFT_RANGE), ("pd_shift", pd_shift, PD_SHIFT_RANGE)):
        if value is None or not low <= float(value) <= high:
            raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got {value!r}")
    grid = drift_grid()
    return MonitorReport.from_dict(_evidence(drift_key(_nearest(float(shift), grid["shift"]))))


def true_default_rate(shift: float, pd_shift: float) -> float | None:
    """The later month's true default rate (the generator's ground truth) at the published ``shift`` and
    ``pd_shift`` nearest the given ones; None when the bank has no ground truth."""
    grid = drift_grid()
    doc = _evidence(drift_key(_nearest(float(shift), grid["shift"])))
    rates = doc.get("true_default_rate") or {}
    key = f"{_nearest(float(pd_shift), grid['pd_shift']):.2f}"
    return rates.get(key)


def later_customers() -> int:
    """How many new customers the later month was generated for."""
    return int(drift_grid()["later_customers"])


__all__ = [
    "PD_SHIFT_RANGE",
    "SHIFT_RANGE",
    "THRESHOLD_RANGE",
    "drift",
    "drift_grid",
    "fairness",
    "fairness_grid",
    "later_customers",
    "true_default_rate",
]
