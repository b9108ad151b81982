"""Publishing: write what serving reads for one trained version (per-customer scores, segments, recommendations
and evidence), so no page scores or assigns a population on request.

Each area implements ``publish(artifact, bank, url) -> dict[str, int]`` (rows written per serving table); this
module is the one place that maps model names to them. Training, promotion and ``ledgerlight setup`` call
:func:`publish_version`; ``ledgerlight publish`` (re)publishes served versions by hand. Training saves candidates;
:mod:`dashapp.services.promotion` serves them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import recsys
import risk
import segmentation
from bankdata import (
    Artifact,
    ArtifactError,
    ArtifactStore,
    Bank,
    append_audit,
    ensure_bank_indexes,
    get_settings,
    published_rows,
    read_bank,
)

log = logging.getLogger("ledgerlight.publish")

#: model name in the artifact store -> the function that trains it on a Bank (saves a new version)
TRAINERS: dict[str, Callable[..., Artifact]] = {
    risk.MODEL_NAME: risk.train_from_bank,
    segmentation.MODEL_NAME: segmentation.train_from_bank,
    recsys.MODEL_NAME: recsys.train_from_bank,
}
PUBLISHERS: dict[str, Callable[[Artifact, Bank, str | None], dict[str, int]]] = {
    risk.MODEL_NAME: risk.publish,
    segmentation.MODEL_NAME: segmentation.publish,
    recsys.MODEL_NAME: recsys.publish,
}
#: the serving table whose rows show that a version was published
MARKER_TABLES: dict[str, str] = {
    risk.MODEL_NAME: risk.SCORES_TABLE.name,
    segmentation.MODEL_NAME: segmentation.MEMBERS_TABLE.name,
    recsys.MODEL_NAME: recsys.RECOMMENDATIONS_TABLE.name,
}


def is_published(model: str, version: str, url: str | None = None) -> bool:
    """Whether ``version`` of ``model`` has its serving rows in the database."""
    return published_rows(MARKER_TABLES[model], version, url) is not None


def publish_version(model: str, artifact: Artifact, bank: Bank, url: str | None = None) -> dict[str, int]:
    """Write the serving rows of one trained version; returns rows written per table."""
    if model not in PUBLISHERS:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(PUBLISHERS)}")
    started = time.perf_counter()
    written = PUBLISHERS[model](artifact, bank, url)
    log.info(
        "published %s %s in %.1f s: %s",
        model,
        artifact.version,
        time.perf_counter() - started,
        ", ".join(f"{t} {n:,}" for t, n in written.items()),
    )
    return written


def train_and_publish(
    model: str, bank: Bank, url: str | None = None, *, quick: bool = False, store: ArtifactStore | None = None
) -> Artifact:
    """Train ``model`` on ``bank`` and publish the new version's serving rows: a candidate, served once promoted.

    Two cases serve it at once, each with an audit row: the model's first version (nothing is served yet), and a
    bank whose served version was trained on another bank (the demo bank, since removed), which it cannot serve.
    """
    store = store or ArtifactStore()
    served = store.latest(model)
    artifact = TRAINERS[model](bank, store, quick=quick)
    publish_version(model, artifact, bank, url)
    why = None
    if served is None:
        why = f"automatic: the first version of {model}"
    elif _trained_on_another_bank(store, model, served, bank):
        store.promote(model, artifact.version)
        why = f"automatic: the served version {served} was trained on another bank"
    if why:
        append_audit(
            "ledgerlight",
            "promote_model",
            f"{model}/{artifact.version}",
            f"from {served or 'none'}; reason: {why}",
            url,
        )
    return artifact


def _trained_on_another_bank(store: ArtifactStore, model: str, version: str, bank: Bank) -> bool:
    if bank.identity is None:
        return False
    try:
        population = (store.load(model, version).metadata.get("extra") or {}).get("population") or {}
    except ArtifactError:
        return True  # the served version cannot even be read: the new one replaces it
    return population.get("kind") == "bank" and population.get("bank_id") != bank.identity.bank_id


def publish_missing(
    models: list[str] | None = None, *, bank: Bank | None = None, url: str | None = None, force: bool = False
) -> list[str]:
    """Publish the served (``LATEST``) version of each model whose rows are not in the database yet; returns the
    models published. The bank is read once, only when something needs publishing."""
    url = url or get_settings().database_url
    store = ArtifactStore()
    todo = []
    for model in models or list(PUBLISHERS):
        version = store.latest(model)
        if version is not None and (force or not is_published(model, version, url)):
            todo.append((model, version))
    if not todo:
        return []
    ensure_bank_indexes(url)
    bank = bank if bank is not None else read_bank(url, with_truth=True)
    for model, version in todo:
        publish_version(model, store.load(model, version), bank, url)
    return [m for m, _ in todo]
