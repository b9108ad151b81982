"""``ledgerlight risk score``: score a Parquet portfolio here or on a Dask cluster (see ``docs/scaling.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bankdata import ArtifactStore
from risk.cli_decisions import add_record_argument, check_recordable, record_files
from risk.distributed import parquet_files, score_portfolio
from risk.scoring import RiskModel
from risk.training import MODEL_NAME


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``risk score`` to the ``risk`` command's sub-commands."""
    score = subparsers.add_parser(
        "score", help="score Parquet files with the trained model, locally or on a Dask cluster"
    )
    score.add_argument(
        "--data", required=True, metavar="PARQUET_GLOB", help="e.g. 'book/*.parquet' (quote it)"
    )
    score.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="a new or empty folder for part.N.parquet"
    )
    where = score.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786"
    )
    where.add_argument(
        "--local-cluster", type=int, metavar="N", help="start a Dask LocalCluster of N processes"
    )
    score.add_argument("--model", default=MODEL_NAME, help="model name in the store (default %(default)s)")
    score.add_argument("--version", help="a saved version (default: the latest)")
    score.add_argument(
        "--keep", type=_csv, metavar="COL,COL", help="columns to copy (default: every *_id column)"
    )
    add_record_argument(score)
    score.set_defaults(func=run_score)


def run_score(args: argparse.Namespace) -> int:
    """Score and print what was written."""
    artifact = ArtifactStore().load(args.model, version=args.version)
    if args.record:
        check_recordable(
            parquet_files(args.data)
        )  # before any scoring: a file without customer ids is refused
    run = score_portfolio(
        args.data,
        artifact,
        args.out,
        keep=args.keep,
        scheduler=args.scheduler,
        local_cluster=args.local_cluster,
    )
    print(
        f"scored {run.rows:,} rows in {run.partitions} partition(s) with {artifact.model}/{artifact.version} "
        f"on {run.where} in {run.seconds:.1f} s -> {args.out}"
    )
    if args.record:
        cutoff = float(artifact.load_json("report.json")["threshold"])
        recorded, declined = record_files(
            parquet_files(args.data), RiskModel.load(artifact), artifact, cutoff
        )
        print(
            f"recorded {recorded:,} decisions ({declined:,} declined at PD >= {cutoff:.3f}); "
            "check them with `ledgerlight risk decisions verify`"
        )
    return 0
