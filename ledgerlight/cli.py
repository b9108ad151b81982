"""``ledgerlight``: one console script; each area registers its own sub-commands."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from bankdata import ArtifactError, DatabaseError, DataValidationError
from bankdata import cli as bankdata_cli
from campaigns import cli as campaigns_cli
from dashapp import cli as dashapp_cli
from dashapp.auth import cli as users_cli
from ledgerlight import learning as learning_cli
from ledgerlight import setup as setup_cli
from recsys import cli as recsys_cli
from risk import cli as risk_cli
from risk import cli_backtest
from segmentation import cli as segmentation_cli

AREAS = (setup_cli, bankdata_cli, risk_cli, segmentation_cli, recsys_cli, campaigns_cli, dashapp_cli, users_cli, learning_cli)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every area's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="ledgerlight",
        description="Ledgerlight: default risk, customer segments and product recommendations for a bank.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in AREAS:
        area.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Sub-commands set ``func`` (a callable taking the parsed namespace and returning an exit code).
    Expected failures (bad files, missing artifacts) print one clear line to stderr and exit 2; any other error
    prints one line (the traceback only with ``-v``) and exits 1.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
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
