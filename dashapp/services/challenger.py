"""Champion / challenger: a saved version next to the served one, before anyone promotes it.

For ``risk`` the comparison is :func:`risk.compare_versions` (both versions' out-of-fold PDs on the same loans:
discrimination, calibration, fairness, score PSI and the applicants who would flip at the served cut-off). For the
other models it is their saved metrics side by side. Versions never change once saved, so each pair is compared once
per worker. The Models page and ``ledgerlight promote --dry-run`` both call :func:`compare_with_served`.
"""

from __future__ import annotations

import functools
from typing import Any

import risk
from bankdata import ArtifactError, ArtifactStore, get_settings
from dashapp.services import audit, ids
from dashapp.services.publishing import TRAINERS
from dashapp.services.validation import InputError

LOWER_IS_BETTER = frozenset({"brier", "log_loss", "davies_bouldin", "inertia"})
"""Metrics where the challenger wins with a smaller value (every other metric: a larger one)."""
TIE = 5e-5
"""Differences smaller than this favour neither version (they print as 0.0000)."""


def compare_with_served(model: str, version: str, *, store: ArtifactStore | None = None) -> dict[str, Any]:
    """``version`` of ``model`` (the challenger) next to the served version (the champion).

    Returns
    -------
    dict
        ``model``, ``champion`` and ``challenger`` (version facts), ``metrics`` (name -> champion, challenger,
        difference, better), and for risk also ``rows``, ``calibration``, ``score_psi``, ``cutoff``, ``flips`` and
        ``fairness`` (see :func:`risk.compare_versions`).

    Raises
    ------
    InputError
        Unknown model or version, no served version, the version is the served one, or the two versions cannot be
        compared (too few loans in common, saved before held-out PDs named their loans).
    """
    store = store or ArtifactStore(get_settings().checkpoints_dir)
    if model not in TRAINERS:
        raise InputError("model", f"{model!r} is not a served model (one of {', '.join(TRAINERS)})")
    saved = store.versions(model)
    if version not in saved:
        raise InputError(
            "version", f"not a saved version of {model} (newest: {', '.join(saved[-3:]) or 'none'})"
        )
    served = store.latest(model)
    if served is None:
        raise InputError("version", f"no version of {model} is served yet: nothing to compare {version} with")
    if served == version:
        raise InputError(
            "version", f"{model}/{version} is the served version: pick a candidate to compare with it"
        )
    try:
        report = _compare(str(store.root), model, served, version)
    except ValueError as exc:
        raise InputError("version", str(exc)) from exc
    audit.served("compare_versions", f"{model}/{version}", f"against the served {served}")
    return _with_bank_ids(report)


def _with_bank_ids(report: dict[str, Any]) -> dict[str, Any]:
    """The report with the flipped loans named by the bank's loan ids (``L-00009``), not the internal numbers."""
    flips = report.get("flips")
    if not flips or not flips["sample"] or not ids.is_text("loan"):
        return report
    shown = ids.shown_many("loan", [row["loan_id"] for row in flips["sample"]])
    sample = [{**row, "loan_id": shown[int(row["loan_id"])]} for row in flips["sample"]]
    return {**report, "flips": {**flips, "sample": sample}}


@functools.lru_cache(maxsize=32)
def _compare(root: str, model: str, champion: str, challenger: str) -> dict[str, Any]:
    store = ArtifactStore(root)
    old, new = store.load(model, champion), store.load(model, challenger)
    if model == risk.MODEL_NAME:
        out = risk.compare_versions(old, new)
    else:
        out = {"champion": _facts(old), "challenger": _facts(new), "metrics": _saved_metrics(old, new)}
    for name, pair in out["metrics"].items():
        pair["better"] = _better(name, pair)
    return {"model": model, **out}  # callers must not mutate it: it is cached


def _facts(artifact: Any) -> dict[str, Any]:
    return {"version": artifact.version, "trained_rows": int(artifact.metadata.get("row_count") or 0)}


def _saved_metrics(old: Any, new: Any) -> dict[str, dict[str, float]]:
    ours, theirs = old.metadata.get("metrics", {}), new.metadata.get("metrics", {})
    shared = [k for k in ours if k in theirs and _number(ours[k]) and _number(theirs[k])]
    return {
        k: {
            "champion": float(ours[k]),
            "challenger": float(theirs[k]),
            "difference": float(theirs[k]) - float(ours[k]),
        }
        for k in shared
    }


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _better(name: str, pair: dict[str, float]) -> str:
    """Which version the metric favours: ``challenger``, ``champion`` or ``tie``."""
    diff = pair["difference"]
    if name == "calibration_in_the_large":
        diff = abs(pair["champion"]) - abs(pair["challenger"])
    elif name in LOWER_IS_BETTER:
        diff = -diff
    if abs(diff) < TIE:
        return "tie"
    return "challenger" if diff > 0 else "champion"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The comparison as plain lines (the command line's table and the app's headline)."""
    champion, challenger = report["champion"]["version"], report["challenger"]["version"]
    lines = [f"{report['model']}: challenger {challenger} against the served {champion}"]
    if "rows_note" in report:
        lines.append(f"  on {report['rows_note']}")
    lines.append(f"  {'metric':<26}{'served':>12}{'challenger':>12}{'change':>11}  favours")
    for name, pair in report["metrics"].items():
        lines.append(
            f"  {name:<26}{pair['champion']:>12.4f}{pair['challenger']:>12.4f}{pair['difference']:>+11.4f}"
            f"  {pair['better']}"
        )
    if "score_psi" in report:
        lines.append(
            f"  score PSI of the challenger's PDs against the served: {report['score_psi']['value']:.3f} "
            f"({report['score_psi']['status']})"
        )
        flips = report["flips"]
        lines.append(
            f"  at the served cut-off {report['cutoff']:.3f}: {flips['approve_to_decline']:,} approved would be "
            f"declined, {flips['decline_to_approve']:,} declined would be approved, {flips['unchanged']:,} "
            f"unchanged"
        )
        for row in flips["sample"]:
            lines.append(
                f"    loan {row['loan_id']}: PD {row['champion_pd']:.3f} -> {row['challenger_pd']:.3f} "
                f"({row['change']}; defaulted: {'yes' if row['defaulted'] else 'no'})"
            )
        for attribute, table in report.get("fairness", {}).items():
            flagged = [g["group"] for g in table["groups"] if g["flag"]]
            lowest = min(
                table["groups"], key=lambda g: g["challenger_di"] if g["challenger_di"] is not None else 9
            )
            lines.append(
                f"  fairness by {attribute} (against {table['reference']}): lowest challenger ratio "
                f"{lowest['challenger_di']:.2f} ({lowest['group']}); below 0.8: {', '.join(flagged) or 'none'}"
            )
    return lines


__all__ = ["ArtifactError", "compare_with_served", "summary_lines"]
