"""``ledgerlight serve``: run the web app under gunicorn (or Flask's dev server with ``--dev``)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from dashapp.auth.config import MIN_SECRET, is_production

APP_TARGET = "dashapp.app:server"
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
GUNICORN_CONFIG = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


def _positive_int(name: str, value: str | int, lowest: int = 1, highest: int = 10_000) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"serve: {name} must be a whole number, got {value!r}") from None
    if not lowest <= number <= highest:
        raise ValueError(f"serve: {name} must be between {lowest} and {highest}, got {number}")
    return number


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` sub-command to the ``ledgerlight`` parser."""
    env = os.environ
    parser = subparsers.add_parser(
        "serve",
        help="serve the web app (gunicorn; --dev for Flask's dev server)",
        description="Serve Ledgerlight's web app. Data and models load lazily in each worker.",
    )
    parser.add_argument(
        "--host", default=env.get("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1, or $HOST)"
    )
    parser.add_argument("--port", default=env.get("PORT", "8050"), help="port (default 8050, or $PORT)")
    parser.add_argument(
        "--workers",
        default=env.get("WEB_CONCURRENCY", "2"),
        help="gunicorn worker processes (default 2, or $WEB_CONCURRENCY)",
    )
    parser.add_argument(
        "--threads",
        default=env.get("GUNICORN_THREADS", "2"),
        help="threads per worker (default 2, or $GUNICORN_THREADS)",
    )
    parser.add_argument(
        "--dev", action="store_true", help="run Flask's development server instead (one process, no debug)"
    )
    parser.set_defaults(func=serve)


def gunicorn_argv(host: str, port: int, workers: int, threads: int) -> list[str]:
    """The gunicorn command line (no ``--preload``: each worker imports the app and loads models itself)."""
    config = ["--config", str(GUNICORN_CONFIG)] if GUNICORN_CONFIG.is_file() else []  # whatever the directory
    return [
        sys.executable,
        "-m",
        "gunicorn",
        APP_TARGET,
        *config,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "120",
        "--access-logfile",
        "-",
    ]


def server_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the server: ``base`` (default ``os.environ``) with BLAS/OpenMP pinned to one thread.

    Outside production, a missing or too short ``SECRET_KEY`` is replaced by one random key for this server run,
    which every worker inherits (a key per worker would sign a session that the other worker rejects). In production
    the key is left as it is, and the app refuses to start without a good one.
    """
    env = {**(os.environ if base is None else base), **SINGLE_THREAD_ENV}
    if len(env.get("SECRET_KEY", "")) < MIN_SECRET and not is_production(env):
        env["SECRET_KEY"] = secrets.token_hex(32)
        print(
            "serve: SECRET_KEY is not set (or shorter than 32 characters); made one for this server run "
            "(sessions end on restart)",
            file=sys.stderr,
        )
    return env


def serve(args: argparse.Namespace) -> int:
    """Validate the options, print the URL and replace this process with the server."""
    port = _positive_int("--port", args.port, 1, 65_535)
    workers = _positive_int("--workers", args.workers, 1, 64)
    threads = _positive_int("--threads", args.threads, 1, 64)
    url = f"http://{args.host}:{port}"
    if args.dev:
        os.environ.update(SINGLE_THREAD_ENV)
        print(f"Ledgerlight (development server) on {url}", flush=True)
        from dashapp.app import app  # only the dev server needs the app here

        app.run(host=args.host, port=port, debug=False)
        return 0
    print(f"Ledgerlight on {url} ({workers} workers x {threads} threads)", flush=True)
    argv = gunicorn_argv(args.host, port, workers, threads)
    os.execve(argv[0], argv, server_env())
    return 0  # not reached: execve replaces the process
