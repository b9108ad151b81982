"""Training on the demo bank: the artifact, scoring customers, the oracle, explanations and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import risk
from bankdata import ArtifactError, ArtifactStore, Bank
from risk import cli as risk_cli


@pytest.fixture(scope="module")
def trained(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> risk.Artifact:  # type: ignore[name-defined]
    store = ArtifactStore(root=tmp_path_factory.mktemp("risk") / "checkpoints")
    return risk.train_from_bank(small_bank, store, quick=True)


def test_artifact_holds_safe_files_and_the_report(trained) -> None:  # noqa: ANN001
    assert {
        "model.txt",
        "spec.json",
        "calibration.json",
        "evaluation.npz",
        "explain.npz",
        "report.json",
    } <= set(trained.metadata["files"])
    report = trained.load_json("report.json")
    assert report["champion"].startswith("lightgbm+")
    # setup's comparison: LightGBM and logistic regression x none/class weights (all nine: `risk evaluate`)
    assert set(report["candidates"]) == {
        f"{m}+{i}" for m in risk.training.BANK_MODELS for i in risk.training.BANK_IMBALANCE
    }
    assert "random_forest+none" not in report["candidates"] and "lightgbm+smote" not in report["candidates"]
    assert report["monotone"] == risk.training.BANK_MONOTONE
    assert trained.metadata["params"]["monotone_constraints"] == risk.training.BANK_MONOTONE
    assert "age" not in report["features"] and "gender" not in report["features"]
    assert set(report["protected"]) == {"age", "gender"}
    assert 0.8 < report["oracle"]["ratio"] <= 1.05
    assert trained.metadata["metrics"]["roc_auc"] > 0.7


def test_score_customers_one_row_per_borrower(trained, small_bank: Bank) -> None:  # noqa: ANN001
    scored = risk.score_customers(small_bank, trained)
    assert list(scored.columns) == ["customer_id", "pd", "band"]
    assert scored["customer_id"].is_unique
    assert len(scored) == small_bank.loans["customer_id"].nunique()
    assert scored["pd"].between(0, 1).all() and set(scored["band"]) <= set(risk.BANDS)
    # a higher band means a higher probability of default
    means = scored.groupby("band", observed=True)["pd"].mean()
    assert means.is_monotonic_increasing


def test_calibrated_probabilities_match_the_default_rate(trained, small_bank: Bank) -> None:  # noqa: ANN001
    model = risk.RiskModel.load(trained)
    frame = risk.loan_frame(small_bank)
    assert model.predict_pd(frame).mean() == pytest.approx(frame["defaulted"].mean(), abs=0.03)


def test_explanation_waterfall_adds_up(trained, small_bank: Bank) -> None:  # noqa: ANN001
    model = risk.RiskModel.load(trained)
    row = risk.latest_loans(small_bank).iloc[[0]]
    e = model.explain(row)
    assert e.base_pd + e.shap_pd.sum() == pytest.approx(e.pd)
    assert e.base_logit + e.shap_logit.sum() == pytest.approx(
        float(model.booster.predict(model.encode(row), raw_score=True)[0])
    )
    assert e.band == risk.risk_band(e.pd)
    assert not any("age" in r.lower().split() or "gender" in r.lower() for r in e.reasons)


def test_what_if_edit_changes_the_score(trained, small_bank: Bank) -> None:  # noqa: ANN001
    model = risk.RiskModel.load(trained)
    row = risk.latest_loans(small_bank).iloc[0].to_dict()
    better = model.explain({**row, "credit_score": 820, "prior_delinquencies": 0, "dti": 0.1}).pd
    worse = model.explain({**row, "credit_score": 450, "prior_delinquencies": 4, "dti": 0.9}).pd
    assert worse > better


def test_tampered_model_file_is_refused(trained) -> None:  # noqa: ANN001
    path = Path(trained.path) / "model.txt"
    original = path.read_bytes()
    path.chmod(0o644)
    try:
        path.write_bytes(original.replace(b"tree", b"TREE", 1))
        store = ArtifactStore(root=Path(trained.path).parents[1])
        with pytest.raises(ArtifactError, match="model.txt"):
            store.load("risk", trained.version)
    finally:
        path.write_bytes(original)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    import argparse

    parser = argparse.ArgumentParser()
    risk_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def test_cli_evaluate_prints_one_json_object(small_bank: Bank, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    frame = risk.loan_frame(small_bank).assign(
        defaulted=lambda d: np.where(d["defaulted"] == 1, "bad", "good")
    )
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    argv = [
        "risk",
        "evaluate",
        "--data",
        str(path),
        "--target",
        "defaulted",
        "--positive",
        "bad",
        "--folds",
        "3",
    ]
    code, out = _run([*argv, "--models", "lightgbm,logistic", "--imbalance", "none", "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and set(report["models"]) == {"lightgbm+none", "logistic+none"}
    for metrics in report["models"].values():
        assert set(metrics) >= {"roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "ks", "brier"}
        assert set(metrics["roc_auc"]) == {"mean", "std"}
        assert metrics["roc_auc"]["mean"] > 0.65
    assert report["protected_excluded"] == ["age", "gender"]


def test_cli_evaluate_demo_bank_reports_the_oracle(capsys) -> None:  # noqa: ANN001
    argv = [
        "risk",
        "evaluate",
        "--demo-customers",
        "1500",
        "--folds",
        "3",
        "--models",
        "lightgbm",
        "--imbalance",
        "none",
    ]
    code, out = _run([*argv, "--json"], capsys)
    oracle = json.loads(out)["oracle"]["lightgbm+none"]
    assert code == 0 and 0.6 < oracle["ratio"] <= 1.05 and oracle["oracle_roc_auc"] > 0.7


def test_cli_data_without_target_is_a_clear_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match="--target"):
        _run(["risk", "evaluate", "--data", str(tmp_path / "x.csv")], capsys)
