"""The served version's ``LATEST`` pointer is re-read only when the file changes, and every change is seen at once."""

from __future__ import annotations

import os
from pathlib import Path

from dashapp.services import served


def _point(folder: Path, version: str) -> None:
    tmp = folder / ".LATEST.tmp"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, folder / "LATEST")  # as ArtifactStore.promote does


def test_a_promotion_is_seen_on_the_next_call_and_an_unchanged_pointer_is_not_reread(
    tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "risk"
    folder.mkdir()
    assert served._latest(str(tmp_path), "risk") is None  # never trained
    _point(folder, "v0001")
    assert served._latest(str(tmp_path), "risk") == "v0001"
    reads = []
    real = served.ArtifactStore.latest
    monkeypatch.setattr(served.ArtifactStore, "latest", lambda self, m: reads.append(m) or real(self, m))
    for _ in range(5):
        assert served._latest(str(tmp_path), "risk") == "v0001"
    assert reads == []  # one stat per call, no read
    _point(folder, "v0002")
    assert served._latest(str(tmp_path), "risk") == "v0002"
    (folder / "LATEST").write_text(
        "v0003-long\n", encoding="utf-8"
    )  # edited in place: another size and mtime
    assert served._latest(str(tmp_path), "risk") == "v0003-long"
    (folder / "LATEST").unlink()
    assert served._latest(str(tmp_path), "risk") is None
    assert len(reads) == 3
