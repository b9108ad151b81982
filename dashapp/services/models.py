"""Models page data: every saved version of every model, its card, promotion and a retrain job.

Training saves candidates; promotion (:mod:`dashapp.services.promotion`, with a reason, audited) moves ``LATEST``;
the area services key their caches by the latest version, so
every worker serves the promoted version on its next request. ``retrain`` is the body of a background job (it runs in
a separate process, never in a request) and reports progress through a callback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

import recsys
import risk
import segmentation
from bankdata import (
    ArtifactError,
    ArtifactStore,
    BankIdentity,
    DatabaseError,
    bank_identity,
    get_settings,
    model_card_html,
    model_card_sections,
    read_bank,
    read_evidence,
)
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import validation
from dashapp.services.messages import public_message
from dashapp.services.promotion import population_problem, promote_version
from dashapp.services.publishing import TRAINERS, is_published, train_and_publish
from risk import card_evidence

HEADLINE = {risk.MODEL_NAME: "roc_auc", segmentation.MODEL_NAME: "silhouette", recsys.MODEL_NAME: "k"}


def _store() -> ArtifactStore:
    return ArtifactStore(get_settings().checkpoints_dir)


@functools.lru_cache(maxsize=128)
def _verified_metadata(root: str, model: str, version: str) -> dict[str, Any] | str:
    """A saved version's metadata once its files verify, or the public message of why not (versions never change
    once saved, so each is verified once per worker: hashing every file on each view cost 150 ms at 1M customers)."""
    try:
        return ArtifactStore(root).load(model, version).metadata
    except ArtifactError as exc:
        return public_message(exc)[:120]


COLUMNS = ["model", "version", "status", "created_at", "rows", "headline", "value", "latest"]


def versions() -> pd.DataFrame:
    """model, version, status, created_at, rows, headline (metric name), value, latest (bool): newest first per model.

    ``status``: ``served``; ``candidate`` (promotable); ``not published`` (publish it first); ``other bank`` or
    ``evaluation`` (trained on a bank since replaced, or on outside data: never servable); ``error``.
    """
    store, rows = _store(), list[dict[str, Any]]()
    settings = get_settings()
    root, url = str(settings.checkpoints_dir), settings.database_url
    current = _identity(url)
    for model in TRAINERS:
        latest = store.latest(model)
        for version in reversed(store.versions(model)):
            meta = _verified_metadata(root, model, version)
            if isinstance(meta, str):
                rows.append(
                    {
                        "model": model,
                        "version": version,
                        "status": "error",
                        "created_at": "",
                        "rows": None,
                        "headline": "error",
                        "value": meta,
                        "latest": version == latest,
                    }
                )
                continue
            metric = HEADLINE[model]
            value = meta["metrics"].get(metric)
            rows.append(
                {
                    "model": model,
                    "version": version,
                    "status": _status(model, version, meta, latest, current, url),
                    "created_at": meta.get("created_at", ""),
                    "rows": meta.get("row_count"),
                    "headline": metric,
                    "value": round(value, 4) if isinstance(value, float) else value,
                    "latest": version == latest,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def _identity(url: str) -> BankIdentity | None:
    try:
        return bank_identity(url)
    except DatabaseError:
        return None


def _status(
    model: str, version: str, meta: dict[str, Any], latest: str | None, current: BankIdentity | None, url: str
) -> str:
    if version == latest:
        return "served"
    if population_problem(model, meta, current):
        kind = ((meta.get("extra") or {}).get("population") or {}).get("kind")
        return "other bank" if kind == "bank" else "evaluation"
    try:
        return "candidate" if is_published(model, version, url) else "not published"
    except DatabaseError:
        return "not published"


def _check(model: object) -> str:
    return validation.choice(model, "model", list(TRAINERS))


def saved_version(model: object, version: object) -> tuple[str, str]:
    """``(model, version)`` when ``version`` is a saved version of ``model``; ``InputError`` otherwise (the value is
    compared with the store's list, never used as a path)."""
    name = _check(model)
    saved = _store().versions(name)
    if not isinstance(version, str) or version not in saved:
        raise validation.InputError(
            "version", f"not a saved version of {name} (newest: {', '.join(saved[-3:]) or 'none'})"
        )
    return name, version


def card(model: str, version: str) -> tuple[list[dict[str, Any]], str]:
    """The card's sections and its HTML for one saved version (evidence computed once per version)."""
    model, version = saved_version(model, version)
    url = get_settings().database_url
    published = model == risk.MODEL_NAME and _risk_card_evidence(version, url) is not None
    return _card(str(get_settings().checkpoints_dir), url, model, version, published)


@functools.lru_cache(maxsize=16)
def _card(root: str, url: str, model: str, version: str, published: bool) -> tuple[list[dict[str, Any]], str]:
    """The card; a risk card's evidence (intervals, calibration, fairness) is what publishing wrote for the version,
    or, before it is published, the cross-validation intervals and a note naming the command."""
    art = ArtifactStore(root).load(model, version)
    evidence: dict[str, Any] | None = {}
    if model == risk.MODEL_NAME:
        evidence = _risk_card_evidence(version, url) if published else None
        if evidence is None:
            evidence = card_evidence(art, None, bootstrap=False)
            evidence["fairness_note"] = (
                f"the evidence of {model}/{version} (bootstrap intervals, calibration, "
                f"fairness) is not published yet: run `ledgerlight publish {model}`"
            )
    return model_card_sections(art.metadata, evidence), model_card_html(art.metadata, evidence)


def _risk_card_evidence(version: str, url: str) -> dict[str, Any] | None:
    """The card evidence publishing wrote for this risk version (``risk.publish``), or None."""
    try:
        return read_evidence(risk.MODEL_NAME, version, "card", url)
    except DatabaseError:
        return None


def promote(model: str, version: str, role: str | None, user: str = "unknown", reason: object = None) -> str:
    """Serve ``version`` of ``model`` (admins only) with a stated reason, audited; returns the version.

    Raises
    ------
    PermissionError
        The role may not promote.
    InputError
        Not a saved version, no reason, trained on another population, or not published (the app never publishes
        on a request). See :func:`dashapp.services.promotion.promote_version`.
    """
    policy.require(role, Capability.PROMOTE_MODELS, "promote a model version")
    model, version = saved_version(model, version)
    promote_version(model, version, reason=reason, user=user, store=_store())
    return version


def is_served(model: str, version: str) -> bool:
    """Whether ``version`` is what the app serves for ``model``."""
    return _store().latest(_check(model)) == version


def retrain(model: str, progress: Callable[[int, int, str], None], *, quick: bool = False) -> str:
    """Train ``model`` on the bank in the database and save and publish a candidate; returns its version.

    ``progress(step, steps, label)`` is called before each of the 3 steps and at the end.
    """
    model = _check(model)
    progress(0, 3, "reading the bank")
    bank = read_bank(with_truth=True)
    progress(1, 3, f"training and publishing {model}")
    store = _store()
    artifact = train_and_publish(model, bank, quick=quick, store=store)
    state = "served" if store.latest(model) == artifact.version else "candidate: compare it, then promote it"
    progress(3, 3, f"saved {model}/{artifact.version} ({state})")
    return artifact.version
