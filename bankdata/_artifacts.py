"""The artifact store: ``root/<model>/<version>/`` folders with a verified ``metadata.json``, and a ``LATEST`` pointer.

A version is written into a temporary folder inside ``root``, hashed, described, and renamed into place: a version
is never overwritten and never half-written. Loading checks the schema version and the sha256 of every file.
Safe formats only: :func:`save_npz` / :meth:`Artifact.load_npz` (no pickles) and :func:`save_json`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankdata._config import get_settings

SCHEMA_VERSION = 1
METADATA = "metadata.json"
LATEST = "LATEST"
LIBRARIES = ("numpy", "pandas", "scikit-learn", "lightgbm", "torch", "implicit", "shap", "imbalanced-learn")
_VERSION_RE = re.compile(r"^\d{8}T\d{6}Z(?:-(\d+))?$")
_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ArtifactError(RuntimeError):
    """An artifact is missing, corrupt or does not match what this code expects."""


# --- safe formats ---------------------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, datetime | pd.Timestamp):
        return obj.isoformat()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def save_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (numpy scalars and arrays, paths and timestamps are converted)."""
    Path(path).write_text(
        json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n", encoding="utf-8"
    )


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write numeric or text arrays to an ``.npz``; object arrays (which would need pickle) are refused."""
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(
                f"array {name!r} has dtype object, which needs pickle; convert it to numbers or str"
            )
    # typed Any: numpy's stub would match the spread values against its allow_pickle: bool keyword
    payload: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez(path, **payload)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(df: pd.DataFrame) -> str:
    """A stable sha256 of a DataFrame's values, column names and dtypes (the index is ignored)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    digest.update(str(len(df)).encode())
    if len(df.columns):
        digest.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of python and the numerical libraries that are installed (read from metadata, nothing imported)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


# --- artifacts ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    """One verified version of a model: its folder and its metadata."""

    model: str
    version: str
    path: Path
    metadata: dict = field(repr=False)

    def file(self, name: str) -> Path:
        """The path of one of the artifact's files; ``ArtifactError`` if the metadata does not list it."""
        if name not in self.metadata["files"]:
            listed = ", ".join(sorted(self.metadata["files"])) or "none"
            raise ArtifactError(
                f"{self.model}/{self.version}: no file {name!r} in the artifact (files: {listed})"
            )
        return self.path / name

    def load_npz(self, name: str) -> dict[str, np.ndarray]:
        """Read an ``.npz`` file of the artifact into a dict of arrays, without ever unpickling."""
        try:
            with np.load(self.file(name), allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
        except ValueError as exc:
            raise ArtifactError(f"{self.model}/{self.version}: {name}: cannot read safely: {exc}") from None

    def load_json(self, name: str) -> Any:
        """Read a JSON file of the artifact."""
        try:
            return json.loads(self.file(name).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{self.model}/{self.version}: {name}: not valid JSON: {exc}") from None


def _version_key(version: str) -> tuple[str, int]:
    base, _, suffix = version.partition("-")
    return base, int(suffix or 0)


def _new_version_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


class ArtifactStore:
    """Versioned, verified model artifacts under ``root`` (default ``get_settings().checkpoints_dir``).

    Parameters
    ----------
    root : str or Path, optional
        The store's folder; created on the first save.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else get_settings().checkpoints_dir

    def __repr__(self) -> str:
        return f"ArtifactStore(root={str(self.root)!r})"

    def _model_dir(self, model: str) -> Path:
        if not _MODEL_RE.match(model):
            raise ArtifactError(f"invalid model name {model!r} (letters, digits, '_', '-', '.')")
        return self.root / model

    # -- writing --

    def save(
        self,
        model: str,
        write: Callable[[Path], None],
        *,
        params: Mapping[str, Any],
        metrics: Mapping[str, Any],
        features: Mapping[str, str],
        data_fingerprint: str,
        row_count: int,
        extra: Mapping[str, Any] | None = None,
        promote: bool | None = None,
    ) -> Artifact:
        """Write a new version of ``model``: a candidate, served only once promoted (the first version is).

        Parameters
        ----------
        model : str
            Model name (``risk``, ``segments``, ``recsys``, ...).
        write : callable
            ``write(tmp_dir)`` writes the artifact's files into ``tmp_dir``.
        params, metrics : mapping
            Hyperparameters and evaluation figures (JSON-serialisable; numpy scalars are fine).
        features : mapping
            ``{feature name: dtype}`` the model expects.
        data_fingerprint : str
            :func:`fingerprint` of the training data.
        row_count : int
            Training rows.
        extra : mapping, optional
            Anything else worth recording.
        promote : bool, optional
            Move ``LATEST`` to the new version. The default (None) does it only when the model has no ``LATEST`` yet:
            the first version of a model is served, every later one is a candidate until promoted.

        Returns
        -------
        Artifact
            The verified, saved version.
        """
        model_dir = self._model_dir(model)
        model_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{model}-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            write(tmp)
            files = {
                p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()
            }
            if METADATA in files:
                raise ArtifactError(f"{model}: the writer must not create {METADATA}; the store writes it")
            if not files:
                raise ArtifactError(f"{model}: the writer created no files")
            meta = {
                "schema_version": SCHEMA_VERSION,
                "model": model,
                "version": None,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "data_fingerprint": data_fingerprint,
                "row_count": int(row_count),
                "features": {str(k): str(v) for k, v in features.items()},
                "params": dict(params),
                "metrics": dict(metrics),
                "libraries": library_versions(),
                "files": files,
                "extra": dict(extra or {}),
            }
            version = self._move_into_place(tmp, model_dir, meta)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if promote or (promote is None and self.latest(model) is None):
            self.promote(model, version)
        return self.load(model, version)

    def _move_into_place(self, tmp: Path, model_dir: Path, meta: dict) -> str:
        """Pick a free version name, write metadata, and rename; ``os.rename`` refuses a taken, non-empty folder."""
        stamp = _new_version_stamp()
        for n in range(1000):
            version = stamp if n == 0 else f"{stamp}-{n}"
            if (model_dir / version).exists():
                continue
            save_json(tmp / METADATA, {**meta, "version": version})
            try:
                os.rename(tmp, model_dir / version)
            except OSError:  # another writer took this name between the check and the rename
                continue
            return version
        raise ArtifactError(f"{meta['model']}: no free version name for {stamp}")

    def promote(self, model: str, version: str) -> None:
        """Make ``version`` the one :meth:`load` returns by default (atomic replace of ``LATEST``)."""
        self.load(model, version)  # refuse to point at a missing or corrupt version
        model_dir = self._model_dir(model)
        tmp = model_dir / f".{LATEST}.{uuid.uuid4().hex}"
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, model_dir / LATEST)

    # -- reading --

    def versions(self, model: str) -> list[str]:
        """All saved versions of ``model``, oldest first (empty if none)."""
        model_dir = self._model_dir(model)
        if not model_dir.is_dir():
            return []
        found = [p.name for p in model_dir.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)]
        return sorted(found, key=_version_key)

    def latest(self, model: str) -> str | None:
        """The version ``LATEST`` points to, or None when the model was never saved."""
        pointer = self._model_dir(model) / LATEST
        if not pointer.is_file():
            return None
        return pointer.read_text(encoding="utf-8").strip() or None

    def load(self, model: str, version: str | None = None) -> Artifact:
        """Load and verify a version (default: the latest).

        Raises
        ------
        ArtifactError
            Naming the model, the version and the file: nothing saved, unknown version, missing or unreadable
            metadata, another schema version, a listed file missing or with another sha256, an unlisted file.
        """
        if version is None:
            version = self.latest(model)
            if version is None:
                raise ArtifactError(
                    f"{model}: no trained artifact in {self._model_dir(model)}; train it first"
                )
        where = f"{model}/{version}"
        path = self._model_dir(model) / version
        if not _VERSION_RE.match(version) or not path.is_dir():
            known = ", ".join(self.versions(model)[-5:]) or "none"
            raise ArtifactError(f"{where}: no such version in {self.root} (latest versions: {known})")
        meta = self._read_metadata(path, where)
        for key, expected in (("model", model), ("version", version)):
            if meta.get(key) != expected:
                raise ArtifactError(
                    f"{where}: {METADATA} says {key} {meta.get(key)!r}, expected {expected!r}"
                )
        self._verify_files(path, meta["files"], where)
        return Artifact(model=model, version=version, path=path, metadata=meta)

    @staticmethod
    def _read_metadata(path: Path, where: str) -> dict:
        meta_path = path / METADATA
        if not meta_path.is_file():
            raise ArtifactError(f"{where}: {METADATA} is missing")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{where}: {METADATA} is not valid JSON: {exc}") from None
        if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
            found = meta.get("schema_version") if isinstance(meta, dict) else None
            raise ArtifactError(
                f"{where}: {METADATA} has schema_version {found!r}, this code reads {SCHEMA_VERSION}; retrain the model"
            )
        if not isinstance(meta.get("files"), dict):
            raise ArtifactError(f"{where}: {METADATA} lists no files")
        return meta

    @staticmethod
    def _verify_files(path: Path, files: dict[str, str], where: str) -> None:
        for name, digest in files.items():
            file = path / name
            if not file.is_file():
                raise ArtifactError(f"{where}: file {name} is missing")
            if sha256_file(file) != digest:
                raise ArtifactError(f"{where}: file {name} is corrupt (sha256 does not match {METADATA})")
        present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {METADATA}
        unlisted = sorted(present - set(files))
        if unlisted:
            raise ArtifactError(f"{where}: file {unlisted[0]} is not listed in {METADATA}")
