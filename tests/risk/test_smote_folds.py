"""SMOTE resamples training rows only: never a validation fold, never at prediction time."""

from __future__ import annotations

import numpy as np
from imblearn.over_sampling import SMOTE

import risk.models
from risk.models import Candidate, candidates
from risk.validation import cross_validate


class RecordingSMOTE(SMOTE):
    """SMOTE that remembers the rows it was asked to resample."""

    seen: list[np.ndarray] = []

    def fit_resample(self, x, y, **kwargs):  # noqa: ANN001, ANN201
        RecordingSMOTE.seen.append(np.asarray(x).copy())
        return super().fit_resample(x, y, **kwargs)


def test_smote_only_sees_the_training_folds(monkeypatch) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    n = 600
    x = np.c_[np.arange(n, dtype=float), rng.standard_normal((n, 2))]  # column 0 identifies the row
    y = (rng.random(n) < 0.15).astype(int)
    RecordingSMOTE.seen = []
    monkeypatch.setattr(
        risk.models,
        "_sampler",
        lambda cat, n_features, k, seed: RecordingSMOTE(k_neighbors=k, random_state=seed),
    )
    result = cross_validate(x, y, [], [Candidate("logistic", "smote")], n_folds=3, quick=True)
    assert len(RecordingSMOTE.seen) == 3  # one resampling per training fold, none when predicting
    for k, seen in enumerate(RecordingSMOTE.seen):
        validation_rows = set(np.flatnonzero(result.folds == k).tolist())
        training_rows = set(np.flatnonzero(result.folds != k).tolist())
        assert set(seen[:, 0].astype(int).tolist()) == training_rows
        assert not validation_rows & set(seen[:, 0].astype(int).tolist())


def test_every_model_takes_every_imbalance_treatment() -> None:
    rng = np.random.default_rng(1)
    x = np.c_[rng.standard_normal((300, 2)), rng.integers(0, 3, 300)]
    y = (rng.random(300) < 0.2).astype(int)
    result = cross_validate(x, y, [2], candidates(), n_folds=2, quick=True)
    assert len(result.per_fold) == 9
    for name, rows in result.per_fold.items():
        assert 0.0 <= rows[0]["roc_auc"] <= 1.0, name
