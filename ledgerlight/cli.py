"""``ledgerlight``: one console script; each area registers its own sub-commands."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import platform
import sys
import traceback
from collections.abc import Sequence

from bankdata import ArtifactError, DatabaseError, DataValidationError
from bankdata import cli as bankdata_cli
from campaigns import cli as campaigns_cli
from dashapp import cli as dashapp_cli
from dashapp.api import cli as apikeys_cli
from dashapp.auth import cli as users_cli
from ledgerlight import backup as backup_cli
from ledgerlight import events_worker as events_cli
from ledgerlight import learning as learning_cli
from ledgerlight import setup as setup_cli
from ledgerlight.cli_examples import add_examples
from recsys import cli as recsys_cli
from risk import cli as risk_cli
from risk import cli_backtest
from segmentation import cli as segmentation_cli

AREAS = (
    setup_cli,
    bankdata_cli,
    risk_cli,
    segmentation_cli,
    recsys_cli,
    campaigns_cli,
    dashapp_cli,
    users_cli,
    apikeys_cli,
    events_cli,
    learning_cli,
    backup_cli,
)


#: the environment variables the command and the server read, with what each sets
ENVIRONMENT = (
    ("DATABASE_URL", "the database (SQLAlchemy URL; default a SQLite file in LEDGERLIGHT_DATA_DIR)"),
    ("LEDGERLIGHT_DATA_DIR", "generated and uploaded data (default ./data)"),
    ("LEDGERLIGHT_CHECKPOINTS", "trained model versions (default ./checkpoints)"),
    ("LEDGERLIGHT_CREDIT_BLOCKED_BANDS", "risk bands never offered credit, comma separated (default E)"),
    ("LEDGERLIGHT_BANK_NAME", "the bank's name on letters to applicants"),
    ("SECRET_KEY", "signs the app's sessions: 32+ characters, required when LEDGERLIGHT_ENV=production"),
    ("LEDGERLIGHT_ENV", "production refuses to serve without SECRET_KEY"),
    ("LEDGERLIGHT_API_RATE", "calls a second of a new API key (default 20; `apikeys add --rate`)"),
    ("LEDGERLIGHT_API_BURST", "calls at once of a new API key after a pause (default 40)"),
    ("WEB_CONCURRENCY", "gunicorn workers (default 2)"),
    ("OMP_NUM_THREADS", "threads per worker for the models (set OPENBLAS_NUM_THREADS=1 too)"),
)
EXAMPLES = """\
first steps:
  ledgerlight setup                      build the demo bank and train what is missing
  ledgerlight serve                      serve the app on http://127.0.0.1:8050
  ledgerlight load loans my_loans.csv    validate and append your own file
  ledgerlight COMMAND --help             what a command does, its options and examples

setup, train and retrain:
  setup    first run: the demo bank if the database has none, then only the models that are missing
  train    train models now; each new version is a candidate (a model's first version is served at once)
  retrain  the same full retrain, and with --promote --reason TEXT the new versions are served (audited)
  learn    no retrain: fold new interactions into the served recommender (ALS and EASE rows)
  events   `events worker`: fold the API's events into the served recommender every 15 s
  promote  serve a candidate version (`ledgerlight promote MODEL VERSION --dry-run` compares it first)
"""


def _epilog() -> str:
    width = max(len(name) for name, _ in ENVIRONMENT)
    lines = [f"  {name:<{width}}  {what}" for name, what in ENVIRONMENT]
    return EXAMPLES + "\nenvironment variables:\n" + "\n".join(lines)


def version_text() -> str:
    """``ledgerlight <version> (Python <x.y.z>)``, the installed distribution's version."""
    try:
        number = importlib.metadata.version("ledgerlight")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        number = "unknown"
    return f"ledgerlight {number} (Python {platform.python_version()})"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every area's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="ledgerlight",
        description="Ledgerlight: default risk, customer segments and product recommendations for a bank.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--version", action="version", version=version_text(), help="print the version and exit"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in AREAS:
        area.register(subparsers)
    add_examples(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Sub-commands set ``func`` (a callable taking the parsed namespace and returning an exit code).
    Expected failures (bad files, missing artifacts) print one clear line to stderr and exit 2; any other error
    prints one line (the traceback only with ``-v``) and exits 1.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        code = int(args.func(args) or 0)
        if code == 0 and getattr(args, "new_loans", False):  # demo extend, load loans: outcomes to back-test
            print(cli_backtest.refresh_after_new_loans())
        return code
    except (DataValidationError, ArtifactError, DatabaseError, FileNotFoundError, ValueError) as exc:
        print(f"ledgerlight: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ledgerlight: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a defect, not bad input: one line for the user, the traceback with -v
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
        print(
            f"ledgerlight: unexpected error in `{args.command}` ({type(exc).__name__}: {exc}); "
            "run with -v for the traceback and report it",
            file=sys.stderr,
        )
        return 1
