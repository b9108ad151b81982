"""LightGBM early-stops on held-out rows of its own training fold: never the outer validation fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from lightgbm import LGBMClassifier

import risk.models
from risk.loanbook import prepare_loan_book
from risk.models import Candidate, CategoricalLGBM, inner_split, make_pipeline
from risk.training import train_loan_book
from risk.validation import cross_validate


class RecordingLGBM(LGBMClassifier):
    """LGBMClassifier that remembers the row ids (column 0) it was fitted on and stopped on."""

    calls: list[dict[str, np.ndarray | None]] = []

    def fit(self, X, y, **kwargs):  # noqa: ANN001, ANN003, ANN201, N803
        eval_x = kwargs.get("eval_X")
        RecordingLGBM.calls.append(
            {
                "fit": np.asarray(X)[:, 0].copy(),
                "stop": None if eval_x is None else np.asarray(eval_x[0])[:, 0].copy(),
            }
        )
        return super().fit(X, y, **kwargs)


class RecordingSMOTE(SMOTE):
    """SMOTE that remembers the row ids it was asked to resample."""

    seen: list[np.ndarray] = []

    def fit_resample(self, x, y, **kwargs):  # noqa: ANN001, ANN003, ANN201
        RecordingSMOTE.seen.append(np.asarray(x)[:, 0].copy())
        return super().fit_resample(x, y, **kwargs)


def _rows(ids: np.ndarray) -> set[int]:
    return set(ids.astype(int).tolist())


def _data(n: int = 900, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 1.5 * z[:, 0])))).astype(int)
    return np.c_[np.arange(n, dtype=float), z], y  # column 0 identifies the row


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> None:
    RecordingLGBM.calls, RecordingSMOTE.seen = [], []
    monkeypatch.setattr(risk.models, "LGBMClassifier", RecordingLGBM)
    monkeypatch.setattr(
        risk.models,
        "_sampler",
        lambda cat, n_features, k, seed: RecordingSMOTE(k_neighbors=k, random_state=seed),
    )


@pytest.mark.usefixtures("recording")
@pytest.mark.parametrize("imbalance", ["none", "class_weight", "smote"])
def test_early_stopping_rows_come_from_the_training_fold_only(imbalance: str) -> None:
    x, y = _data()
    result = cross_validate(x, y, [], [Candidate("lightgbm", imbalance)], n_folds=3, quick=True)
    calls = RecordingLGBM.calls
    assert len(calls) == 6  # per fold: one early-stopped probe, one refit
    for k in range(3):
        probe, refit = calls[2 * k], calls[2 * k + 1]
        training = _rows(np.flatnonzero(result.folds != k))
        validation = _rows(np.flatnonzero(result.folds == k))
        stop = _rows(probe["stop"])
        assert stop and stop <= training and not stop & validation
        assert refit["stop"] is None
        if imbalance == "smote":
            probe_smote, refit_smote = RecordingSMOTE.seen[2 * k], RecordingSMOTE.seen[2 * k + 1]
            assert _rows(probe_smote) == training - stop  # the stopping rows stay real and unseen
            assert _rows(refit_smote) == training
        else:
            assert _rows(probe["fit"]) == training - stop
            assert _rows(refit["fit"]) == training
    if imbalance == "smote":
        assert len(RecordingSMOTE.seen) == 6  # never at prediction time
    else:
        assert RecordingSMOTE.seen == []


def test_inner_split_is_stratified_disjoint_and_refuses_too_few_defaults() -> None:
    y = np.r_[np.ones(50, dtype=int), np.zeros(450, dtype=int)]
    fit, stop = inner_split(y, 0.2, seed=0)
    assert len(stop) == 100 and y[stop].sum() == 10
    assert not set(fit) & set(stop) and len(fit) + len(stop) == len(y)
    assert inner_split(np.r_[np.ones(9, dtype=int), np.zeros(500, dtype=int)], 0.2, seed=0) is None
    assert inner_split(y, 0.0, seed=0) is None


def test_boosting_stops_early_on_noise_and_refits_on_every_row() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((1_000, 4)), (rng.random(1_000) < 0.3).astype(int)  # labels ignore x
    model = CategoricalLGBM(n_estimators=400, learning_rate=0.1, early_stopping_rounds=20).fit(x, y)
    assert model.best_iteration_ < 100
    assert model.n_estimators_ == max(1, round(model.best_iteration_ * model.refit_factor))
    assert model.model_.booster_.num_trees() == model.n_estimators_


def test_without_enough_defaults_it_fits_the_full_rounds() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((300, 2)), np.r_[np.ones(6, dtype=int), np.zeros(294, dtype=int)]
    model = CategoricalLGBM(n_estimators=300, learning_rate=0.1, fallback_rounds=30).fit(x, y)
    assert model.best_iteration_ is None and model.model_.booster_.num_trees() == 30


def test_wide_categoricals_are_split_as_ordered_codes() -> None:
    rng = np.random.default_rng(5)
    n = 2_000
    x = np.c_[rng.standard_normal(n), rng.integers(0, 4, n), rng.integers(0, 40, n)]
    y = (rng.random(n) < 1 / (1 + np.exp(-(x[:, 0] + 0.05 * x[:, 2] - 2)))).astype(int)
    pipe = make_pipeline(Candidate("lightgbm", "none"), [1, 2], 3, quick=True).fit(x, y)
    model = pipe.named_steps["model"]
    assert model.categorical_ == [1]  # 4 levels: a category set; 40 levels: ordered codes
    assert model.model_.booster_.dump_model()["feature_infos"]["Column_2"]["max_value"] == 39


def test_fit_names_a_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="one row per label"):
        CategoricalLGBM().fit(np.zeros((10, 2)), np.zeros(9))


def test_the_training_report_names_the_rounds_of_the_saved_booster() -> None:
    rng = np.random.default_rng(6)
    n = 1_200
    frame = pd.DataFrame({"score": rng.standard_normal(n), "grade": rng.choice(list("ABCD"), n)})
    logit = -1.2 + 1.3 * frame["score"] + 0.6 * (frame["grade"] == "D")
    frame["bad"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    book = prepare_loan_book(frame, "bad", 1)
    trained = train_loan_book(book, quick=True, models=("lightgbm",), imbalance=("none",))
    rounds = trained.report["boosting_rounds"]
    assert 1 <= rounds["early_stopped"] < 150
    assert rounds["final"] == trained.model.booster.num_trees()
