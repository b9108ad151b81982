"""Monitoring page data: fairness of the risk model at its cut-off and drift of a later batch (PSI, stability).

Cached per model version (a promoted version is picked up without a restart). The later batch is the demo bank's
next month (``bankdata.generate_later_batch``) with the drift the user picks; it is generated, never trained on.
"""

from __future__ import annotations

import functools
from typing import Any

import risk
from bankdata import ArtifactStore, generate_later_batch, get_settings
from dashapp.services import risk as risk_service
from dashapp.services.bank import get_bank
from risk import MonitorReport, model_fairness, monitor

SHIFT_RANGE = (-1.0, 2.0)
BATCH_SEED = 101


def _key() -> tuple[str, str | None, str]:
    root = str(get_settings().checkpoints_dir)
    return root, ArtifactStore(root).latest(risk.MODEL_NAME), get_settings().database_url


def fairness(threshold: float | None = None) -> dict[str, Any]:
    """The risk model's fairness report (see ``risk.fairness.model_fairness``) at ``threshold`` (default: training's).

    Raises ``ArtifactError`` (not trained), ``DataUnavailable`` (no bank) or ``ValueError`` (bad threshold).
    """
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    return _fairness(*_key(), None if threshold is None else round(float(threshold), 4))


@functools.lru_cache(maxsize=16)
def _fairness(root: str, version: str | None, url: str, threshold: float | None) -> dict[str, Any]:
    return model_fairness(risk_service.get_artifact(), risk.loan_frame(get_bank(url)), threshold)


def drift(shift: float, pd_shift: float = 0.0) -> MonitorReport:
    """PSI and characteristic stability of a generated later month (``shift``: population drift) against training."""
    for name, value in (("shift", shift), ("pd_shift", pd_shift)):
        if value is None or not SHIFT_RANGE[0] <= float(value) <= SHIFT_RANGE[1]:
            raise ValueError(f"{name} must lie in [{SHIFT_RANGE[0]:g}, {SHIFT_RANGE[1]:g}], got {value!r}")
    return _drift(*_key(), round(float(shift), 2), round(float(pd_shift), 2))


@functools.lru_cache(maxsize=8)
def _drift(root: str, version: str | None, url: str, shift: float, pd_shift: float) -> MonitorReport:
    bank = get_bank(url)
    later = generate_later_batch(bank, n_customers=bank.n_customers, seed=BATCH_SEED, shift=shift, pd_shift=pd_shift)
    return monitor(risk_service.get_model(), risk.loan_frame(bank), risk.loan_frame(later))
