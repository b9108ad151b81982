"""Models page data: every saved version of every model, its card, promotion and a retrain job.

Promotion moves ``LATEST`` (``ArtifactStore.promote``); the area services key their caches by the latest version, so
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
    DatabaseError,
    append_audit,
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


def versions() -> pd.DataFrame:
    """model, version, created_at, rows, headline (metric name), value, latest (bool): newest first per model."""
    store, rows = _store(), []
    root = str(get_settings().checkpoints_dir)
    for model in TRAINERS:
        latest = store.latest(model)
        for version in reversed(store.versions(model)):
            meta = _verified_metadata(root, model, version)
            if isinstance(meta, str):
                rows.append({"model": model, "version": version, "created_at": "", "rows": None, "headline": "error",
                             "value": meta, "latest": version == latest})
                continue
            metric = HEADLINE[model]
            value = meta["metrics"].get(metric)
            rows.append({"model": model, "version": version, "created_at": meta.get("created_at", ""),
                         "rows": meta.get("row_count"), "headline": metric,
                         "value": round(value, 4) if isinstance(value, float) else value, "latest": version == latest})
    return pd.DataFrame(rows, columns=["model", "version", "created_at", "rows", "headline", "value", "latest"])


def _check(model: object) -> str:
    return validation.choice(model, "model", list(TRAINERS))


def saved_version(model: object, version: object) -> tuple[str, str]:
    """``(model, version)`` when ``version`` is a saved version of ``model``; ``InputError`` otherwise (the value is
    compared with the store's list, never used as a path)."""
    name = _check(model)
    saved = _store().versions(name)
    if not isinstance(version, str) or version not in saved:
        raise validation.InputError("version", f"not a saved version of {name} (newest: {', '.join(saved[-3:]) or 'none'})")
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
    evidence: dict[str, Any] = {}
    if model == risk.MODEL_NAME:
        evidence = _risk_card_evidence(version, url) if published else None
        if evidence is None:
            evidence = card_evidence(art, None, bootstrap=False)
            evidence["fairness_note"] = (f"the evidence of {model}/{version} (bootstrap intervals, calibration, "
                                         f"fairness) is not published yet: run `ledgerlight publish {model}`")
    return model_card_sections(art.metadata, evidence), model_card_html(art.metadata, evidence)


def _risk_card_evidence(version: str, url: str) -> dict[str, Any] | None:
    """The card evidence publishing wrote for this risk version (``risk.publish``), or None."""
    try:
        return read_evidence(risk.MODEL_NAME, version, "card", url)
    except DatabaseError:
        return None


def promote(model: str, version: str, role: str | None, user: str = "unknown") -> str:
    """Make ``version`` the LATEST of ``model`` (admins only) and write an audit row; returns the version.

    Raises
    ------
    PermissionError
        The role may not promote.
    InputError
        Not a saved version, or one whose serving rows are not published (the app could not serve it).
    """
    policy.require(role, Capability.PROMOTE_MODELS, "promote a model version")
    model, version = saved_version(model, version)
    try:
        published = is_published(model, version, get_settings().database_url)
    except DatabaseError:
        published = False
    if not published:
        raise validation.InputError(
            "version", f"{model}/{version} is not published (its serving rows are not in the database), so it cannot "
                       f"be served: publish it with `ledgerlight publish {model} --version {version}` first")
    _store().promote(model, version)
    append_audit(user, "promote_model", f"{model}/{version}", "")
    return version


def retrain(model: str, progress: Callable[[int, int, str], None], *, quick: bool = False) -> str:
    """Train ``model`` on the bank in the database and save (and promote) a new version; returns the version.

    ``progress(step, steps, label)`` is called before each of the 3 steps and at the end.
    """
    model = _check(model)
    progress(0, 3, "reading the bank")
    bank = read_bank(with_truth=True)
    progress(1, 3, f"training and publishing {model}")
    artifact = train_and_publish(model, bank, quick=quick, store=_store())
    progress(3, 3, f"saved and published {model}/{artifact.version}")
    return artifact.version
