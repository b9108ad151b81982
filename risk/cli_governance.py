"""``ledgerlight risk fairness`` and ``ledgerlight risk monitor``: governance checks of the saved risk model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from bankdata import ArtifactStore, Bank, generate_later_batch, read_bank
from risk.bankbook import loan_frame
from risk.fairness import model_fairness
from risk.loanbook import read_table
from risk.monitoring import monitor
from risk.scoring import RiskModel
from risk.training import MODEL_NAME


def register(risk_subparsers: argparse._SubParsersAction) -> None:
    """Add ``fairness`` and ``monitor`` to the ``risk`` command's sub-commands."""
    fair = risk_subparsers.add_parser(
        "fairness", help="approval, default, TPR/FPR by gender and age band at the cut-off"
    )
    fair.add_argument("--name", default=MODEL_NAME, help="model name in the store (default %(default)s)")
    fair.add_argument("--version", help="a saved version (default: LATEST)")
    fair.add_argument(
        "--data", type=Path, help="the loan book the model was trained on (default: the bank's loans)"
    )
    fair.add_argument(
        "--threshold", type=float, help="decline when PD >= this (default: the training cut-off)"
    )
    fair.add_argument("--json", action="store_true", help="print one JSON object")
    fair.set_defaults(func=run_fairness)

    mon = risk_subparsers.add_parser(
        "monitor", help="PSI and characteristic stability of a new batch against training"
    )
    mon.add_argument("--name", default=MODEL_NAME, help="model name in the store (default %(default)s)")
    mon.add_argument("--version", help="a saved version (default: LATEST)")
    mon.add_argument(
        "--data", type=Path, help="the new batch: a loan book (CSV/Parquet) with the model's columns"
    )
    mon.add_argument("--training-data", type=Path, help="the training loan book (default: the bank's loans)")
    mon.add_argument(
        "--shift",
        type=float,
        default=0.0,
        help="without --data: generate a later demo batch with this population drift (0 none, 1 strong)",
    )
    mon.add_argument(
        "--pd-shift", type=float, default=0.0, help="without --data: concept drift of the generated batch"
    )
    mon.add_argument("--batch-customers", type=int, help="without --data: customers in the generated batch")
    mon.add_argument("--seed", type=int, default=101, help="seed of the generated batch")
    mon.add_argument("--json", action="store_true", help="print one JSON object")
    mon.set_defaults(func=run_monitor)


def _bank(*, with_truth: bool = False) -> Bank:
    bank = read_bank(with_truth=with_truth)
    if bank.loans.empty:
        raise ValueError(
            "the database holds no loans: run `ledgerlight demo generate` first, or pass --data FILE"
        )
    return bank


def _print_json(obj: dict[str, Any]) -> None:
    json.dump(obj, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def run_fairness(args: argparse.Namespace) -> int:
    """Print the fairness report of the saved model (a table, or JSON with --json)."""
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise ValueError(f"--threshold must lie in [0, 1], got {args.threshold}")
    artifact = ArtifactStore().load(args.name, args.version)
    frame = read_table(args.data) if args.data is not None else loan_frame(_bank())
    report = model_fairness(artifact, frame, args.threshold)
    if args.json:
        _print_json(report)
        return 0
    print(
        f"{report['model']}/{report['version']}: {report['rows']:,} loans ({report['scores']}), "
        f"decline when PD >= {report['threshold']:.3f}"
    )
    for name, attr in report["attributes"].items():
        print(f"\n{name} (reference {attr['reference']})")
        print(
            f"{'group':10s} {'n':>7s} {'approve':>8s} {'default':>8s} {'TPR':>6s} {'FPR':>6s} {'DI':>6s} {'EO gap':>7s}"
        )
        for g in attr["groups"]:
            cells = [
                f"{g[k]:{w}.3f}" if g[k] is not None else f"{'-':>{w}s}"
                for k, w in (
                    ("approval_rate", 8),
                    ("default_rate", 8),
                    ("tpr", 6),
                    ("fpr", 6),
                    ("di_ratio", 6),
                    ("eo_gap", 7),
                )
            ]
            print(f"{g['group']:10s} {g['n']:7,d} {' '.join(cells)}{'  < 0.8' if g['flag'] else ''}")
    return 0


def _batch(args: argparse.Namespace, bank: Bank | None) -> tuple[pd.DataFrame, str]:
    if args.data is not None:
        return read_table(args.data), str(args.data)
    if bank is None:
        raise ValueError("generating a later batch needs the bank in the database; or pass --data FILE")
    if bank.truth is None:
        raise ValueError(
            "a generated later month exists for the demo bank only (it is drawn from the demo "
            "generator's ground truth, which your own data does not have); pass --data FILE, a later "
            "batch of your loans"
        )
    n = args.batch_customers or bank.n_customers
    later = generate_later_batch(
        bank, n_customers=n, seed=args.seed, shift=args.shift, pd_shift=args.pd_shift
    )
    return loan_frame(
        later
    ), f"generated later month ({n:,} customers, shift {args.shift:g}, pd_shift {args.pd_shift:g})"


def run_monitor(args: argparse.Namespace) -> int:
    """Print PSI per feature and for the score, and the alerts (PSI > 0.25)."""
    artifact = ArtifactStore().load(args.name, args.version)
    model = RiskModel.load(artifact)
    bank = (
        None
        if args.training_data is not None and args.data is not None
        else _bank(with_truth=args.data is None)
    )
    if args.training_data is not None:
        train = read_table(args.training_data)
    else:
        assert bank is not None  # read above whenever --training-data is not given
        train = loan_frame(bank)
    batch, source = _batch(args, bank)
    report = monitor(model, train, batch)
    body = {"model": artifact.model, "version": artifact.version, "batch": source, **report.to_dict()}
    if args.json:
        _print_json(body)
        return 0
    print(
        f"{artifact.model}/{artifact.version}: {report.rows[0]:,} training rows vs {report.rows[1]:,} new ({source})"
    )
    print(
        f"score PSI {report.score_psi:.3f} ({body['score']['status']}); mean PD "
        f"{report.mean_pd[0]:.2%} -> {report.mean_pd[1]:.2%}"
    )
    print(f"{'feature':24s} {'PSI':>7s} {'status':>7s} {'score shift':>12s}")
    for r in report.features.itertuples():
        print(f"{r.feature:24s} {r.psi:7.3f} {r.status:>7s} {r.score_shift:12.4f}")
    for alert in report.alerts:
        print(f"ALERT {alert}")
    return 0
