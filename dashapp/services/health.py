"""The health report behind ``/healthz``: database reachable, latest artifact version per model."""

from __future__ import annotations

from typing import Any

from bankdata import ArtifactStore, get_settings
from dashapp.services.bank import database_backend, database_reachable

MODELS: tuple[str, ...] = ("risk", "segments", "recsys")


def artifact_versions(store: ArtifactStore | None = None) -> dict[str, str | None]:
    """The LATEST version of each model in the store, ``None`` where none is trained (or the store is unreadable)."""
    store = store if store is not None else ArtifactStore()
    versions: dict[str, str | None] = {}
    for model in MODELS:
        try:
            versions[model] = store.latest(model)
        except Exception:  # a health check reports, it never raises
            versions[model] = None
    return versions


def health_report() -> tuple[dict[str, Any], int]:
    """The JSON body and HTTP status of ``/healthz`` (503 when the database does not answer)."""
    settings = get_settings()
    reachable = database_reachable(settings.database_url)
    body = {
        "status": "ok" if reachable else "degraded",
        "database": {"reachable": reachable, "backend": database_backend(settings.database_url)},
        "artifacts": artifact_versions(ArtifactStore(settings.checkpoints_dir)),
    }
    return body, 200 if reachable else 503
