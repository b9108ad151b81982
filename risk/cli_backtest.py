"""``ledgerlight risk backtest``: the served risk version (or another) against the outcomes of later loans,
stored as evidence of that version for the Monitoring page; and the refresh that ``demo extend`` and ``load
loans`` run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bankdata import ArtifactStore, DatabaseError, bank_identity, read_tables, write_evidence
from risk.backtest import EVIDENCE_KIND, backtest_version
from risk.training import MODEL_NAME


def register(risk_subparsers: argparse._SubParsersAction) -> None:
    """Add ``backtest`` to the ``risk`` command's sub-commands."""
    bt = risk_subparsers.add_parser(
        "backtest",
        help="predicted vs realised default rate of the loans issued after training, by month and band",
    )
    bt.add_argument("--model", default=MODEL_NAME, help="model name in the store (default %(default)s)")
    bt.add_argument("--version", help="a saved version (default: the served one, LATEST)")
    bt.add_argument("--json", action="store_true", help="print one JSON object")
    bt.set_defaults(func=run_backtest)


def compute_and_store(
    model: str = MODEL_NAME, version: str | None = None, url: str | None = None
) -> dict[str, Any]:
    """Back-test a saved version on the bank's later loans and store the report as its ``backtest`` evidence.

    Raises
    ------
    ValueError
        No later loans (the message says how to get them), or a version not trained on this bank.
    """
    artifact = ArtifactStore().load(model, version)
    tables = read_tables(("loans", "customers", "truth_loan_pd"), url)
    if tables["loans"].empty:
        raise ValueError(
            "the database holds no loans: run `ledgerlight demo generate`, or load your loans with "
            "`ledgerlight load loans FILE`"
        )
    identity = bank_identity(url)
    report = backtest_version(
        artifact,
        tables["loans"],
        tables["customers"],
        truth=tables["truth_loan_pd"],
        bank_id=None if identity is None else identity.bank_id,
    )
    write_evidence(artifact.model, artifact.version, {EVIDENCE_KIND: report}, url)
    return report


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_report(report: dict[str, Any]) -> None:
    """The report as two readable tables: by band (with traffic lights), then by month."""
    o = report["overall"]
    print(
        f"{report['model']}/{report['version']} trained on {report['training_loans']:,} loans issued up to "
        f"{report['trained_through']}; back-test on {report['later_loans']:,} later loans "
        f"({report['first_month']} to {report['last_month']})"
    )
    truth = report["has_true_pd"]
    print(
        f"overall: mean PD {o['mean_pd']:.2%}, realised {o['realised']:.2%}"
        + (f", true PD {o['true_pd']:.2%}" if truth else "")
        + f", ROC-AUC {_cell(o['roc_auc'], '.3f')}, score PSI {o['psi']:.3f} ({o['psi_status']})"
    )
    print(
        f"\n{'band':4s} {'n':>7s} {'mean PD':>8s} {'realised':>8s} {'95% Jeffreys':>17s} {'p-value':>8s} "
        f"{'light':>6s}" + (f" {'true PD':>8s}" if truth else "")
    )
    for b in report["bands"]:
        interval = f"[{b['jeffreys_low']:.2%}, {b['jeffreys_high']:.2%}]"
        print(
            f"{b['band']:4s} {b['n']:7,d} {b['mean_pd']:8.2%} {b['realised']:8.2%} {interval:>17s} "
            f"{b['p_value']:8.3f} {b['light']:>6s}" + (f" {b['true_pd']:8.2%}" if truth else "")
        )
    print(
        f"\n{'month':7s} {'n':>6s} {'mean PD':>8s} {'realised':>8s} {'CIL':>7s} {'ROC-AUC':>7s} {'PSI':>6s} "
        f"{'status':>6s}" + (f" {'true PD':>8s}" if truth else "")
    )
    for m in report["months"]:
        print(
            f"{m['month']:7s} {m['n']:6,d} {m['mean_pd']:8.2%} {m['realised']:8.2%} "
            f"{m['calibration_in_the_large']:+7.2%} {_cell(m['roc_auc'], '7.3f'):>7s} {m['psi']:6.3f} "
            f"{m['psi_status']:>6s}" + (f" {m['true_pd']:8.2%}" if truth else "")
        )
    print(f"\n{report['rule']}")
    if report["skipped"]:
        print(f"{report['skipped']:,} loans added after training but issued inside its window were left out")


def run_backtest(args: argparse.Namespace) -> int:
    """Compute, store and print the back-test (a table, or JSON with --json)."""
    report = compute_and_store(args.model, args.version)
    if args.json:
        json.dump(report, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    print_report(report)
    print(
        f"stored as the {EVIDENCE_KIND} evidence of {report['model']}/{report['version']} "
        "(the Monitoring page)"
    )
    return 0


def refresh_after_new_loans() -> str:
    """Back-test the served risk version again after new loans were stored; one line saying what happened."""
    if ArtifactStore().latest(MODEL_NAME) is None:
        return (
            "no risk model is served yet: train one with `ledgerlight risk train`, then back-test it with "
            "`ledgerlight risk backtest`"
        )
    try:
        report = compute_and_store()
    except (ValueError, DatabaseError) as exc:
        return f"back-test not refreshed: {exc}"
    o = report["overall"]
    lights = ", ".join(f"{b['band']} {b['light']}" for b in report["bands"])
    return (
        f"refreshed the back-test of {report['model']}/{report['version']} (Monitoring page): "
        f"{report['later_loans']:,} later loans, mean PD {o['mean_pd']:.2%} vs realised {o['realised']:.2%}; "
        f"bands {lights}"
    )
