"""``ledgerlight segments train|assign|evaluate``: segment the bank in the database or the user's own transaction
log, assign the customers of a new log to the trained segments, and evaluate the segmentation on a bank."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bankdata import (
    ArtifactStore,
    Bank,
    DataValidationError,
    generate_bank,
    read_bank,
    read_tabular,
    saved_state,
)
from segmentation.artifact import assign
from segmentation.evaluate import evaluate_bank
from segmentation.features import customer_features
from segmentation.publishing import publish
from segmentation.train import train_from_bank, train_from_log

log = logging.getLogger("ledgerlight.segments")
LOG_OPTIONS = ("customer", "date", "amount")
MIN_DEMO_CUSTOMERS = 100
"""Smallest ``--demo-customers``: every candidate k needs several customers per segment."""


def _column(df: pd.DataFrame, column: str, file: str, option: str) -> pd.Series:
    if column not in df.columns:
        found = ", ".join(map(str, df.columns))
        raise DataValidationError(file, f"no column {column!r} (given by --{option}; found: {found})")
    return df[column]


def _customer_ids(ids: pd.Series) -> pd.Series:
    """Customer ids as written: whole numbers, or text codes stripped of surrounding spaces (blank = missing)."""
    if pd.api.types.is_numeric_dtype(ids) and not pd.api.types.is_bool_dtype(ids):
        return ids
    text = ids.astype("str").str.strip().where(ids.notna())
    return text.where(text != "")


def read_transaction_log(path: Path, customer: str, date: str, amount: str) -> pd.DataFrame:
    """Read a user's transaction file and map its columns to customer_id, ts, amount.

    Customer ids may be whole numbers or text (``CUST-0007``; kept as written, spaces around them removed).

    Dates written as 8 digits (``19970101``) are read as YYYYMMDD; anything else is parsed as a date.
    """
    raw = read_tabular(path)
    dates = _column(raw, date, path.name, "date")
    text = dates.astype("str").str.strip()
    compact = text.str.fullmatch(r"\d{8}").fillna(False)
    ts = pd.to_datetime(text.where(~compact), errors="coerce", format="mixed")
    if compact.any():
        ts[compact] = pd.to_datetime(text[compact], errors="coerce", format="%Y%m%d")
    bad = (ts.isna() & dates.notna()).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataValidationError(
            path.name,
            "unparsable dates (write 2024-03-31 or 20240331)",
            column=date,
            rows=[int(r) + 1 for r in rows[:5]],
            n_rows=len(rows),
        )
    return pd.DataFrame(
        {
            "customer_id": _customer_ids(_column(raw, customer, path.name, "customer")),
            "ts": ts,
            "amount": _column(raw, amount, path.name, "amount"),
        }
    )


def read_profile(path: Path, customer: str) -> pd.DataFrame:
    """Read a user's customer profile file; its ``customer`` column becomes customer_id."""
    raw = read_tabular(path)
    ids = _customer_ids(_column(raw, customer, path.name, "customer"))
    return raw.drop(columns=[customer]).assign(customer_id=ids.to_numpy())


def _check_log_options(args: argparse.Namespace) -> None:
    given = [o for o in LOG_OPTIONS if getattr(args, o) is not None]
    if args.transactions is None:
        if given or args.profile:
            raise ValueError("--customer, --date, --amount and --profile need --transactions FILE")
        return
    missing = [f"--{o} COL" for o in LOG_OPTIONS if getattr(args, o) is None]
    if missing:
        raise ValueError(f"--transactions {args.transactions} also needs {' '.join(missing)}")


def _read_user_data(args: argparse.Namespace) -> dict:
    """The user's log (and profile) as keyword arguments for ``train_from_log`` / ``customer_features``."""
    path = Path(args.transactions)
    return {
        "transactions": read_transaction_log(path, args.customer, args.date, args.amount),
        "profile": read_profile(Path(args.profile), args.customer) if args.profile else None,
        "name": path.name,
        "profile_name": Path(args.profile).name if args.profile else "profile",
    }


def _run_train(args: argparse.Namespace) -> int:
    _check_log_options(args)
    store = ArtifactStore()
    started = time.perf_counter()
    options = {"quick": args.quick, "n_clusters": args.k, "random_state": args.seed}
    if args.transactions is None:
        bank = read_bank(with_truth=True)
        artifact = train_from_bank(bank, store, **options)
        publish(artifact, bank)  # the candidate's rows, so that it can be compared and promoted
    else:
        artifact = train_from_log(store=store, **_read_user_data(args), **options)
    m = artifact.metadata["metrics"]
    summary = f"{artifact.model} {artifact.version}: k={m['k']}, {m['n_customers']:,} customers"
    if m.get("silhouette") is not None:
        summary += f", silhouette {m['silhouette']:.3f}, Davies-Bouldin {m['davies_bouldin']:.3f}"
    if "ari_personas" in m:
        summary += f", ARI vs true personas {m['ari_personas']:.3f}"
    print(f"{summary} ({time.perf_counter() - started:.1f} s)")
    print(saved_state(artifact, store.latest(artifact.model)))
    return 0


def _run_assign(args: argparse.Namespace) -> int:
    _check_log_options(args)
    if args.transactions is None:
        raise ValueError("segments assign needs --transactions FILE --customer COL --date COL --amount COL")
    artifact = ArtifactStore().load(args.model, version=args.version)
    data = _read_user_data(args)
    features = customer_features(
        data["transactions"], data["profile"], name=data["name"], profile_name=data["profile_name"]
    )
    out = assign(features, artifact)
    names = {int(r["segment"]): r["name"] for r in artifact.load_json("segments.json")}
    out.insert(2, "segment_name", out["segment"].map(names))
    out.to_csv(args.out, index=False)
    counts = out["segment_name"].value_counts()
    print(
        f"assigned {len(out):,} customers with segments {artifact.version} -> {args.out}: "
        + ", ".join(f"{n} {c:,}" for n, c in counts.items())
    )
    return 0


def _evaluation_bank(args: argparse.Namespace) -> Bank:
    if args.demo_customers is not None:
        if args.demo_customers < MIN_DEMO_CUSTOMERS:
            raise ValueError(
                f"--demo-customers must be at least {MIN_DEMO_CUSTOMERS}; got {args.demo_customers}"
            )
        return generate_bank(n_customers=args.demo_customers, seed=args.seed)
    return read_bank(with_truth=True)


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _print_evaluation(report: dict) -> None:
    print(f"{report['data']}: {report['customers']:,} customers, {report['features']} features")
    line = (
        f"k = {report['k']} ({report['k_rule']})\nK-Means: silhouette {_fmt(report['silhouette'])}, "
        f"Davies-Bouldin {_fmt(report['davies_bouldin'])}, bootstrap stability {_fmt(report['stability'])}"
    )
    if "ari_personas" in report:
        line += f", ARI vs the {report['true_personas']} true personas {report['ari_personas']:.3f}"
    print(line)
    gmm = report["comparison"]["gaussian_mixture"]
    line = (
        f"Gaussian mixture ({gmm['covariance']}, same k and features): silhouette {_fmt(gmm['silhouette'])}, "
    )
    line += f"Davies-Bouldin {_fmt(gmm['davies_bouldin'])}"
    if "ari_personas" in gmm:
        line += f", ARI vs true personas {gmm['ari_personas']:.3f}"
    print(line)
    if report["selection"]:
        print(f"{'k':>3} {'silhouette':>10} {'Davies-B.':>9} {'stability':>9} {'gap':>7} {'gap se':>7}")
        for row in report["selection"]:
            mark = "  <- chosen" if row["k"] == report["k"] else ""
            print(
                f"{row['k']:>3} {_fmt(row['silhouette']):>10} {_fmt(row['davies_bouldin']):>9} "
                f"{_fmt(row['stability']):>9} {_fmt(row.get('gap'), '.4f'):>7} {_fmt(row.get('gap_se'), '.4f'):>7}{mark}"
            )


def _run_evaluate(args: argparse.Namespace) -> int:
    bank = _evaluation_bank(args)
    started = time.perf_counter()
    report = {
        "data": f"demo bank ({args.demo_customers:,} customers, seed {args.seed})"
        if args.demo_customers is not None
        else "bank",
        **evaluate_bank(bank, quick=args.quick, random_state=args.model_seed),
    }
    report["seconds"] = round(time.perf_counter() - started, 2)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_evaluation(report)
    return 0


def _add_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transactions", metavar="FILE", help="your transaction log (.csv, .tsv, .txt, .parquet)"
    )
    parser.add_argument("--customer", metavar="COL", help="customer id column (also in --profile)")
    parser.add_argument("--date", metavar="COL", help="transaction date column")
    parser.add_argument("--amount", metavar="COL", help="amount column (>= 0)")
    parser.add_argument(
        "--profile", metavar="FILE", help="optional customer profile (age, income, tenure_months, ...)"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``segments train``, ``segments assign`` and ``segments evaluate`` to the ``ledgerlight`` command."""
    segments = subparsers.add_parser(
        "segments", help="customer segments: train on the bank or your own transactions"
    )
    sub = segments.add_subparsers(dest="segments_command", metavar="ACTION", required=True)
    train = sub.add_parser(
        "train",
        help="segment the bank in the database, or a transaction file (--transactions FILE --customer --date --amount)",
    )
    _add_log_arguments(train)
    train.add_argument(
        "--k", type=int, default=None, help="number of segments (default: chosen from the evidence)"
    )
    train.add_argument("--quick", action="store_true", help="smaller search, for smoke tests")
    train.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    train.set_defaults(func=_run_train)
    assign_cmd = sub.add_parser(
        "assign", help="assign the customers of a transaction file to the trained segments"
    )
    _add_log_arguments(assign_cmd)
    assign_cmd.add_argument(
        "--out", metavar="FILE", required=True, help="CSV to write: customer_id, segment, name, pc1, pc2"
    )
    assign_cmd.add_argument(
        "--model",
        default="segments",
        help="segments (the served model, default) or a file's evaluation, e.g. segments-cdnow",
    )
    assign_cmd.add_argument("--version", default=None, help="version of --model (default: its latest)")
    assign_cmd.set_defaults(func=_run_assign)
    evaluate = sub.add_parser(
        "evaluate",
        help="k chosen, silhouette, Davies-Bouldin, bootstrap stability and ARI against the true personas (demo bank)",
    )
    evaluate.add_argument(
        "--demo-customers",
        type=int,
        metavar="N",
        help="evaluate on a freshly generated demo bank of N customers (default: the database's bank)",
    )
    evaluate.add_argument(
        "--seed", type=int, default=42, help="demo bank seed (default %(default)s, as setup uses)"
    )
    evaluate.add_argument(
        "--model-seed",
        type=int,
        default=0,
        help="seed of the segmentation (default %(default)s, as `segments train` uses)",
    )
    evaluate.add_argument(
        "--quick", action="store_true", help="the smaller search of `segments train --quick`"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=_run_evaluate)
