"""``ledgerlight recsys train`` and ``ledgerlight recsys evaluate``: the recommender's commands."""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from bankdata import ArtifactStore, Bank, generate_bank, read_bank
from recsys.batch import recommend_all
from recsys.evaluate import SPLITS, chosen_models, default_grids, default_models, evaluate_models
from recsys.interactions import read_interactions
from recsys.publishing import publish
from recsys.train import BANK_K, evaluate_bank, train_from_bank

log = logging.getLogger("ledgerlight.recsys")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``recsys train`` and ``recsys evaluate`` to the root parser."""
    recsys = subparsers.add_parser("recsys", help="product recommender: train, evaluate")
    sub = recsys.add_subparsers(dest="recsys_command", metavar="ACTION", required=True)

    train = sub.add_parser("train", help="evaluate and fit popularity, ALS and MF on the bank; save 'recsys'")
    _bank_arguments(train)
    train.add_argument("--quick", action="store_true", help="fewer iterations and epochs")
    _tune_argument(train)
    train.set_defaults(func=run_train)

    evaluate = sub.add_parser(
        "evaluate", help="hold out interactions and compare every model (JSON with --json)"
    )
    _bank_arguments(evaluate)
    evaluate.add_argument(
        "--interactions",
        type=Path,
        help="an interaction or holdings log (CSV or Parquet); ids: integers or text",
    )
    evaluate.add_argument("--user", help="user id column of --interactions")
    evaluate.add_argument(
        "--item", help="item id column of --interactions (e.g. product codes such as CC-GOLD)"
    )
    evaluate.add_argument("--weight", help="confidence column (>= 0); default: every row weighs 1")
    evaluate.add_argument("--time", help="time column (needed for --split temporal)")
    evaluate.add_argument(
        "--split",
        choices=sorted(SPLITS),
        default="random",
        help="random: a share of each user's items held out; temporal: each user's latest items "
        "(needs --time) (default random)",
    )
    evaluate.add_argument(
        "--test-fraction",
        type=float,
        default=0.25,
        metavar="F",
        help="share of each user's items held out for testing, between 0 and 1 (default 0.25)",
    )
    evaluate.add_argument(
        "--k", type=int, default=None, help=f"list length (default 10; {BANK_K} on the bank)"
    )
    evaluate.add_argument("--quick", action="store_true", help="fewer iterations and epochs")
    _tune_argument(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--recommendations", type=Path, metavar="OUT",
        help="also fit every model on the whole file and write each user's top k (CSV, or Parquet by extension)",
    )  # fmt: skip
    evaluate.set_defaults(func=run_evaluate)


def _tune_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-tune", dest="tune", action="store_false",
        help="skip choosing ALS's settings on a validation split of the training side (use the fixed defaults)",
    )  # fmt: skip


def _bank_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo-customers", type=int, metavar="N", help="use a fresh demo bank of N customers"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed of the demo bank, the split and the models (default %(default)s)",
    )


def _bank(args: argparse.Namespace) -> Bank:
    if args.demo_customers is not None:
        if args.demo_customers < 10:
            raise ValueError("--demo-customers must be at least 10")
        return generate_bank(n_customers=args.demo_customers, seed=args.seed)
    return read_bank(with_truth=True)


def run_train(args: argparse.Namespace) -> int:
    """Train on the bank, publish what the app serves (the bank in the database only) and print where it went."""
    bank = _bank(args)
    art = train_from_bank(bank, ArtifactStore(), quick=args.quick, tune=args.tune)
    metrics = art.metadata["metrics"]["models"]
    k = art.metadata["metrics"]["k"]
    for name, m in metrics.items():
        print(f"{name:>10}: nDCG@{k} {m[f'ndcg@{k}']:.3f}  P@{k} {m[f'precision@{k}']:.3f}")
    print(f"saved recsys version {art.version} to {art.path}")
    if args.demo_customers is None:  # a fresh demo bank is not the database's: nothing to serve
        written = publish(art, bank)
        print(f"published {', '.join(f'{t} ({n:,} rows)' for t, n in written.items())} and its evidence")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate every model on a file or on the bank and print the metrics."""
    if args.recommendations is not None and args.interactions is None:
        raise ValueError(
            "--recommendations needs --interactions FILE (the bank's lists are published by training)"
        )
    if args.interactions is not None:
        if not args.user or not args.item:
            raise ValueError("--interactions needs --user COL and --item COL")
        frame = read_interactions(
            args.interactions, user=args.user, item=args.item, weight=args.weight, time=args.time
        )
        k = args.k or 10
        n_items = frame["item_id"].nunique()
        report: dict[str, Any] = evaluate_models(
            frame,
            default_models(n_items, quick=args.quick),
            k=k,
            split=args.split,
            test_fraction=args.test_fraction,
            seed=args.seed,
            grids=default_grids(n_items) if args.tune else None,
        )
        report["data"] = str(args.interactions)
        if (
            args.recommendations is not None
        ):  # the settings chosen on the validation split, refitted on it all
            models = chosen_models(default_models(n_items, quick=args.quick), report["tuning"])
            lists = recommend_all(frame, models, n=k)
            written = _write_lists(
                lists.rename(columns={"user_id": args.user, "item_id": args.item}), args.recommendations
            )
            report["recommendations"] = {"path": str(written), "rows": len(lists)}
    else:
        report = evaluate_bank(
            _bank(args), quick=args.quick, k=args.k or BANK_K, seed=args.seed, tune=args.tune
        )
        report["data"] = "bank"
    if args.json:
        print(json.dumps(_finite(report)))
    else:
        _print_table(report)
        if "recommendations" in report:
            print(
                f"wrote {report['recommendations']['rows']:,} recommendations to {report['recommendations']['path']}"
            )
    return 0


def _write_lists(lists: pd.DataFrame, path: Path) -> Path:
    """Write the lists as Parquet (``.parquet``/``.pq``) or CSV, ids exactly as in the input file."""
    if path.suffix.lower() in (".parquet", ".pq"):
        lists.to_parquet(path, index=False)
    else:
        lists.to_csv(path, index=False)
    return path


def _finite(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _print_table(report: dict[str, Any]) -> None:
    rows = dict(report["models"])
    if report.get("oracle"):
        rows["oracle"] = report["oracle"]
    keys = [key for key in next(iter(rows.values())) if "@" in key or key == "coverage"]
    print(f"{'model':>10} " + " ".join(f"{key:>12}" for key in keys))
    for name, m in rows.items():
        print(f"{name:>10} " + " ".join(f"{m[key]:>12.4f}" for key in keys))
    for name, selection in (report.get("tuning") or {}).items():
        chosen = ", ".join(f"{key} {value}" for key, value in selection["chosen"].items())
        print(f"{name} settings chosen on a validation split of the training side: {chosen}")
