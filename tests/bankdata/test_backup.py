"""Backup and restore: the database and the artifacts come back together, verified, and nothing is overwritten
unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bankdata import ArtifactStore, append_audit, read_audit, save_npz, table_counts, write_bank
from bankdata._backup import MANIFEST, backup, read_manifest, restore
from ledgerlight.cli import main


@pytest.fixture()
def deployment(tmp_path: Path, small_bank, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'live' / 'bank.db'}"
    ckpt = tmp_path / "live" / "checkpoints"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(ckpt))
    write_bank(small_bank, url)
    store = ArtifactStore(ckpt)
    store.save(
        "segments",
        lambda d: save_npz(d / "c.npz", c=np.ones(3)),
        params={"k": 3},
        metrics={},
        features={},
        data_fingerprint="f",
        row_count=3,
    )
    return url, ckpt


def test_a_backup_restores_the_database_and_the_served_versions(deployment, tmp_path: Path) -> None:
    url, ckpt = deployment
    served = ArtifactStore(ckpt).latest("segments")
    report = backup(tmp_path / "b1", url=url, checkpoints=ckpt)
    assert report.database == "copied" and report.served == {"segments": served}
    before = table_counts(url)
    append_audit("mia", "after_backup", "x", url=url)  # a change made after the backup
    with pytest.raises(ValueError, match="pass --replace"):
        restore(tmp_path / "b1", url=url, checkpoints=ckpt)
    restore(tmp_path / "b1", url=url, checkpoints=ckpt, replace=True)
    assert table_counts(url) == before
    assert "after_backup" not in set(read_audit(url)["action"])  # the database is the one backed up
    assert ArtifactStore(ckpt).latest("segments") == served
    assert ArtifactStore(ckpt).load("segments").metadata["params"] == {"k": 3}
    assert list(ckpt.parent.glob("checkpoints.before-restore-*"))  # the replaced files are kept aside


def test_a_changed_or_incomplete_backup_is_refused_before_anything_is_touched(
    deployment, tmp_path: Path
) -> None:
    url, ckpt = deployment
    backup(tmp_path / "b", url=url, checkpoints=ckpt)
    meta = next((tmp_path / "b" / "checkpoints").rglob("metadata.json"))
    meta.write_text(meta.read_text() + " ")
    with pytest.raises(ValueError, match="changed since the backup"):
        restore(tmp_path / "b", url=url, checkpoints=ckpt, replace=True)
    assert not list(ckpt.parent.glob("*.before-restore-*"))
    meta.unlink()
    with pytest.raises(ValueError, match="is missing"):
        read_manifest(tmp_path / "b")
    with pytest.raises(ValueError, match="not a Ledgerlight backup"):
        read_manifest(tmp_path)
    with pytest.raises(ValueError, match="exists: a backup goes into a new folder"):
        backup(tmp_path / "b", url=url, checkpoints=ckpt)


def test_the_commands_back_up_and_restore_with_an_audit_row(deployment, tmp_path: Path, capsys) -> None:
    url, ckpt = deployment
    assert main(["backup", "--out", str(tmp_path / "nightly")]) == 0
    assert "database copied" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "nightly" / MANIFEST).read_text())
    assert manifest["backend"] == "sqlite" and "database.sqlite" in manifest["files"]
    assert main(["restore", str(tmp_path / "nightly")]) == 2  # refused: the live files exist
    assert "--replace" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "nightly"), "--replace"]) == 0
    assert "restore" in set(read_audit(url)["action"])
