"""``ledgerlight risk train`` and ``ledgerlight risk evaluate``: the risk model's commands."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from bankdata import (
    ArtifactStore,
    Bank,
    generate_bank,
    population_of_bank,
    population_of_file,
    read_bank,
    saved_state,
)
from risk import cli_backtest, cli_decisions, cli_score
from risk.bankbook import POSITIVE, TARGET, loan_frame, true_pd
from risk.cli_governance import register as register_governance
from risk.loanbook import LoanBook, prepare_loan_book, read_loan_book
from risk.models import (
    ALL_MODELS,
    CHAMPION_MODEL,
    IMBALANCE,
    MODELS,
    TUNED_MODEL,
    candidates,
    monotone_vector,
    parse_monotone,
)
from risk.publishing import publish
from risk.training import BANK_MONOTONE, MODEL_NAME, oracle_report, save_trained, train_loan_book
from risk.tuning import ENSEMBLE, INNER_FOLDS, TIME_BUDGET, TRIALS, Tuning
from risk.validation import cross_validate

log = logging.getLogger("ledgerlight.risk")


def _at_least_one(flag: str):
    """An argparse type: a whole number >= 1, else an error naming ``flag``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag}: must be a whole number of at least 1, got {text!r}")
        return value

    return parse


def _seconds(flag: str):
    """An argparse type: a finite number of seconds above 0, else an error naming ``flag``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{flag}: must be a number of seconds above 0, got {text!r}")
        return value

    return parse


def _monotone_option(text: str) -> dict[str, int]:
    """``--monotone``: :func:`parse_monotone`, its message shown by argparse."""
    try:
        return parse_monotone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, help="a loan book (CSV or Parquet); default: the bank in the database"
    )
    parser.add_argument("--target", help="the outcome column of --data")
    parser.add_argument(
        "--positive", help="the value of --target that means default (optional for 0/1 targets)"
    )
    parser.add_argument("--drop", type=_csv, default=(), metavar="COL,COL", help="columns to leave out")
    parser.add_argument(
        "--protected", type=_csv, default=(), metavar="COL,COL",
        help="more protected attributes to keep out of the features (age, gender, sex, marital status... always are)",
    )  # fmt: skip
    parser.add_argument(
        "--demo-customers",
        type=int,
        metavar="N",
        help="use a freshly generated demo bank of N customers instead",
    )
    parser.add_argument(
        "--models", type=_csv, default=MODELS, metavar="M,M", help=f"from {', '.join(ALL_MODELS)}"
    )
    parser.add_argument(
        "--imbalance", type=_csv, default=IMBALANCE, metavar="I,I", help=f"from {', '.join(IMBALANCE)}"
    )
    parser.add_argument(
        "--cost-missed-default", type=float, default=5.0, help="cost of approving a loan that defaults"
    )
    parser.add_argument(
        "--cost-rejected-good", type=float, default=1.0, help="cost of declining a loan that repays"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the folds, the split and the models (default %(default)s): same seed, same result",
    )
    parser.add_argument(
        "--tune", action=argparse.BooleanOptionalAction, default=False,
        help=f"also compare {TUNED_MODEL}: hyperparameters searched inside each fit's own rows (train: it is the "
        "champion family)",
    )  # fmt: skip
    parser.add_argument(
        "--time-budget", type=_seconds("--time-budget"), default=TIME_BUDGET, metavar="SECONDS",
        help=f"safety cap on the search seconds per fit of {TUNED_MODEL} (each fold and the final fit; default "
        f"{TIME_BUDGET:g}); --trials normally ends the search",
    )  # fmt: skip
    parser.add_argument(
        "--trials",
        type=_at_least_one("--trials"),
        default=TRIALS,
        help=f"parameter sets tried per fit (default {TRIALS})",
    )
    parser.add_argument(
        "--ensemble", type=_at_least_one("--ensemble"), default=ENSEMBLE,
        help=f"best parameter sets refitted and averaged into the tuned booster (default {ENSEMBLE})",
    )  # fmt: skip
    parser.add_argument(
        "--monotone", type=_monotone_option, default=None, metavar="F=+1,F=-1",
        help="monotone constraints on LightGBM: +1 the PD never falls as F rises, -1 never rises (default on the "
        f"bank: {','.join(f'{k}={v:+d}' for k, v in BANK_MONOTONE.items())}; on --data: none; '' for none)",
    )  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``risk train`` and ``risk evaluate`` to the root parser."""
    risk = subparsers.add_parser("risk", help="loan-default model: train, evaluate")
    sub = risk.add_subparsers(dest="risk_command", metavar="ACTION", required=True)

    train = sub.add_parser(
        "train", help="train the calibrated LightGBM champion and save it to the artifact store"
    )
    _add_data_arguments(train)
    train.add_argument("--quick", action="store_true", help="3 folds and small models")
    train.add_argument(
        "--name", help=f"model name in the store (default {MODEL_NAME!r}, or 'risk-FILE' for --data)"
    )
    train.set_defaults(func=run_train)

    evaluate = sub.add_parser(
        "evaluate", help="stratified k-fold evaluation of every model and imbalance treatment"
    )
    _add_data_arguments(evaluate)
    evaluate.add_argument(
        "--folds",
        type=int,
        default=5,
        help="stratified folds; each loan is scored once, by a model that never saw it (default 5)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=run_evaluate)
    cli_score.register(sub)
    register_governance(sub)  # risk fairness, risk monitor
    cli_decisions.register(sub)  # risk decisions list|verify, risk notice
    cli_backtest.register(sub)  # risk backtest


def _load_book(args: argparse.Namespace) -> tuple[LoanBook, Any]:
    """The loan book named by the arguments, and the ground-truth PD where the demo bank provides it."""
    book, truth, _bank = _load_book_and_bank(args)
    return book, truth


def _load_book_and_bank(args: argparse.Namespace) -> tuple[LoanBook, Any, Bank | None]:
    """:func:`_load_book` and the bank it came from (None for ``--data``)."""
    if args.data is not None:
        if not args.target:
            raise ValueError("--data needs --target COLUMN (the outcome column)")
        return read_loan_book(
            args.data, args.target, args.positive, drop=args.drop, protected=args.protected
        ), None, None  # fmt: skip
    if args.target or args.positive:
        raise ValueError("--target/--positive apply to --data FILE only")
    bank: Bank = (
        generate_bank(n_customers=args.demo_customers, seed=args.seed)
        if args.demo_customers
        else read_bank(with_truth=True)
    )
    if bank.loans.empty:
        raise ValueError(
            "the database holds no loans: run `ledgerlight demo generate` first, or pass --data FILE"
        )
    frame = loan_frame(bank)
    book = prepare_loan_book(
        frame, TARGET, POSITIVE, source="bank loans", drop=args.drop, protected=args.protected
    )
    return book, true_pd(bank, frame["loan_id"]), bank


def run_train(args: argparse.Namespace) -> int:
    """Train, save, print where the artifact went and the champion's cross-validated figures."""
    book, truth, bank = _load_book_and_bank(args)
    trained = train_loan_book(
        book, quick=args.quick, models=args.models, imbalance=args.imbalance, truth=truth, seed=args.seed,
        cost_missed_default=args.cost_missed_default, cost_rejected_good=args.cost_rejected_good, tune=args.tune,
        tuning=_tuning(args), monotone=_monotone(args),
    )  # fmt: skip
    if args.data is not None:
        name, population = args.name or f"risk-{args.data.stem}", population_of_file(args.data.name, len(book.y))  # fmt: skip
    else:
        name = args.name or (f"risk-demo-{args.demo_customers}" if args.demo_customers else MODEL_NAME)
        population = population_of_bank(bank)
    artifact = save_trained(trained, ArtifactStore(), name, population=population)
    print(trained.report["cv_note"])
    if name == MODEL_NAME and population["kind"] == "bank" and bank is not None:
        written = publish(artifact, bank)
        print(f"published {', '.join(f'{t} ({n:,} rows)' for t, n in written.items())} and its evidence")
    champ = trained.report["candidates"][trained.champion]
    print(
        f"saved {artifact.model}/{artifact.version}: {trained.champion}, calibrated ({trained.report['calibration']}), "
        f"out-of-fold ROC-AUC {champ['roc_auc']['mean']:.3f} +- {champ['roc_auc']['std']:.3f}, "
        f"PR-AUC {champ['pr_auc']['mean']:.3f}, Brier {champ['brier']['mean']:.4f}"
    )
    if "oracle" in trained.report:
        o = trained.report["oracle"]
        print(f"oracle ROC-AUC {o['oracle_roc_auc']:.3f}; the model reaches {o['ratio']:.1%} of it")
    print(saved_state(artifact, ArtifactStore().latest(name)))
    return 0


def _tuning(args: argparse.Namespace) -> Tuning:
    return Tuning(
        time_budget=args.time_budget, trials=args.trials, inner_folds=INNER_FOLDS,
        ensemble=getattr(args, "ensemble", ENSEMBLE),
    )  # fmt: skip


def _monotone(args: argparse.Namespace) -> dict[str, int]:
    """The declared constraints; the bank's by default when the data is the bank."""
    if args.monotone is not None:
        return args.monotone
    return {} if args.data is not None else dict(BANK_MONOTONE)


def tuned_vs_untuned(summary: dict[str, Any], search: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per imbalance treatment evaluated both ways: untuned and tuned LightGBM's ROC-AUC and PR-AUC (mean, std),
    the gain, and the tuned model's per-fold search (trials, seconds, inner score of the defaults and the best)."""
    out: dict[str, Any] = {}
    for name in summary:
        model, _, treatment = name.partition("+")
        tuned = f"{TUNED_MODEL}+{treatment}"
        if model != CHAMPION_MODEL or tuned not in summary:
            continue
        row: dict[str, Any] = {}
        for metric in ("roc_auc", "pr_auc"):
            before, after = summary[name][metric], summary[tuned][metric]
            row[metric] = {"untuned": before, "tuned": after, "gain": after["mean"] - before["mean"]}
        row["search"] = search.get(tuned, [])
        out[treatment] = row
    return out


def _advance(bar: tqdm) -> Callable[[str], None]:
    """A progress callback that names the fit just done and moves ``bar`` one step."""

    def advance(label: str) -> None:
        bar.set_description_str(f"done {label}", refresh=False)
        bar.update(1)

    return advance


def evaluate_book(book: LoanBook, args: argparse.Namespace, truth: Any = None) -> dict[str, Any]:
    """The evaluation report: per candidate mean and std of each metric over stratified folds.

    With ``--tune`` the tuned LightGBM is compared beside the untuned one, and ``tuned_vs_untuned`` sets them side
    by side.
    """
    models = (*dict.fromkeys((*args.models, *((CHAMPION_MODEL, TUNED_MODEL) if args.tune else ()))),)
    monotone = _monotone(args)
    cands = candidates(models, args.imbalance)
    # one bar over every fit (candidates x folds) on stderr, shown on a terminal only; tqdm's estimate of the time
    # left comes from the fits done so far
    with logging_redirect_tqdm(), tqdm(total=len(cands) * args.folds, unit="fit", disable=not sys.stderr.isatty(), file=sys.stderr,
              bar_format="{desc} {n_fmt}/{total_fmt} fits|{bar}| {elapsed} elapsed, about {remaining} left") as bar:  # fmt: skip
        cv = cross_validate(
            book.x, book.y, book.spec.categorical_indices, cands, n_folds=args.folds,
            seed=args.seed, cost_missed_default=args.cost_missed_default, cost_rejected_good=args.cost_rejected_good,
            monotone=monotone_vector(book.spec.features, book.spec.categorical_indices, monotone),
            tuning=_tuning(args), progress=_advance(bar),
        )  # fmt: skip
    summary = cv.summary()
    report: dict[str, Any] = {
        "data": book.source,
        "target": book.target,
        "positive": book.positive,
        "rows": int(len(book.y)),
        "default_rate": round(float(book.y.mean()), 4),
        "folds": args.folds,
        "threshold": cv.threshold,
        "features": book.spec.features,
        "protected_excluded": book.spec.protected,
        "dropped": book.spec.dropped,
        "models": summary,
        "monotone": {f: c for f, c in monotone.items() if f in book.spec.features},
    }
    if cv.search:
        report["tuned_vs_untuned"] = tuned_vs_untuned(summary, cv.search)
    if truth is not None:
        report["oracle"] = {
            name: oracle_report(book.y, truth, s["roc_auc"]["mean"]) for name, s in summary.items()
        }
    return report


def run_evaluate(args: argparse.Namespace) -> int:
    """Print the evaluation (JSON with --json, a table otherwise)."""
    book, truth = _load_book(args)
    report = evaluate_book(book, args, truth)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(
        f"{report['data']}: {report['rows']:,} rows, default rate {report['default_rate']:.1%}, {args.folds} folds"
    )
    print(f"{'model':28s} {'ROC-AUC':>15s} {'PR-AUC':>15s} {'KS':>7s} {'Brier':>7s} {'recall':>7s}")
    for name, m in report["models"].items():
        print(
            f"{name:28s} {m['roc_auc']['mean']:.3f} +- {m['roc_auc']['std']:.3f}  {m['pr_auc']['mean']:.3f} +- "
            f"{m['pr_auc']['std']:.3f} {m['ks']['mean']:7.3f} {m['brier']['mean']:7.4f} {m['recall']['mean']:7.3f}"
        )
    if truth is not None:
        best = max(report["oracle"].values(), key=lambda o: o["ratio"])
        print(f"oracle ROC-AUC {best['oracle_roc_auc']:.3f}; best model reaches {best['ratio']:.1%} of it")
    return 0
