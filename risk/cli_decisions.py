"""``ledgerlight risk decisions list|verify`` and ``ledgerlight risk notice``: the recorded decisions' commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from bankdata import (
    ArtifactError,
    ArtifactStore,
    DataValidationError,
    DecisionRecord,
    append_audit,
    append_decisions,
    read_decision,
    read_decisions,
    to_external,
    verify_chain,
)
from bankdata.cli import cli_user
from risk.decisions import batch_decisions, recorded_model, rescore
from risk.notices import FORMATS, render_notice
from risk.scoring import RiskModel

RECORD_CHUNK = 5_000  # rows scored, explained and recorded per transaction by ``risk score --record``


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def register(risk_subparsers: argparse._SubParsersAction) -> None:
    """Add ``decisions`` (``list``, ``verify``) and ``notice`` to the ``risk`` command's sub-commands."""
    decisions = risk_subparsers.add_parser("decisions", help="the recorded credit decisions: list, verify")
    sub = decisions.add_subparsers(dest="decisions_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="the latest recorded decisions, newest first")
    listing.add_argument(
        "--limit", type=_positive, default=20, metavar="N", help="at most N (default %(default)s)"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(func=run_list)
    verify = sub.add_parser(
        "verify", help="check the hash chain and re-score with each record's own model version"
    )
    verify.add_argument("id", nargs="?", type=_positive, help="one decision record (default: every record)")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    verify.set_defaults(func=run_verify)

    notice = risk_subparsers.add_parser(
        "notice", help="the adverse-action notice of a declined, recorded decision"
    )
    notice.add_argument("id", type=_positive, help="the decision record")
    notice.add_argument("--format", choices=FORMATS, default="html", help="html (printable) or pdf")
    notice.add_argument("--output", type=Path, required=True, metavar="FILE", help="where to write it")
    notice.set_defaults(func=run_notice)


def add_record_argument(score: argparse.ArgumentParser) -> None:
    """``risk score --record``: also record every scored row as a decision."""
    score.add_argument(
        "--record",
        action="store_true",
        help="record every scored row as a decision (at the model's training cut-off, audited)",
    )


def _bank_ids(records: list[DecisionRecord]) -> dict[str, dict[int, str]]:
    """The bank's text ids of the records' customers and loans (empty for a bank of whole numbers)."""
    return {
        "customer": to_external("customer", [r.customer_id for r in records]),
        "loan": to_external("loan", [r.loan_id for r in records if r.loan_id is not None]),
    }


def _shown(record: DecisionRecord, bank_ids: dict[str, dict[int, str]]) -> tuple[Any, Any]:
    loan = None if record.loan_id is None else bank_ids["loan"].get(record.loan_id, record.loan_id)
    return bank_ids["customer"].get(record.customer_id, record.customer_id), loan


def _summary(r: DecisionRecord, bank_ids: dict[str, dict[int, str]]) -> dict[str, Any]:
    return {
        "id": r.id,
        "recorded_at": r.recorded_at.isoformat(timespec="seconds"),
        "recorded_by": r.recorded_by,
        "customer_id": _shown(r, bank_ids)[0],
        "loan_id": _shown(r, bank_ids)[1],
        "model": r.model,
        "model_version": r.model_version,
        "pd": r.pd,
        "cutoff": r.cutoff,
        "decision": r.decision,
        "reasons": [x.get("text") for x in r.reasons],
    }


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def run_list(args: argparse.Namespace) -> int:
    """Print the latest decisions (a table, or JSON with --json)."""
    records = read_decisions(limit=args.limit)
    bank_ids = _bank_ids(records)
    if args.json:
        _print_json({"decisions": [_summary(r, bank_ids) for r in records]})
        return 0
    if not records:
        print(
            "no decisions recorded yet (record one on the Applicant page, or `ledgerlight risk score --record`)"
        )
        return 0
    print(
        f"{'id':>6s} {'recorded (UTC)':19s} {'by':16s} {'customer':>9s} {'decision':8s} {'PD':>7s} "
        f"{'cut-off':>7s} version"
    )
    for r in records:
        print(
            f"{r.id:6d} {r.recorded_at:%Y-%m-%d %H:%M:%S} {r.recorded_by[:16]:16s} {_shown(r, bank_ids)[0]!s:>9s} "
            f"{r.decision:8s} {r.pd:7.2%} {r.cutoff:7.2%} {r.model}/{r.model_version}"
        )
    return 0


def verify_records(records: list[DecisionRecord], store: ArtifactStore) -> list[dict[str, Any]]:
    """Re-score each record with its recorded version (each version loaded once): one result per record."""
    models: dict[tuple[str, str, str], RiskModel | str] = {}
    out = []
    for r in records:
        key = (r.model, r.model_version, r.model_sha256)
        if key not in models:
            try:
                models[key] = recorded_model(r, store)[1]
            except ArtifactError as exc:
                models[key] = str(exc).removeprefix(f"decision {r.id}: ")
        model = models[key]
        if isinstance(model, str):
            out.append({"id": r.id, "reproduced": False, "differences": [model]})
            continue
        result = rescore(r, store, model)
        out.append({"id": r.id, "reproduced": result.reproduced, "differences": result.differences})
    return out


def run_verify(args: argparse.Namespace) -> int:
    """Check the chain and re-score; exit 1 when the chain is broken or a record is not reproduced."""
    chain = verify_chain()
    if args.id is not None:
        record = read_decision(args.id)
        if record is None:
            raise ValueError(f"no decision record {args.id}")
        records = [record]
    else:
        records = list(reversed(read_decisions(limit=max(chain.rows, 1))))
    results = verify_records(records, ArtifactStore())
    ok = chain.ok and all(r["reproduced"] for r in results)
    if args.json:
        _print_json(
            {
                "ok": ok,
                "chain": {
                    "ok": chain.ok,
                    "rows": chain.rows,
                    "head_id": chain.head_id,
                    "head_hash": chain.head_hash,
                    "problems": chain.problems,
                },
                "records": results,
            }
        )
        return 0 if ok else 1
    state = "intact" if chain.ok else "BROKEN"
    print(
        f"hash chain {state}: {chain.rows:,} record(s), head {chain.head_id} {(chain.head_hash or '')[:16]}"
    )
    for problem in chain.problems:
        print(f"  {problem}")
    for r in results:
        print(
            f"decision {r['id']}: "
            + ("reproduced" if r["reproduced"] else "NOT reproduced: " + "; ".join(r["differences"]))
        )
    return 0 if ok else 1


def run_notice(args: argparse.Namespace) -> int:
    """Write the notice of a declined record; audited as ``notice``."""
    record = read_decision(args.id)
    if record is None:
        raise ValueError(f"no decision record {args.id}")
    shown = _shown(record, _bank_ids([record]))
    content, _name, _media = render_notice(record, args.format, ids=shown)
    try:
        args.output.write_bytes(content)
    except OSError as exc:
        raise ValueError(f"cannot write {args.output}: {exc.strerror}") from None
    append_audit(cli_user(), "download_notice", f"decision {record.id}", json.dumps({"format": args.format}))
    print(f"wrote the {args.format} notice of decision {record.id} (customer {shown[0]}) -> {args.output}")
    return 0


def check_recordable(files: list[Path]) -> None:
    """Refuse (``DataValidationError``) a file without the ``customer_id`` column every record needs."""
    for path in files:
        if "customer_id" not in pq.read_schema(path).names:
            raise DataValidationError(
                path.name, "--record needs a customer_id column (the applicant of each row)"
            )


def record_files(files: list[Path], model: RiskModel, artifact: Any, cutoff: float) -> tuple[int, int]:
    """Record every row of the scored Parquet files as a decision; returns (records, declines).

    Each transaction of at most :data:`RECORD_CHUNK` records leaves one audit row naming its ids."""
    user, recorded, declined = cli_user(), 0, 0
    for path in files:
        frame = pd.read_parquet(path)
        for start in range(0, len(frame), RECORD_CHUNK):
            part = frame.iloc[start : start + RECORD_CHUNK].reset_index(drop=True)
            decisions = batch_decisions(artifact, model, part, cutoff, recorded_by=user)
            ids = append_decisions(decisions)
            if not ids:
                continue
            declines = sum(d.decision == "decline" for d in decisions)
            append_audit(
                user,
                "record_decisions",
                f"decisions {ids[0]}-{ids[-1]}",
                json.dumps(
                    {
                        "model": artifact.model,
                        "version": artifact.version,
                        "file": path.name,
                        "rows": len(ids),
                        "declined": declines,
                        "cutoff": cutoff,
                    }
                ),
            )
            recorded, declined = recorded + len(ids), declined + declines
    return recorded, declined
