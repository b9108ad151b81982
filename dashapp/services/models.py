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
    DataValidationError,
    append_audit,
    get_settings,
    model_card_html,
    model_card_sections,
    read_bank,
)
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import validation
from dashapp.services.bank import DataUnavailable, get_bank
from dashapp.services.messages import public_message
from risk import card_evidence

TRAINERS: dict[str, Callable[..., Any]] = {
    risk.MODEL_NAME: risk.train_from_bank,
    segmentation.MODEL_NAME: segmentation.train_from_bank,
    recsys.MODEL_NAME: recsys.train_from_bank,
}
HEADLINE = {risk.MODEL_NAME: "roc_auc", segmentation.MODEL_NAME: "silhouette", recsys.MODEL_NAME: "k"}


def _store() -> ArtifactStore:
    return ArtifactStore(get_settings().checkpoints_dir)


def versions() -> pd.DataFrame:
    """model, version, created_at, rows, headline (metric name), value, latest (bool): newest first per model."""
    store, rows = _store(), []
    for model in TRAINERS:
        latest = store.latest(model)
        for version in reversed(store.versions(model)):
            try:
                meta = store.load(model, version).metadata
            except ArtifactError as exc:
                rows.append({"model": model, "version": version, "created_at": "", "rows": None, "headline": "error",
                             "value": public_message(exc)[:120], "latest": version == latest})
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
    return _card(str(get_settings().checkpoints_dir), get_settings().database_url, model, version)


@functools.lru_cache(maxsize=16)
def _card(root: str, url: str, model: str, version: str) -> tuple[list[dict[str, Any]], str]:
    art = ArtifactStore(root).load(model, version)
    evidence: dict[str, Any] = {}
    if model == risk.MODEL_NAME:
        try:
            frame = risk.loan_frame(get_bank(url))
        except (DataUnavailable, DataValidationError):  # no bank: the card says fairness could not be checked
            frame = None
        evidence = card_evidence(art, frame)
    return model_card_sections(art.metadata, evidence), model_card_html(art.metadata, evidence)


def promote(model: str, version: str, role: str | None, user: str = "unknown") -> str:
    """Make ``version`` the LATEST of ``model`` (admins only) and write an audit row; returns the version."""
    policy.require(role, Capability.PROMOTE_MODELS, "promote a model version")
    model, version = saved_version(model, version)
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
    progress(1, 3, f"training {model}")
    artifact = TRAINERS[model](bank, _store(), quick=quick)
    progress(3, 3, f"saved {model}/{artifact.version}")
    return artifact.version
