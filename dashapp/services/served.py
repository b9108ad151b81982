"""The one way to load the served version of a model: the version ``LATEST`` names, loaded once per worker.

Every area service asks :func:`load_served` for what it needs from the artifact (a loader function of the
artifact), so a promotion is picked up on the next request without a restart, the cache is keyed by the version
actually loaded, and a model that is not trained (or fails verification) is always the same error,
:class:`NotTrained`, naming the command that trains it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TypeVar

from bankdata import Artifact, ArtifactError, ArtifactStore, get_settings

T = TypeVar("T")

#: model name in the artifact store -> the command that trains it (the one place that names them)
TRAIN_COMMANDS: dict[str, str] = {
    "risk": "ledgerlight risk train",
    "segments": "ledgerlight segments train",
    "recsys": "ledgerlight recsys train",
}


class NotTrained(RuntimeError):
    """No usable version of a model: never trained, or its artifact fails verification.

    Attributes
    ----------
    model : str
    command : str
        The command that trains it.
    """

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.command = TRAIN_COMMANDS.get(model, f"ledgerlight train {model}")
        super().__init__(f"{reason} (run `{self.command}`)")


class NotPublished(NotTrained):
    """The served version is trained but what serving reads of it (its rows in the serving tables) is not in the
    database; ``.command`` is ``ledgerlight publish <model>``, which writes them."""

    def __init__(self, model: str, version: str, what: str = "its serving rows") -> None:
        super().__init__(model, "not published")
        self.command = f"ledgerlight publish {model}"
        self.args = (
            f"{model} model {version} is trained but {what} are not in the database (run `{self.command}`)",
        )


def _root() -> str:
    return str(get_settings().checkpoints_dir)


#: LATEST pointer path -> (its inode, mtime and size, the version it names): re-read only when the file changes
_POINTERS: dict[str, tuple[tuple[int, int, int], str | None]] = {}


def _latest(root: str, model: str) -> str | None:
    """``ArtifactStore.latest``, the file re-read only when it changed: one ``stat`` per call instead of opening
    it (every API call asks). A promotion replaces ``LATEST`` atomically (a new inode), so it is seen at once."""
    path = os.path.join(root, model, "LATEST")
    try:
        st = os.stat(path)
    except OSError:
        return ArtifactStore(root).latest(model)
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    hit = _POINTERS.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    version = ArtifactStore(root).latest(model)  # replaced after the stat: the next call sees another stamp
    _POINTERS[path] = (stamp, version)
    return version


def served_version(model: str) -> str:
    """The version of ``model`` the app serves now (``LATEST``); ``NotTrained`` when there is none."""
    version = _latest(_root(), model)
    if version is None:
        raise NotTrained(model, f"no {model} model has been trained yet")
    return version


@functools.lru_cache(maxsize=4)
def _artifact(root: str, model: str, version: str) -> Artifact:
    try:
        return ArtifactStore(root).load(model, version)
    except ArtifactError as exc:
        raise NotTrained(model, str(exc)) from exc


@functools.lru_cache(maxsize=16)
def _loaded(root: str, model: str, version: str, loader: Callable[[Artifact], object]) -> object:
    try:
        return loader(_artifact(root, model, version))
    except ArtifactError as exc:
        raise NotTrained(model, str(exc)) from exc


def served_artifact(model: str) -> Artifact:
    """The verified artifact of the served version of ``model``."""
    return _artifact(_root(), model, served_version(model))


def load_served(model: str, loader: Callable[[Artifact], T]) -> T:
    """``loader(artifact)`` of the served version of ``model``, computed once per worker and version.

    ``loader`` must be a module-level function (it is part of the cache key); it should read only what the pages
    need (models and small summaries), never a table that grows with the bank.

    Raises
    ------
    NotTrained
        No version, or the artifact (or what ``loader`` reads of it) fails verification.
    """
    return _loaded(_root(), model, served_version(model), loader)  # type: ignore[return-value]
