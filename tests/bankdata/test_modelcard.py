"""Model cards from an artifact's metadata: every section present, intervals and fairness shown, values escaped."""

from __future__ import annotations

import pytest

from bankdata import ArtifactStore, model_card_html, model_card_sections


@pytest.fixture()
def artifact(tmp_store: ArtifactStore):
    def write(folder):
        (folder / "model.txt").write_text("weights", encoding="utf-8")

    return tmp_store.save(
        "risk",
        write,
        params={"champion": "lightgbm+none", "folds": 3},
        metrics={"roc_auc": 0.79, "brier": 0.075},
        features={"amount": "float64", "purpose": "category"},
        data_fingerprint="ab" * 32,
        row_count=2408,
        extra={"source": "demo bank loans", "limits": ["stored at training <time>"]},
    )


FAIRNESS = {
    "threshold": 0.2,
    "scores": "out-of-fold",
    "attributes": {
        "gender": {
            "reference": "F",
            "groups": [
                {
                    "group": "F",
                    "n": 10,
                    "approval_rate": 0.8,
                    "default_rate": 0.1,
                    "tpr": 0.5,
                    "fpr": 0.1,
                    "di_ratio": 1.0,
                    "eo_gap": 0.0,
                    "flag": False,
                },
                {
                    "group": "M",
                    "n": 12,
                    "approval_rate": 0.6,
                    "default_rate": 0.2,
                    "tpr": 0.7,
                    "fpr": 0.3,
                    "di_ratio": 0.75,
                    "eo_gap": 0.2,
                    "flag": True,
                },
            ],
        }
    },
}


def test_sections_from_metadata_and_evidence(artifact) -> None:
    evidence = {
        "metrics_ci": {"roc_auc": {"estimate": 0.79, "low": 0.75, "high": 0.83}},
        "ci_method": "bootstrap",
        "calibration": [{"bin": 1, "predicted": 0.01, "observed": 0.02, "n": 240}],
        "fairness": FAIRNESS,
    }
    sections = {s["title"]: s for s in model_card_sections(artifact.metadata, evidence)}
    assert {
        "Model",
        "Training data",
        "Features",
        "Parameters",
        "Metrics",
        "Calibration",
        "Fairness: gender",
        "Limits",
        "Libraries",
        "Files",
    } <= set(sections)
    metrics = {r[0]: r for r in sections["Metrics"]["rows"]}
    assert metrics["roc_auc"][2] == "0.75 – 0.83" and metrics["brier"][2] == ""
    assert "bootstrap" in sections["Metrics"]["note"]
    assert ["amount", "float64"] in sections["Features"]["rows"]
    assert ["rows", "2,408"] in sections["Training data"]["rows"]
    assert sections["Fairness: gender"]["rows"][1][-1] == "below 0.8"
    assert sections["Limits"]["rows"] == [["stored at training <time>"]]  # from metadata extra
    assert ["model.txt", artifact.metadata["files"]["model.txt"]] in sections["Files"]["rows"]


def test_without_evidence_the_card_says_so(artifact) -> None:
    sections = {s["title"]: s for s in model_card_sections(artifact.metadata)}
    assert "No confidence intervals" in sections["Metrics"]["note"]
    assert "Calibration" not in sections and not any(t.startswith("Fairness") for t in sections)


def test_html_is_escaped_and_self_contained(artifact) -> None:
    page = model_card_html(artifact.metadata, {"fairness": FAIRNESS, "limits": ["<script>alert(1)</script>"]})
    assert page.startswith("<!doctype html>") and f"Model card: risk {artifact.version}" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert 'class="flag">below 0.8' in page


def test_not_metadata_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks model, version"):
        model_card_sections({"metrics": {}})
