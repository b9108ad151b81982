"""The artifact store: round trip, verification, never overwriting, LATEST and promote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankdata import ArtifactError, ArtifactStore, fingerprint
from bankdata._artifacts import save_json, save_npz


def writer(weights: np.ndarray):
    def write(tmp: Path) -> None:
        save_npz(tmp / "weights.npz", w=weights, names=np.array(["a", "b"]))
        (tmp / "model.txt").write_text("tree\n", encoding="utf-8")
        (tmp / "sub").mkdir()
        save_json(tmp / "sub" / "config.json", {"k": np.int64(3)})

    return write


def save(store: ArtifactStore, weights: np.ndarray | None = None, **kwargs) -> object:
    weights = np.arange(4.0) if weights is None else weights
    return store.save(
        "risk",
        writer(weights),
        params={"lr": np.float64(0.1), "leaves": 31},
        metrics={"auc": 0.81},
        features={"age": "int64", "income": "float64"},
        data_fingerprint="abc",
        row_count=np.int64(1000),
        **kwargs,
    )


def test_round_trip(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store, extra={"note": "first"})
    assert re.fullmatch(r"\d{8}T\d{6}Z", art.version)
    assert art.path == tmp_store.root / "risk" / art.version
    loaded = tmp_store.load("risk")
    assert loaded == art
    meta = loaded.metadata
    assert meta["schema_version"] == 1 and meta["model"] == "risk" and meta["row_count"] == 1000
    assert meta["params"] == {"lr": 0.1, "leaves": 31} and meta["metrics"] == {"auc": 0.81}
    assert meta["features"] == {"age": "int64", "income": "float64"} and meta["extra"] == {"note": "first"}
    assert {"python", "numpy", "pandas", "scikit-learn"} <= set(meta["libraries"])
    assert set(meta["files"]) == {"weights.npz", "model.txt", "sub/config.json"}
    arrays = loaded.load_npz("weights.npz")
    np.testing.assert_array_equal(arrays["w"], np.arange(4.0))
    assert arrays["names"].tolist() == ["a", "b"]
    assert loaded.load_json("sub/config.json") == {"k": 3}
    assert loaded.file("model.txt").read_text() == "tree\n"


def test_unlisted_file_name_is_refused(tmp_store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match=r"risk/\d{8}T\d{6}Z: no file 'model.bin'"):
        save(tmp_store).file("model.bin")


def test_versions_are_unique_within_one_second_and_never_overwritten(tmp_store: ArtifactStore) -> None:
    arts = [save(tmp_store, np.full(2, float(i))) for i in range(3)]
    versions = [a.version for a in arts]
    assert len(set(versions)) == 3
    assert tmp_store.versions("risk") == versions  # oldest first
    for i, art in enumerate(arts):  # each version still holds its own data
        np.testing.assert_array_equal(
            tmp_store.load("risk", art.version).load_npz("weights.npz")["w"], [i, i]
        )
    assert tmp_store.latest("risk") == versions[0]  # the first version is served; later ones are candidates
    assert not [p for p in tmp_store.root.iterdir() if p.name.startswith(".tmp")]


def test_later_versions_are_candidates_until_promoted(tmp_store: ArtifactStore) -> None:
    first = save(tmp_store)
    second = save(tmp_store)
    assert save(tmp_store, promote=True).version == tmp_store.latest("risk")  # promote=True serves it at once
    tmp_store.promote("risk", first.version)
    assert tmp_store.latest("risk") == first.version
    assert tmp_store.load("risk").version == first.version
    tmp_store.promote("risk", second.version)
    assert tmp_store.load("risk").version == second.version
    assert (tmp_store.root / "risk" / "LATEST").read_text().strip() == second.version


def test_promote_unknown_version_is_refused(tmp_store: ArtifactStore) -> None:
    save(tmp_store)
    with pytest.raises(ArtifactError, match="risk/20000101T000000Z: no such version"):
        tmp_store.promote("risk", "20000101T000000Z")


def test_nothing_saved(tmp_store: ArtifactStore) -> None:
    assert tmp_store.versions("risk") == [] and tmp_store.latest("risk") is None
    with pytest.raises(ArtifactError, match="risk: no trained artifact"):
        tmp_store.load("risk")


def test_corrupt_file_is_detected(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store)
    (art.path / "model.txt").write_text("tampered\n", encoding="utf-8")
    with pytest.raises(ArtifactError, match=rf"risk/{art.version}: file model.txt is corrupt"):
        tmp_store.load("risk")


def test_missing_file_is_detected(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store)
    (art.path / "weights.npz").unlink()
    with pytest.raises(ArtifactError, match=rf"risk/{art.version}: file weights.npz is missing"):
        tmp_store.load("risk", art.version)


def test_unlisted_extra_file_is_detected(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store)
    (art.path / "evil.pkl").write_bytes(b"\x80")
    with pytest.raises(ArtifactError, match="file evil.pkl is not listed"):
        tmp_store.load("risk")


def test_other_schema_version_is_refused(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store)
    meta_path = art.path / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=rf"risk/{art.version}: metadata.json has schema_version 99"):
        tmp_store.load("risk")


def test_broken_or_missing_metadata(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store)
    (art.path / "metadata.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="metadata.json is not valid JSON"):
        tmp_store.load("risk")
    (art.path / "metadata.json").unlink()
    with pytest.raises(ArtifactError, match="metadata.json is missing"):
        tmp_store.load("risk")


def test_metadata_of_another_model_is_refused(tmp_store: ArtifactStore) -> None:
    art = save(tmp_store)
    (tmp_store.root / "segments").mkdir()
    art.path.rename(tmp_store.root / "segments" / art.version)
    with pytest.raises(ArtifactError, match="says model 'risk', expected 'segments'"):
        tmp_store.load("segments", art.version)


def test_failed_writer_leaves_nothing(tmp_store: ArtifactStore) -> None:
    def broken(tmp: Path) -> None:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        tmp_store.save("risk", broken, params={}, metrics={}, features={}, data_fingerprint="", row_count=0)
    assert tmp_store.versions("risk") == [] and tmp_store.latest("risk") is None
    assert [p.name for p in tmp_store.root.iterdir()] == ["risk"]


def test_writer_may_not_write_metadata_or_nothing(tmp_store: ArtifactStore) -> None:
    def sneaky(tmp: Path) -> None:
        (tmp / "metadata.json").write_text("{}")

    kwargs = {"params": {}, "metrics": {}, "features": {}, "data_fingerprint": "", "row_count": 0}
    with pytest.raises(ArtifactError, match="must not create metadata.json"):
        tmp_store.save("risk", sneaky, **kwargs)
    with pytest.raises(ArtifactError, match="created no files"):
        tmp_store.save("risk", lambda tmp: None, **kwargs)


def test_invalid_model_name(tmp_store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="invalid model name '../x'"):
        tmp_store.load("../x")


def test_npz_refuses_object_arrays(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="needs pickle"):
        save_npz(tmp_path / "x.npz", a=np.array([{"a": 1}], dtype=object))


def test_fingerprint_is_stable_and_sensitive() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    fp = fingerprint(df)
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert fingerprint(df.copy()) == fp
    assert fingerprint(df.set_axis([7, 8, 9])) == fp  # the index does not matter
    assert fingerprint(df.assign(a=[1, 2, 4])) != fp
    assert fingerprint(df.rename(columns={"b": "c"})) != fp
    assert fingerprint(df.astype({"a": "float64"})) != fp
