"""What every benchmark record carries: the machine, its load when the run started, the date; and peak memory.

The benchmark scripts run as files (``python bench/bench_<area>.py``), so they import this as ``_common``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource

SHARED_MACHINE_NOTE = (
    "shared machine: wall seconds include waiting for CPU; cpu_seconds is the process's own CPU time"
)


def machine(note: str | None = SHARED_MACHINE_NOTE) -> dict:
    """Machine, load average at the start, date (and ``note`` unless None), to merge into a result record."""
    record = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }
    if note is not None:
        record["note"] = note
    record["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return record


def peak_rss_gib() -> float:
    """This process's peak resident memory so far, in GiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)
