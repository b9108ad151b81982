"""``ledgerlight demo generate|extend|status|remove``, ``ledgerlight load TABLE FILE`` and ``ledgerlight load
responses FILE --campaign ID``: the data commands."""

from __future__ import annotations

import argparse
import getpass
import logging
import shutil
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from bankdata._bank import TABLES, TRUTH_TABLES, Bank
from bankdata._campaign_store import record_responses
from bankdata._config import get_settings
from bankdata._db import DatabaseError, append_audit, append_load, describe_url, table_counts, write_bank
from bankdata._extend import MAX_EXTEND_MONTHS, extend_demo_bank
from bankdata._external_ids import ENTITIES as ID_ENTITIES
from bankdata._external_ids import ENTITY_OF_COLUMN as ID_COLUMNS
from bankdata._external_ids import read_id_kinds, to_external
from bankdata._generator import generate_bank
from bankdata._identity import remove_bank
from bankdata._loaders import DEFAULT_MAX_BYTES, load_table, parse_column_map
from bankdata._responses import read_responses, store_response_purchases
from bankdata._schema import SCHEMAS, TRUTH_PREFIX
from bankdata._summary import refresh_summary

log = logging.getLogger("ledgerlight.bankdata")
RESPONSES = "responses"
"""``ledgerlight load responses FILE --campaign ID``: a campaign's take-ups, not a table of the bank."""


def _fail(message: str) -> int:
    print(f"ledgerlight: error: {message}", file=sys.stderr)
    return 2


def _demo_frames(bank: Bank) -> dict[str, object]:
    frames: dict[str, object] = {name: bank.table(name) for name in TABLES}
    if bank.truth is not None:
        frames |= {TRUTH_PREFIX + name: getattr(bank.truth, name) for name in TRUTH_TABLES}
    return frames


def write_parquet_copies(bank: Bank, folder: Path) -> list[Path]:
    """Write every table to ``folder/<table>.parquet`` (truth tables as ``truth_<name>.parquet``), replacing the folder
    as a whole: the files are written next to it first, so a failure leaves the old copies in place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        for name, df in _demo_frames(bank).items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)  # type: ignore[attr-defined]
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(folder.glob("*.parquet"))


def _held_rows(url: str) -> dict[str, int]:
    return {t: n for t, n in table_counts(url).items() if t in SCHEMAS and n}


def _run_generate(args: argparse.Namespace) -> int:
    settings = get_settings()
    url, folder = settings.database_url, settings.data_dir / "demo"
    try:
        held = {} if args.no_db else _held_rows(url)
    except DatabaseError as exc:
        return _fail(str(exc))
    if held and not args.force:
        counts = ", ".join(f"{t}: {n:,}" for t, n in held.items())
        return _fail(f"the {describe_url(url)} already holds a bank ({counts}); pass --force to replace it")
    if args.no_db and folder.exists() and any(folder.glob("*.parquet")) and not args.force:
        return _fail(f"{folder} already holds demo files; pass --force to replace them")
    steps = ["generate", "parquet"] + ([] if args.no_db else ["database"])
    started = time.perf_counter()
    with tqdm(total=len(steps), desc="demo bank", unit="step", disable=args.quiet) as bar:
        bar.set_postfix_str(f"generating {args.customers:,} customers")
        bank = generate_bank(n_customers=args.customers, seed=args.seed, months=args.months)
        log.info(
            "generated %s customers, %s transactions, %s loans",
            f"{bank.n_customers:,}",
            f"{len(bank.transactions):,}",
            f"{len(bank.loans):,}",
        )
        bar.update()
        bar.set_postfix_str(f"writing {folder}")
        write_parquet_copies(bank, folder)
        bar.update()
        if not args.no_db:
            bar.set_postfix_str("loading the database")
            try:
                write_bank(bank, url, replace=True)
            except DatabaseError as exc:
                return _fail(str(exc))
            bar.update()
    where = folder if args.no_db else f"{folder} and the {describe_url(url)}"
    print(
        f"demo bank: {bank.n_customers:,} customers (seed {args.seed}) written to {where} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _run_extend(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    if not 1 <= args.months <= MAX_EXTEND_MONTHS:
        return _fail(f"--months must lie between 1 and {MAX_EXTEND_MONTHS}, got {args.months}")
    if args.customers is not None and args.customers < 1:
        return _fail(f"--customers must be at least 1, got {args.customers}")
    try:
        ext = extend_demo_bank(args.months, customers=args.customers, seed=args.seed, url=url)
    except (ValueError, DatabaseError) as exc:
        return _fail(str(exc))
    refresh_summary(url)  # the Overview's aggregates include the new months
    append_audit(
        cli_user(),
        "extend_demo_bank",
        describe_url(url),
        f"{ext.start} to {ext.end}: {ext.customers} customers, {ext.loans} loans, seed {ext.seed}",
        url,
    )
    args.new_loans = True  # ledgerlight refreshes the risk back-test (see ledgerlight.cli)
    print(
        f"appended {ext.months} month(s), {ext.start} to {ext.end}: {ext.customers:,} new customers, "
        f"{ext.loans:,} loans ({ext.defaults:,} defaulted, true PD in truth_loan_pd; seed {ext.seed}) "
        f"to the {describe_url(url)}; refreshed the bank's summary"
    )
    return 0


def _run_remove(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    if not args.yes:
        return _fail(
            f"this deletes the demo bank from the {describe_url(url)}; run `ledgerlight demo remove --yes`"
        )
    removed = remove_bank(url)
    detail = ", ".join(f"{table} {n:,}" for table, n in removed.items() if n)
    append_audit(cli_user(), "remove_demo_bank", describe_url(url), detail, url)
    print(
        f"removed the demo bank ({detail}). Load your files with `ledgerlight load TABLE FILE`, then "
        "`ledgerlight train all`: the first versions trained on your bank are served."
    )
    return 0


def cli_user() -> str:
    """Who runs the command, for the audit log: ``cli:<operating-system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _run_status(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    try:
        counts = table_counts(url)
    except DatabaseError as exc:
        return _fail(str(exc))
    print(describe_url(url))
    if not any(counts.get(t) for t in TABLES):
        print(
            "no bank yet: run `ledgerlight demo generate` or load your files with `ledgerlight load TABLE FILE`"
        )
        return 1
    width = max(len(t) for t in counts)
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>12,} rows")
    has_truth = any(counts.get(TRUTH_PREFIX + t) for t in TRUTH_TABLES)
    print("ground truth: " + ("present (demo bank)" if has_truth else "none (your own data)"))
    print("ids: " + _id_kinds_line(url))
    return 0


def _id_kinds_line(url: str) -> str:
    """How the bank writes its ids, e.g. ``customers text (e.g. C-00017), loans text (e.g. L-9), products whole
    numbers``: the first mapped id of each text entity (one primary-key look-up)."""
    kinds = read_id_kinds(url)
    parts = []
    for entity, (table, _) in ID_ENTITIES.items():
        if kinds.get(entity) == "text":
            example = next(iter(to_external(entity, [1], url).values()), None)
            parts.append(f"{table} text" + (f" (e.g. {example})" if example else ""))
        else:
            parts.append(f"{table} whole numbers")
    return ", ".join(parts)


def _run_load_responses(args: argparse.Namespace, url: str, mapping: dict[str, str]) -> int:
    """``load responses FILE --campaign ID``: record the take-ups once and store them as purchases; audited."""
    if args.campaign is None:
        raise ValueError(
            "load responses needs --campaign ID (the campaign the customers responded to; "
            "`ledgerlight campaigns list` shows them)"
        )
    frame = read_responses(
        args.file,
        args.campaign,
        column_map=mapping,
        date_format=args.date_format,
        max_bytes=int(args.max_mb * 1e6),
        url=url,
    )
    done = record_responses(args.campaign, frame, source="file", url=url)
    purchases = store_response_purchases(args.campaign, url)
    name = Path(args.file).name
    append_audit(cli_user(), "load_responses", f"campaign {args.campaign}", f"{name}: {done.describe()}", url)
    print(f"campaign {args.campaign}, {name}: {done.describe()}")
    print(
        f"stored {purchases:,} take-up(s) as purchase interactions (`ledgerlight learn --campaign "
        f"{args.campaign}` refreshes those customers' recommendations)"
    )
    if purchases and all(table_counts(url).get(t) is not None for t in TABLES):
        refresh_summary(url)
    return 0


def _run_load(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    mapping = parse_column_map(args.map)
    if args.table == RESPONSES:
        return _run_load_responses(args, url, mapping)
    if args.campaign is not None:
        raise ValueError("--campaign goes with `ledgerlight load responses FILE --campaign ID`")
    df = load_table(
        args.file,
        args.table,
        mapping,
        max_bytes=int(args.max_mb * 1e6),
        date_format=args.date_format,
        text_ids=True,
    )
    try:
        stored = append_load(args.table, df, url, source=Path(args.file).name)
    except DatabaseError as exc:
        return _fail(str(exc))
    print(f"stored {stored:,} rows from {Path(args.file).name} in {args.table} ({describe_url(url)})")
    args.new_loans = args.table == "loans"  # ledgerlight refreshes the risk back-test (see ledgerlight.cli)
    text = [c for c in ID_COLUMNS if c in df.columns and not pd.api.types.is_integer_dtype(df[c].dtype)]
    if text:
        print(
            f"text ids in {', '.join(text)}: stored as internal numbers, mapped in external_ids (the app and the "
            "exports show your ids)"
        )
    if all(table_counts(url).get(t) is not None for t in TABLES):
        refresh_summary(url)  # the Overview's aggregates include the new rows
        print("refreshed the bank's summary (the Overview)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``demo generate``, ``demo status`` and ``load`` to the ``ledgerlight`` command."""
    demo = subparsers.add_parser("demo", help="the generated demo bank")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)

    gen = demo_sub.add_parser(
        "generate", help="generate the demo bank, write parquet copies and load the database"
    )
    gen.add_argument(
        "--customers", type=int, default=50_000, help="number of customers (default %(default)s)"
    )
    gen.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    gen.add_argument("--months", type=int, default=12, help="months of activity (default %(default)s)")
    gen.add_argument("--no-db", action="store_true", help="only write the parquet copies")
    gen.add_argument(
        "--force", action="store_true", help="replace a bank the database (or folder) already holds"
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_run_generate)

    extend = demo_sub.add_parser(
        "extend",
        help="append later months of new loans with outcomes (and true PD) to the demo bank (back-testing)",
    )
    extend.add_argument(
        "--months",
        type=int,
        required=True,
        help=f"months to append after the bank's last loan (1 to {MAX_EXTEND_MONTHS})",
    )
    extend.add_argument(
        "--customers",
        type=int,
        help="new customers borrowing in those months (default: enough for half the bank's "
        "average loans a month)",
    )
    extend.add_argument("--seed", type=int, help="seed of the new months (default: from their first month)")
    extend.set_defaults(func=_run_extend)

    status = demo_sub.add_parser("status", help="what the database holds (exit 1 when it holds no bank)")
    status.set_defaults(func=_run_status)
    remove = demo_sub.add_parser(
        "remove",
        help="delete the demo bank from the database (users, audit log and model files are kept; audited)",
    )
    remove.add_argument("--yes", action="store_true", help="confirm: the demo bank's rows are deleted")
    remove.set_defaults(func=_run_remove)

    load = subparsers.add_parser(
        "load",
        help="validate your CSV/Parquet file and append it to a table (or record a campaign's responses)",
    )
    load.add_argument(
        "table",
        choices=[*SCHEMAS, RESPONSES],
        help="the table the rows belong to, or responses (customer_id, responded_at, optional product) "
        "of a campaign",
    )
    load.add_argument("file", help="a .csv, .tsv, .txt or .parquet file")
    load.add_argument(
        "--map",
        action="append",
        metavar="SRC=DST",
        help="rename a column of the file to a table column (repeatable)",
    )
    load.add_argument(
        "--max-mb",
        type=float,
        default=DEFAULT_MAX_BYTES / 1e6,
        help="refuse larger files (default %(default).0f MB)",
    )
    load.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="how the file writes dates that are not ISO 8601, e.g. %%d/%%m/%%Y (needed when they could be read "
        "day-first or month-first)",
    )
    load.add_argument("--campaign", type=int, metavar="ID", help="with responses: the campaign they answer")
    load.set_defaults(func=_run_load)
