"""A progress bar over the stages of long commands (setup, train, retrain), with an estimate of the time left.

Each stage's estimate is what it took last time on this machine, scaled to the bank's size (the times are kept in
``LEDGERLIGHT_DATA_DIR/stage-timings.json``), or a default measured on the benchmark machine. The bar moves with the
clock inside a stage (up to its estimate) and jumps to the stage's end when it finishes, so the time left is always
shown, and a stage that runs long simply waits at its end. Log lines print above the bar, not through it.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from bankdata import get_settings

TIMINGS_FILE = "stage-timings.json"
#: seconds per 1,000 customers of each stage on the benchmark machine (bench/results: 2 cores), used until this
#: machine has timed the stage once
DEFAULT_SECONDS_PER_1K: dict[str, float] = {
    "demo bank": 0.05,
    "risk": 0.8,
    "segments": 0.4,
    "recsys": 0.6,
    "serving tables": 0.1,
}
FALLBACK_SECONDS_PER_1K = 0.5


def _timings_path() -> Path:
    return get_settings().data_dir / TIMINGS_FILE


def _read_timings() -> dict[str, dict[str, float]]:
    try:
        data = json.loads(_timings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def estimate_seconds(stage: str, customers: int) -> float:
    """The expected seconds of ``stage`` on a bank of ``customers``: the last run here, scaled linearly, else the
    benchmark default."""
    last = _read_timings().get(stage)
    if isinstance(last, dict) and last.get("customers", 0) > 0 and last.get("seconds", -1) >= 0:
        return float(last["seconds"]) * customers / float(last["customers"])
    return DEFAULT_SECONDS_PER_1K.get(stage, FALLBACK_SECONDS_PER_1K) * customers / 1_000


def record_seconds(stage: str, customers: int, seconds: float) -> None:
    """Remember how long ``stage`` took (best effort: a read-only data folder only loses the estimate)."""
    timings = _read_timings()
    timings[stage] = {"seconds": round(seconds, 2), "customers": int(customers)}
    path = _timings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


class StageProgress:
    """One bar over ``stages``; use :meth:`stage` around each one, in order.

    Parameters
    ----------
    stages : sequence of str
        The stages' names, as the bar shows them (and as their timings are kept).
    customers : int
        The bank's size, to scale the estimates.
    disable : bool, optional
        No bar (None: no bar unless stderr is a terminal).
    default_seconds : float, optional
        The estimate of a stage never timed here (instead of the per-customer defaults), e.g. a benchmark script.
    """

    def __init__(self, stages: Sequence[str], customers: int, *, disable: bool | None = None,
                 default_seconds: float | None = None) -> None:  # fmt: skip
        self.stages = list(stages)
        self.customers = max(int(customers), 1)
        timed = _read_timings()
        self.estimates = {
            s: max(default_seconds if default_seconds is not None and s not in timed
                   else estimate_seconds(s, self.customers), 0.5)
            for s in self.stages
        }  # fmt: skip
        self.disable = disable
        self._done = 0.0
        self._bar: tqdm | None = None

    def __enter__(self) -> StageProgress:
        self._redirect = logging_redirect_tqdm()
        self._redirect.__enter__()
        disable = self.disable if self.disable is not None else not sys.stderr.isatty()
        self._bar = tqdm(total=round(sum(self.estimates.values()), 1), unit="s", disable=disable, file=sys.stderr,
                         bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed} elapsed, about {remaining} left",
                         mininterval=0.5, ncols=min(shutil.get_terminal_size((100, 24)).columns or 100, 120))  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
        self._redirect.__exit__(*exc)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run one stage: the bar names it, moves with the clock up to its estimate, and records its time."""
        if name not in self.estimates:
            raise ValueError(f"unknown stage {name!r}; expected one of {', '.join(self.stages)}")
        bar, estimate = self._bar, self.estimates[name]
        number = self.stages.index(name) + 1
        stop = threading.Event()
        started = time.perf_counter()
        if bar is not None:
            bar.set_description_str(f"{number}/{len(self.stages)} {name}")

        def tick() -> None:
            while not stop.wait(0.5):
                if bar is not None:
                    bar.n = round(self._done + min(time.perf_counter() - started, 0.95 * estimate), 1)
                    bar.refresh()

        ticker = threading.Thread(target=tick, name="progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            seconds = time.perf_counter() - started
            self._done += estimate
            if bar is not None:
                bar.n = round(self._done, 1)
                bar.refresh()
        record_seconds(name, self.customers, seconds)
