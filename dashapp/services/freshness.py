"""How fresh each served model is, for the Models page: when it was trained, when API events were last folded into
it, how many wait, and whether the events worker flagged a full retrain (``ledgerlight events worker``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

import recsys
from bankdata import FRESHNESS_KIND, DatabaseError, fold_status, get_settings, read_evidence
from dashapp.services.models import _store, _verified_metadata
from dashapp.services.publishing import TRAINERS

COLUMNS = [
    "model",
    "version",
    "trained_at",
    "last_folded_at",
    "events_folded",
    "events_waiting",
    "not_foldable",
    "purchases_since_trained",
    "retrain",
]


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")


def _trained_at(meta: dict[str, Any]) -> pd.Timestamp | None:
    try:
        stamp = pd.Timestamp(meta["created_at"])
    except (KeyError, ValueError, TypeError):
        return None
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _retrain_text(doc: dict[str, Any] | None) -> str:
    if not doc:
        return "not checked yet (is the events worker running?)"
    if doc.get("retrain_due"):
        return (
            f"due: {doc['purchases_since_trained']:,} purchases since trained (threshold "
            f"{doc['retrain_threshold']:,}); retrain, then promote"
        )
    return f"not due ({doc['purchases_since_trained']:,} of {doc['retrain_threshold']:,} purchases)"


def freshness() -> pd.DataFrame:
    """One row per served model (:data:`COLUMNS`, times in UTC as text). Only the recommender takes events in;
    the other models change only by a retrain and a promotion (their event columns are empty).

    Aggregates of ``api_events`` and ``api_folds`` only; a database that cannot be reached gives the trained times
    alone.
    """
    store, settings = _store(), get_settings()
    root, url = str(settings.checkpoints_dir), settings.database_url
    rows = []
    for model in TRAINERS:
        version = store.latest(model)
        if version is None:
            continue
        meta = _verified_metadata(root, model, version)
        trained = _trained_at(meta) if isinstance(meta, dict) else None
        row: dict[str, Any] = {
            "model": model,
            "version": version,
            "trained_at": _when(trained),
            "last_folded_at": "",
            "events_folded": None,
            "events_waiting": None,
            "not_foldable": None,
            "purchases_since_trained": None,
            "retrain": "by promotion only (no events feed it)",
        }
        if model == recsys.MODEL_NAME:
            try:
                status = fold_status(
                    model, version, None if trained is None else trained.to_pydatetime(), url
                )
                doc = read_evidence(model, version, FRESHNESS_KIND, url)
            except DatabaseError:
                rows.append(row)
                continue
            row.update(
                last_folded_at=_when(status.last_folded_at) or "never",
                events_folded=status.events_folded,
                events_waiting=status.events_waiting,
                not_foldable=status.events_unfoldable,
                purchases_since_trained=status.purchases_since,
                retrain=_retrain_text(doc),
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object)
