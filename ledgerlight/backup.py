"""``ledgerlight backup`` and ``ledgerlight restore``: the database and the trained artifacts, together."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bankdata import append_audit, backup, restore
from bankdata.cli import cli_user

EXAMPLES = """\
examples:
  ledgerlight backup --out /backups/ledgerlight-2026-12-03
  ledgerlight restore /backups/ledgerlight-2026-12-03             (stop the app first)
  ledgerlight restore /backups/ledgerlight-2026-12-03 --replace   (keeps the current files aside)
"""


def _run_backup(args: argparse.Namespace) -> int:
    report = backup(args.out)
    append_audit(cli_user(), "backup", str(report.folder), report.describe("backup"))
    print(report.describe("backed up to"))
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    report = restore(args.folder, replace=args.replace)
    if report.database == "restored":  # the restored database records that it was restored
        append_audit(cli_user(), "restore", str(report.folder), report.describe("restore"))
    print(report.describe("restored from"))
    print(
        "start the app again (`ledgerlight serve` or restart the web processes): workers read the restored files"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``backup`` and ``restore`` to the ``ledgerlight`` command."""
    kw: dict[str, Any] = {"epilog": EXAMPLES, "formatter_class": argparse.RawDescriptionHelpFormatter}
    out = subparsers.add_parser(
        "backup", help="copy the database (SQLite, online) and every trained model version into a new folder",
        description="A consistent copy of the SQLite database (taken while the app serves) and of the artifact store, "
                    "with a manifest of sha256 sums and the served versions. PostgreSQL: the artifacts and the "
                    "manifest; back the database up with pg_dump (docs/deploy.md).", **kw,
    )  # fmt: skip
    out.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="a folder that does not exist yet"
    )
    out.set_defaults(func=_run_backup)
    back = subparsers.add_parser(
        "restore", help="put a backup's database and model versions back (verified first; stop the app)",
        description="Checks every file of the backup against its manifest, then restores the SQLite database and "
                    "the artifact store under the configured DATABASE_URL and LEDGERLIGHT_CHECKPOINTS.", **kw,
    )  # fmt: skip
    back.add_argument("folder", type=Path, help="a folder written by `ledgerlight backup`")
    back.add_argument(
        "--replace",
        action="store_true",
        help="replace an existing database and artifact folder (kept aside as *.before-restore-TIME)",
    )
    back.set_defaults(func=_run_restore)
