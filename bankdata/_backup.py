"""Back up and restore the database and the trained artifacts together, so a restored deployment serves the same
model versions it served when the backup was taken.

A backup is a folder: ``database.sqlite`` (a consistent copy taken with SQLite's online backup, while the app keeps
serving), ``checkpoints/`` (every saved version and each model's ``LATEST`` pointer) and ``manifest.json`` (when, from
where, the served versions and the sha256 of every file). Restoring verifies every sha256 first and refuses to
replace an existing database or artifact folder unless asked; it copies into temporary names and renames into place.

PostgreSQL is backed up with its own tools (``pg_dump``/``pg_restore``, docs/deploy.md); :func:`backup` then copies
the artifacts and writes the manifest, and records that the database is not in the folder.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bankdata._artifacts import LATEST, sha256_file
from bankdata._config import get_settings
from bankdata._db import engine_for

MANIFEST = "manifest.json"
DATABASE_FILE = "database.sqlite"
CHECKPOINTS = "checkpoints"
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    """What a backup or a restore did."""

    folder: Path
    database: str  # "copied", or why not ("PostgreSQL: use pg_dump ...")
    files: int
    served: dict[str, str]

    def describe(self, verb: str) -> str:
        """One line for a person."""
        served = ", ".join(f"{m} {v}" for m, v in sorted(self.served.items())) or "no model versions"
        return f"{verb} {self.folder}: database {self.database}; {self.files:,} artifact file(s); serves {served}"


def _sqlite_path(url: str) -> Path | None:
    u = sa.make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    if not u.database or u.database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up")
    return Path(u.database)


def _served(checkpoints: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text().strip() for p in sorted(checkpoints.glob(f"*/{LATEST}"))}


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def backup(out: str | Path, *, url: str | None = None, checkpoints: str | Path | None = None) -> BackupReport:
    """Write a backup folder ``out`` (which must not exist yet) of the database and the artifact store.

    Raises
    ------
    ValueError
        ``out`` exists, the SQLite file does not, or the URL is an in-memory database.
    """
    settings = get_settings()
    url = url or settings.database_url
    source_ckpt = Path(checkpoints or settings.checkpoints_dir)
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out} exists: a backup goes into a new folder")
    db_file = _sqlite_path(url)
    if db_file is not None and not db_file.exists():
        raise ValueError(f"the SQLite database {db_file} does not exist: nothing to back up")
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        if db_file is not None:
            with sqlite3.connect(db_file) as src, sqlite3.connect(tmp / DATABASE_FILE) as dst:
                src.backup(dst)  # consistent while other processes write (WAL included)
            database = "copied"
        else:
            database = "not in the folder (PostgreSQL: back it up with pg_dump, docs/deploy.md)"
        if source_ckpt.exists():
            shutil.copytree(source_ckpt, tmp / CHECKPOINTS, ignore=shutil.ignore_patterns(".tmp-*", "*.lock"))
        else:
            (tmp / CHECKPOINTS).mkdir()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": sa.make_url(url).get_backend_name(),
            "database": database,
            "served": _served(tmp / CHECKPOINTS),
            "files": _files(tmp),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    n_ckpt = sum(1 for f in manifest["files"] if f.startswith(CHECKPOINTS + "/"))
    return BackupReport(folder=out, database=database, files=n_ckpt, served=manifest["served"])


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a backup folder, after checking every file's sha256 against it.

    Raises
    ------
    ValueError
        Not a backup folder, an unknown format, or a file missing, added or changed since the backup.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise ValueError(f"{folder} is not a Ledgerlight backup (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(
            f"{path}: unknown backup format {manifest.get('format')!r} (this version reads {FORMAT})"
        )
    expected: dict[str, str] = manifest.get("files", {})
    found = {
        p for p in (str(q.relative_to(folder)) for q in folder.rglob("*") if q.is_file()) if p != MANIFEST
    }
    for name in sorted(set(expected) - found):
        raise ValueError(f"backup {folder}: {name} is missing")
    for name in sorted(found - set(expected)):
        raise ValueError(f"backup {folder}: {name} was not in the backup")
    for name, digest in expected.items():
        if sha256_file(folder / name) != digest:
            raise ValueError(f"backup {folder}: {name} changed since the backup (sha256 differs)")
    return manifest


def restore(folder: str | Path, *, url: str | None = None, checkpoints: str | Path | None = None,
            replace: bool = False) -> BackupReport:  # fmt: skip
    """Put a verified backup back: the SQLite database file and the artifact folder.

    Stop the app first (workers keep their open database files). Without ``replace`` an existing database file or a
    non-empty artifact folder is left alone and the restore is refused; with it they are replaced (renamed aside as
    ``*.before-restore-<time>`` first, never deleted).

    Raises
    ------
    ValueError
        The backup does not verify, the target is PostgreSQL while the backup holds a SQLite file (restore it with
        pg_restore), or the targets exist and ``replace`` is false.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    settings = get_settings()
    url = url or settings.database_url
    target_ckpt = Path(checkpoints or settings.checkpoints_dir)
    db_file = _sqlite_path(url)
    has_db = (folder / DATABASE_FILE).exists()
    if has_db and db_file is None:
        raise ValueError("this backup holds a SQLite database and DATABASE_URL names PostgreSQL: restore the "
                         "PostgreSQL database with pg_restore, or point DATABASE_URL at a SQLite file")  # fmt: skip
    busy = [str(p) for p in (db_file if has_db else None, target_ckpt)
            if p is not None and p.exists() and (p.is_file() or any(p.iterdir()))]  # fmt: skip
    if busy and not replace:
        raise ValueError(f"{' and '.join(busy)} already exist: pass --replace to replace them (they are kept "
                         "aside as *.before-restore-<time>)")  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if has_db and db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        staged = db_file.with_name(f".{db_file.name}.restore-{stamp}")
        shutil.copyfile(folder / DATABASE_FILE, staged)
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{db_file}{suffix}")
            if old.exists():
                old.rename(Path(f"{db_file}{suffix}.before-restore-{stamp}"))
        staged.rename(db_file)
        engine_for(url).dispose()  # this process's pooled connections still point at the file renamed aside
    staged_ckpt = target_ckpt.with_name(f".{target_ckpt.name}.restore-{stamp}")
    shutil.copytree(folder / CHECKPOINTS, staged_ckpt)
    if target_ckpt.exists():
        target_ckpt.rename(target_ckpt.with_name(f"{target_ckpt.name}.before-restore-{stamp}"))
    staged_ckpt.rename(target_ckpt)
    n_ckpt = sum(1 for f in manifest["files"] if f.startswith(CHECKPOINTS + "/"))
    database = "restored" if has_db else manifest.get("database", "not in the folder")
    return BackupReport(folder=folder, database=database, files=n_ckpt, served=manifest.get("served", {}))
