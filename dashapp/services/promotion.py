"""Promotion: the one way a saved version becomes what the app serves, from the Models page and the command line.

A version is promoted only when it is a saved version of a served model, was trained on the bank the database
holds now (not on an outside file, a generated bank or a bank since replaced), has its serving rows, and the
person promoting says why. Every promotion writes an audit row: who, from which version to which, and the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bankdata import (
    ArtifactStore,
    BankIdentity,
    DatabaseError,
    append_audit,
    bank_identity,
    get_settings,
    read_bank,
)
from dashapp.services.publishing import TRAINERS, is_published, publish_version
from dashapp.services.validation import InputError

log = logging.getLogger("ledgerlight.promote")

REASON_MIN, REASON_MAX = 10, 500


@dataclass(frozen=True)
class Promotion:
    """A promotion that happened: the model, the version served before and now, and the stated reason."""

    model: str
    previous: str | None
    version: str
    reason: str
    published_now: bool


def check_reason(reason: Any) -> str:
    """The stated reason, stripped; ``InputError`` when it is missing, too short or too long."""
    text = " ".join(str(reason).split()) if isinstance(reason, str) else ""
    if len(text) < REASON_MIN:
        raise InputError(
            "reason",
            f"say why this version should be served (at least {REASON_MIN} characters, e.g. "
            "'quarterly retrain on the new outcomes, signed off by the model risk committee')",
        )
    if len(text) > REASON_MAX:
        raise InputError("reason", f"at most {REASON_MAX} characters; got {len(text)}")
    return text


def population_problem(model: str, metadata: dict[str, Any], current: BankIdentity | None) -> str | None:
    """Why a version cannot serve the bank in the database (whose identity is ``current``), or None when it can.

    Versions saved before populations were recorded carry none and are accepted (a note says so in the audit row).
    """
    population = (metadata.get("extra") or {}).get("population")
    if not population:
        return None
    version = metadata.get("version")
    if population.get("kind") != "bank":
        return (
            f"{model}/{version} was trained on {population.get('source', 'outside data')}, not on the bank in the "
            "database: it is an evaluation and cannot be served. Load the data with `ledgerlight load`, then "
            f"`ledgerlight train {model}` and promote that version"
        )
    if current is None:
        return f"the database holds no bank, so {model}/{version} has nothing to serve"
    if population.get("bank_id") != current.bank_id:
        return (
            f"{model}/{version} was trained on another bank ({population.get('customers', '?'):,} customers, "
            f"bank id {str(population.get('bank_id'))[:8]}), not on the bank the database holds now (bank id "
            f"{current.bank_id[:8]}, {current.kind}): retrain it with `ledgerlight train {model}`"
        )
    return None


def promote_version(
    model: str,
    version: str,
    *,
    reason: Any,
    user: str,
    url: str | None = None,
    store: ArtifactStore | None = None,
    publish_if_missing: bool = False,
) -> Promotion:
    """Serve ``version`` of ``model`` after every check, and audit it.

    Parameters
    ----------
    model, version : str
        A served model (risk, segments, recsys) and one of its saved versions.
    reason : str
        Why (at least ``REASON_MIN`` characters); recorded in the audit row.
    user : str
        Who promotes: the signed-in user in the app, the operating-system user on the command line.
    publish_if_missing : bool
        Write the version's serving rows first when they are missing (the command line; the app never publishes on
        a request and refuses instead).

    Raises
    ------
    InputError
        Unknown model or version, no reason, the version already served, trained on another population, or not
        published (and ``publish_if_missing`` is false).
    """
    url = url or get_settings().database_url
    store = store or ArtifactStore(get_settings().checkpoints_dir)
    if model not in TRAINERS:
        raise InputError(
            "model",
            f"{model!r} is not a served model (one of {', '.join(TRAINERS)}); a model trained "
            "on an outside file is an evaluation and cannot be promoted",
        )
    saved = store.versions(model)
    if version not in saved:
        raise InputError(
            "version", f"not a saved version of {model} (newest: {', '.join(saved[-3:]) or 'none'})"
        )
    text = check_reason(reason)
    previous = store.latest(model)
    if previous == version:
        raise InputError("version", f"{model}/{version} is already served")
    artifact = store.load(model, version)
    problem = population_problem(model, artifact.metadata, bank_identity(url))
    if problem:
        raise InputError("version", problem)
    try:
        published = is_published(model, version, url)
    except DatabaseError:
        published = False
    if not published and not publish_if_missing:
        raise InputError(
            "version",
            f"{model}/{version} is not published (its serving rows are not in the database), so it cannot "
            f"be served: publish it with `ledgerlight publish {model} --version {version}` first",
        )
    if not published:
        publish_version(model, artifact, read_bank(url, with_truth=True), url)
    store.promote(model, version)
    legacy = (
        ""
        if (artifact.metadata.get("extra") or {}).get("population")
        else "; trained before populations were recorded"
    )
    append_audit(
        user, "promote_model", f"{model}/{version}", f"from {previous or 'none'}; reason: {text}{legacy}", url
    )
    log.info("%s promoted %s/%s (was %s): %s", user, model, version, previous, text)
    return Promotion(model, previous, version, text, published_now=not published)
