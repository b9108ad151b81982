"""``ledgerlight events worker | status | retry``: the process that folds the API's events into the served recommender.

``worker`` runs a round every ``--interval`` seconds (``--once``: one round, then exit) until it is stopped (SIGTERM
or Ctrl-C end it between rounds): see :mod:`ledgerlight.folding` for what a round does and why it rewrites the
served version's rows rather than promoting new versions. The Procfile starts it as ``worker``; several may run,
one folds at a time.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

import recsys
from bankdata import FRESHNESS_KIND, ArtifactStore, fold_status, get_settings, read_evidence, retry_unfoldable
from ledgerlight.folding import RETRAIN_AFTER, RETRAIN_SHARE, Folder, load_served

log = logging.getLogger("ledgerlight.events")


def run_worker(folder: Folder, *, interval: float, once: bool, stop: threading.Event | None = None) -> int:
    """Run rounds until ``stop`` is set (or one round with ``once``); a failing round is logged and the next one
    runs. Returns the exit code (1 when ``once`` and its round failed)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            done = folder.run_once()
            if done.events or done.unfoldable or done.skipped or once or done.retrain_due:
                print(done.summary(), flush=True)
        except Exception as exc:  # the database away, a corrupt artifact: say so, try again next round
            log.exception("events round failed: %s", exc)
            if once:
                return 1
        if once:
            break
        stop.wait(interval)
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise ValueError("--interval must be a positive number of seconds")
    folder = Folder(
        ArtifactStore(),
        get_settings().database_url,
        batch_customers=args.batch,
        retrain_after=args.retrain_after,
        retrain_share=args.retrain_share,
        lease_seconds=max(120.0, 4 * args.interval),
    )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not args.once:
        print(
            f"events worker {folder.name}: a round every {args.interval:g} s (Ctrl-C or SIGTERM stops it)",
            flush=True,
        )
    try:
        return run_worker(folder, interval=args.interval, once=args.once, stop=stop)
    except KeyboardInterrupt:
        return 0


def _status(args: argparse.Namespace) -> int:
    store, url = ArtifactStore(), get_settings().database_url
    served = load_served(store, url)
    if served is None:
        print("no recommender is served")
        return 0
    status = fold_status(recsys.MODEL_NAME, served.version, served.trained_at, url)
    flag = read_evidence(recsys.MODEL_NAME, served.version, FRESHNESS_KIND, url) or {}
    print(
        f"recsys {served.version} (trained {served.trained_at:%Y-%m-%d %H:%M} UTC)"
        if served.trained_at
        else f"recsys {served.version}"
    )
    print(
        f"  last fold: {status.last_folded_at or 'never'}; {status.events_folded:,} event(s) folded into it"
    )
    print(f"  waiting: {status.events_waiting:,}; could not be folded: {status.events_unfoldable:,}")
    due = flag.get("retrain_due")
    print(
        f"  purchases since trained: {status.purchases_since:,}; retrain due: "
        f"{'yes' if due else 'no' if due is not None else 'not checked yet'}"
    )
    return 0


def _retry(args: argparse.Namespace) -> int:
    n = retry_unfoldable(get_settings().database_url)
    print(f"{n:,} event(s) will be tried again at the worker's next round")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``events worker``, ``events status`` and ``events retry`` to the ``ledgerlight`` command."""
    events = subparsers.add_parser(
        "events",
        help="the events worker: fold the API's events into the served recommender, and how fresh it is",
    )
    sub = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    worker = sub.add_parser(
        "worker",
        help="fold new API events into the served recommender every interval "
        "(ALS user factors and EASE rows, no retrain); flag when a retrain is due",
    )
    worker.add_argument(
        "--interval", type=float, default=15.0, metavar="S", help="seconds between rounds (default 15)"
    )
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    worker.add_argument(
        "--batch", type=int, default=500, metavar="N", help="customers folded per group (default 500)"
    )
    worker.add_argument(
        "--retrain-after",
        type=int,
        default=RETRAIN_AFTER,
        metavar="N",
        help=f"flag a full retrain after N purchases since the served version was trained "
        f"(default {RETRAIN_AFTER:,})",
    )
    worker.add_argument(
        "--retrain-share",
        type=float,
        default=RETRAIN_SHARE,
        metavar="F",
        help=f"... or after this share of its training rows, whichever comes first (default {RETRAIN_SHARE})",
    )
    worker.set_defaults(func=_run)
    status = sub.add_parser("status", help="the served recommender's last fold, events waiting, retrain flag")
    status.set_defaults(func=_status)
    retry = sub.add_parser(
        "retry", help="try the events left unfolded (with a reason) again at the next round"
    )
    retry.set_defaults(func=_retry)
