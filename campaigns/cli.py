"""``ledgerlight campaigns evaluate``: simulate past campaigns on the demo bank and compare rankings by Qini (the
stored campaigns' actions are in :mod:`campaigns.stored_cli`)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from bankdata import Bank, generate_bank, product_names, read_bank
from campaigns.evaluate import DEFAULT_PRODUCT, DEFAULT_REPLICATES, evaluate_campaigns
from campaigns.holdout import DEFAULT_CONTROL_SHARE, check_control_share
from campaigns.stored_cli import register as register_stored

MIN_DEMO_CUSTOMERS = 1_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``campaigns evaluate`` and the stored-campaign actions (:mod:`campaigns.stored_cli`) to the root parser."""
    campaigns = subparsers.add_parser("campaigns", help="campaigns that measure themselves: uplift and Qini")
    sub = campaigns.add_subparsers(dest="campaigns_command", metavar="ACTION", required=True)
    evaluate = sub.add_parser(
        "evaluate",
        help="simulate past campaigns on the demo bank; compare random, response and uplift rankings by Qini",
    )
    evaluate.add_argument(
        "--demo-customers", type=int, metavar="N",
        help=f"use a fresh demo bank of N customers (at least {MIN_DEMO_CUSTOMERS:,}); default: the database's "
             "demo bank",
    )  # fmt: skip
    evaluate.add_argument("--seed", type=int, default=42, help="seed of the bank and the campaigns")
    evaluate.add_argument(
        "--product", default=DEFAULT_PRODUCT, help=f"product offered (default {DEFAULT_PRODUCT!r})"
    )
    evaluate.add_argument(
        "--control-share", type=float, default=DEFAULT_CONTROL_SHARE, metavar="F",
        help="share of the evaluated campaign held out, stratified by segment (default 0.1)",
    )  # fmt: skip
    evaluate.add_argument(
        "--cost", type=float, metavar="C", help="cost of one contact: adds cost per incremental"
    )
    evaluate.add_argument(
        "--margin", type=float, metavar="M", help="margin per take-up (with --cost): adds net"
    )
    evaluate.add_argument(
        "--replicates", type=int, default=DEFAULT_REPLICATES, metavar="R",
        help=f"draw the evaluated campaign R times (new holdout and responses) and average the measured figures "
             f"(1 to 200, default {DEFAULT_REPLICATES})",
    )  # fmt: skip
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=run_evaluate)
    register_stored(sub)


def _check(args: argparse.Namespace) -> None:
    """Raise ValueError naming the first bad argument."""
    if args.demo_customers is not None and args.demo_customers < MIN_DEMO_CUSTOMERS:
        raise ValueError(
            f"--demo-customers must be at least {MIN_DEMO_CUSTOMERS:,}, got {args.demo_customers}"
        )
    if args.seed < 0:
        raise ValueError(f"--seed must be non-negative, got {args.seed}")
    if args.product not in product_names():
        raise ValueError(
            f"--product: unknown product {args.product!r}; expected one of: {', '.join(product_names())}"
        )
    try:
        check_control_share(args.control_share)
    except ValueError as exc:
        raise ValueError(f"--control-share: {exc}") from None
    for flag, value in (("--cost", args.cost), ("--margin", args.margin)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"{flag} must be a non-negative number, got {value}")
    if args.margin is not None and args.cost is None:
        raise ValueError("--margin needs --cost (the cost of one contact)")
    if not 1 <= args.replicates <= 200:
        raise ValueError(f"--replicates must be from 1 to 200, got {args.replicates}")


def _bank(args: argparse.Namespace) -> Bank:
    if args.demo_customers is not None:
        return generate_bank(n_customers=args.demo_customers, seed=args.seed)
    bank = read_bank(with_truth=True)
    if bank.truth is None:
        raise ValueError("campaigns evaluate simulates responses from the demo bank's ground truth; the database "
                         "bank has none: pass --demo-customers N")  # fmt: skip
    return bank


def run_evaluate(args: argparse.Namespace) -> int:
    """Simulate, evaluate and print the report (one JSON object with ``--json``)."""
    _check(args)
    report = evaluate_campaigns(
        _bank(args), product=args.product, control_share=args.control_share, seed=args.seed, replicates=args.replicates,
        cost_per_contact=args.cost, margin=args.margin,
    )  # fmt: skip
    if args.json:
        print(json.dumps(_finite(report)))
        return 0
    print(f"campaign on {report['product']!r}, {report['data']['later_customers']:,} customers, "
          f"{report['control_share']:.0%} held out")  # fmt: skip
    rows = [*report["models"].items(), ("oracle", report["oracle"])]
    print(f"measured figures: the mean of {report['data']['replicates']} draws of the campaign")
    print(f"{'ranking':>10}  {'Qini':>8}  {'Qini(true)':>10}  {'top10%':>7}  {'top20%':>7}  {'top30%':>7}")
    for name, m in rows:
        print(f"{name:>10}  {m['qini']:8.4f}  {m['qini_true']:10.4f}  {_pct(m['uplift_top_10'])}  "
              f"{_pct(m['uplift_top_20'])}  {_pct(m['uplift_top_30'])}")  # fmt: skip
    c = report["campaign"]
    print(f"take-up {c['takeup_treated']:.2%} treated vs {c['takeup_control']:.2%} control: uplift "
          f"{c['uplift']:+.2%} (95% CI {c['uplift_low']:+.2%} to {c['uplift_high']:+.2%})")  # fmt: skip
    for seg in report["segments"]:
        flag = "  (small group: do not read)" if seg["small"] else ""
        print(f"  {seg['segment']:>10}: {seg['n_treated']:,} treated, {seg['n_control']:,} control, uplift "
              f"{seg['uplift']:+.2%} ({seg['uplift_low']:+.2%} to {seg['uplift_high']:+.2%}){flag}")  # fmt: skip
    if "economics" in report:
        e = report["economics"]
        per = e["cost_per_incremental"]
        print(f"cost {e['cost']:,.0f}; {e['incremental']:,.0f} incremental customers; cost per incremental "
              + (f"{per:,.2f}" if per is not None else "n/a (no measured uplift)")
              + (f"; net {e['net']:,.0f}" if "net" in e else ""))  # fmt: skip
    print(report["note"])
    return 0


def _pct(value: float | None) -> str:
    return f"{'n/a':>7}" if value is None or not math.isfinite(value) else f"{value:+7.1%}"


def _finite(obj: Any) -> Any:
    """The report with every nan/inf replaced by None, so the JSON is strict."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and not isinstance(obj, str):
        return _finite(obj.item())
    return obj
