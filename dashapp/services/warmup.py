"""Warm a worker before the first user asks: load each served model (the only large thing a worker holds) and the
small summaries the first pages read.

Called by ``gunicorn.conf.py``'s ``post_worker_init`` in a daemon thread. Each step is optional: a missing model
or database only leaves that part cold (its page then shows the usual card). Nothing here reads a bank table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("ledgerlight.warmup")


def _steps() -> list[tuple[str, Callable[[], object]]]:
    from dashapp.services import overview, recsys, risk, segments

    return [
        ("overview", overview.get_overview),
        ("risk model", risk.get_model),
        ("risk portfolio", risk.get_portfolio),
        ("segments", lambda: segments.segment_view(segments.SegmentFilter())),
        ("recsys", recsys.served),
    ]


def warm_caches() -> float:
    """Fill the per-worker caches; returns the seconds it took. Never raises for missing data or models."""
    started = time.perf_counter()
    for name, step in _steps():
        try:
            step()
        except Exception as exc:  # warming is best effort: the page shows the reason when asked
            log.info(
                "warm-up: %s stays cold (%s)",
                name,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            if name == "overview":
                break  # no database or no bank: nothing else can be shown either
    return time.perf_counter() - started
