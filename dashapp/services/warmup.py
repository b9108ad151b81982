"""Warm a worker's caches before the first user asks: the bank, the Overview, then each trained model's service.

Called by ``gunicorn.conf.py``'s ``post_worker_init`` in a daemon thread. Each step is optional: a missing model
or database only leaves that cache cold (its page then shows the usual card).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("ledgerlight.warmup")


def _steps() -> list[tuple[str, Callable[[], object]]]:
    from dashapp.services import bank, overview, recsys, risk, segments

    return [("bank", bank.get_bank), ("overview", overview.get_overview), ("risk", risk.get_portfolio),
            ("segments", segments.get_segmentation), ("recsys", recsys.get_models)]


def warm_caches() -> float:
    """Fill the per-worker caches; returns the seconds it took. Never raises for missing data or models."""
    started = time.perf_counter()
    for name, step in _steps():
        try:
            step()
        except Exception as exc:  # warming is best effort: the page shows the reason when asked
            log.info("warm-up: %s stays cold (%s)", name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            if name == "bank":
                break
    return time.perf_counter() - started
