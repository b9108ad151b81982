"""Publishing the risk model: every borrower scored into ``risk_scores`` (the model's PD, the reason codes the
applicant view gives) and the evidence the Monitoring and Models pages read; the candidates compared on a bounded
stratified sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import risk
from bankdata import ArtifactStore, Bank, published_rows, query, read_evidence, write_bank
from risk import publishing
from risk.explain import contributions
from risk.training import cv_sample


@pytest.fixture(scope="module")
def artifact(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory):
    store = ArtifactStore(root=tmp_path_factory.mktemp("risk-publish") / "checkpoints")
    return risk.train_from_bank(small_bank, store, quick=True)


@pytest.fixture(scope="module")
def published(artifact, small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('risk-publish-db') / 'bank.db'}"
    write_bank(small_bank, url=url)
    written = risk.publish(artifact, small_bank, url)
    assert written == {"risk_scores": small_bank.loans["customer_id"].nunique()}
    return url


def test_reason_texts_equal_reason_codes_row_by_row(artifact, small_bank: Bank) -> None:
    model = risk.RiskModel.load(artifact)
    x = model.encode(risk.latest_loans(small_bank))[:300]
    shap = contributions(model.booster, x).values
    joined = risk.reason_texts(model.spec, x, shap, top=4)
    assert joined == [" | ".join(risk.reason_codes(model.spec, x[i], shap[i], top=4)) for i in range(len(x))]
    assert risk.reason_texts(model.spec, x[:0], shap[:0]) == []
    with pytest.raises(ValueError, match="equally shaped"):
        risk.reason_texts(model.spec, x, shap[:, :-1])


def test_publish_writes_one_row_per_borrower_with_the_models_pd(
    artifact, small_bank: Bank, published: str
) -> None:
    rows = query(sa.select(risk.SCORES_TABLE), published).set_index("customer_id")
    loans = risk.latest_loans(small_bank)
    model = risk.RiskModel.load(artifact)
    assert rows.index.is_unique and set(rows.index) == set(loans["customer_id"])
    assert published_rows(risk.SCORES_TABLE, artifact.version, published) == len(loans)
    expected = (
        model.score(loans)
        .assign(customer_id=loans["customer_id"].to_numpy(), loan_id=loans["loan_id"].to_numpy())
        .set_index("customer_id")
    )
    got = rows.loc[expected.index]
    np.testing.assert_allclose(got["pd"].to_numpy(), expected["pd"].to_numpy(), rtol=1e-12)
    assert (got["band"].to_numpy() == expected["band"].astype(str).to_numpy()).all()
    assert (got["loan_id"].to_numpy() == expected["loan_id"].to_numpy()).all()  # each customer's latest loan
    for i in (0, 7, 42):
        e = model.explain(loans.iloc[[i]])
        assert rows.loc[int(loans["customer_id"].iloc[i]), "reasons"] == " | ".join(e.reasons)


def test_publish_writes_fairness_drift_and_card_evidence(artifact, small_bank: Bank, published: str) -> None:
    frame = risk.loan_frame(small_bank)
    version = artifact.version
    grid = read_evidence("risk", version, "fairness_grid", published)
    trained = artifact.load_json("report.json")["threshold"]
    assert round(trained, 4) in grid["thresholds"] and 0.0 in grid["thresholds"] and 0.6 in grid["thresholds"]
    at_training = read_evidence("risk", version, "fairness", published)
    direct = risk.model_fairness(artifact, frame)
    assert at_training["attributes"]["gender"]["groups"] == direct["attributes"]["gender"]["groups"]
    at_030 = read_evidence("risk", version, publishing.threshold_key(0.3), published)
    assert at_030["threshold"] == pytest.approx(0.3)
    assert at_030["attributes"] == risk.model_fairness(artifact, frame, 0.3)["attributes"]
    calm, shifted = (
        risk.MonitorReport.from_dict(read_evidence("risk", version, publishing.drift_key(s), published))
        for s in (0.0, 2.0)
    )
    assert shifted.score_psi > 0.25 and shifted.alerts and calm.score_psi < shifted.score_psi
    assert list(shifted.score_bins.columns) == ["bin", "expected", "actual", "psi"]
    rates = read_evidence("risk", version, publishing.drift_key(0.0), published)["true_default_rate"]
    assert rates["-1.00"] < rates["0.00"] < rates["2.00"]  # concept drift shows in outcomes only
    card = read_evidence("risk", version, "card", published)
    assert {"metrics_ci", "calibration", "fairness", "limits"} <= set(card)
    summary = read_evidence("risk", version, "scores_summary", published)
    assert sum(summary["bands"].values()) == summary["borrowers"] == small_bank.loans["customer_id"].nunique()


def test_monitor_grid_equals_monitor(artifact, small_bank: Bank) -> None:
    model = risk.RiskModel.load(artifact)
    frame = risk.loan_frame(small_bank)
    later = risk.loan_frame(__import__("bankdata").generate_later_batch(small_bank, seed=5, shift=1.0))
    one = risk.monitor(model, frame, later)
    grid = risk.monitor_grid(model, frame, {"a": later, "b": frame})
    pd.testing.assert_frame_equal(grid["a"].features, one.features)
    assert grid["a"].score_psi == one.score_psi and grid["b"].score_psi == pytest.approx(0.0, abs=1e-9)
    back = risk.MonitorReport.from_dict(one.to_dict())
    pd.testing.assert_frame_equal(back.features, one.features)
    pd.testing.assert_frame_equal(back.stability, one.stability)
    assert back.rows == one.rows and back.alerts == one.alerts and back.mean_pd == one.mean_pd


def test_cv_sample_is_stratified_and_bounded() -> None:
    y = np.r_[np.ones(300, dtype=int), np.zeros(2_700, dtype=int)]
    rows = cv_sample(y, 1_000, seed=3)
    assert rows is not None and len(rows) == 1_000 and np.all(np.diff(rows) > 0)
    assert y[rows].sum() == 100  # the default rate is kept
    assert cv_sample(y, 5_000) is None


def test_candidates_compared_on_a_sample_champion_fitted_on_all(small_bank: Bank, tmp_path) -> None:
    frame = risk.loan_frame(small_bank)
    book = risk.prepare_loan_book(frame, "defaulted", "1", source="demo bank loans")
    trained = risk.train_loan_book(
        book, quick=True, models=("lightgbm",), imbalance=("none",), cv_limit=1_000
    )
    assert len(trained.cv.y) == len(trained.cv_rows) <= 1_001
    assert trained.report["rows"] == len(book.y) and trained.report["cv_rows"] == len(trained.cv.y)
    assert "sample of" in trained.report["cv_note"] and f"{len(book.y):,} loans" in trained.report["cv_note"]
    art = risk.save_trained(trained, ArtifactStore(tmp_path / "checkpoints"))
    evaluation = art.load_npz("evaluation.npz")
    assert (evaluation["rows"] == trained.cv_rows).all()
    assert (evaluation["y"] == book.y[trained.cv_rows]).all()
    fair = risk.model_fairness(
        art, frame
    )  # out-of-fold PDs of the sample, with the sample's protected groups
    assert fair["scores"] == "out-of-fold" and fair["rows"] == len(trained.cv_rows)
    assert sum(g["n"] for g in fair["attributes"]["gender"]["groups"]) == len(trained.cv_rows)


def test_publish_writes_permutation_importance_on_held_out_loans_and_partial_dependence(
    artifact, published: str
) -> None:
    model = risk.RiskModel.load(artifact)
    perm = read_evidence("risk", artifact.version, "permutation_importance", published)
    assert perm["features"] == model.spec.features and len(perm["mean"]) == len(perm["std"]) == len(
        perm["features"]
    )
    assert "later month" in perm["held_out"] and perm["rows"] > 0 and 0.5 < perm["auc"] <= 1.0
    pdp = read_evidence("risk", artifact.version, "pdp", published)
    sample = artifact.load_npz("explain.npz")["x"]
    assert pdp == risk.insights.pdp_evidence(model, sample)  # what the insights compute, stored as it is
    assert set(pdp["features"]) == set(model.spec.features) and pdp["rows"] == min(len(sample), 500)
