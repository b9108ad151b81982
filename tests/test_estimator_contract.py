"""One estimator contract for the three model families (docs/contracts.md, "Estimators").

Every model: unfitted use raises scikit-learn's ``NotFittedError``; ``load`` reads what ``save`` wrote and the
loaded model has the same hyperparameters and the same predictions; the thread setting, where there is one, is
called ``n_jobs`` (1 or 2 here) and files saved under its older names still load.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError

import recsys
from bankdata import ArtifactStore
from recsys import (
    ALSRecommender,
    EASERecommender,
    InteractionMatrix,
    MFRecommender,
    PopularityRecommender,
    Recommender,
)
from risk.calibration import ScoreCalibrator
from risk.features import FeatureSpec
from risk.models import CategoricalLGBM
from risk.scoring import RiskModel
from risk.tuning import TunedLGBM
from segmentation.model import SegmentModel

OLD_THREAD_NAMES = ("num_threads", "n_threads")


# -- data -------------------------------------------------------------------------------------------------
def _interactions() -> InteractionMatrix:
    """60 users, two tastes over 8 items."""
    rng = np.random.default_rng(0)
    rows = [
        (1000 + u, int(item), float(rng.integers(1, 5)))
        for u in range(60)
        for item in rng.choice(
            np.arange(100, 104) if u % 2 == 0 else np.arange(104, 108), size=3, replace=False
        )
    ]
    return InteractionMatrix.from_frame(pd.DataFrame(rows, columns=["user_id", "item_id", "weight"]))


def _blobs() -> pd.DataFrame:
    x, _ = make_blobs(n_samples=400, centers=3, n_features=3, random_state=0)
    return pd.DataFrame(x * [1.0, 10.0, 100.0], columns=["age", "tenure_months", "credit_score"])


def _scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    s = rng.random(300)
    return s, (rng.random(300) < s**2).astype(int)


def _risk_model() -> RiskModel:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + rng.normal(scale=0.5, size=400) > 0.5).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 4, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(x, y), num_boost_round=10)  # fmt: skip
    raw = booster.predict(x)
    spec = FeatureSpec(numeric=["a", "b"], categorical={}, fill={"a": 0.0, "b": 0.0})
    return RiskModel(spec, booster, ScoreCalibrator(method="sigmoid", random_state=3).fit(raw, y))


RISK_ROWS = pd.DataFrame({"a": np.linspace(-2, 2, 9), "b": np.linspace(1, -1, 9)})


# -- the models, one case each ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """How to build, fit, use, save and load one model through its own API."""

    make: Callable[[], Any]
    fit: Callable[[Any], Any]
    predict: Callable[[Any], np.ndarray]
    save: Callable[[Any, Path], Any]
    load: Callable[[Any], Any]


def _recsys_case(make: Callable[[], Recommender]) -> Case:
    matrix = _interactions()
    users = np.append(matrix.user_ids[:6], 999_999)  # one cold start
    return Case(
        make=make,
        fit=lambda m: m.fit(matrix),
        predict=lambda m: m.score(users),
        save=lambda m, folder: m.save(folder / "model.npz"),
        load=Recommender.load,
    )


def _calibrator_case() -> Case:
    s, y = _scores()

    def save(model: ScoreCalibrator, folder: Path) -> Path:
        (folder / "calibration.json").write_text(json.dumps(model.to_dict()), encoding="utf-8")
        return folder / "calibration.json"

    return Case(
        make=lambda: ScoreCalibrator(method="auto", random_state=4),
        fit=lambda m: m.fit(s, y),
        predict=lambda m: m.predict(s),
        save=save,
        load=lambda path: ScoreCalibrator.from_dict(json.loads(path.read_text(encoding="utf-8"))),
    )


def _segments_case() -> Case:
    blobs = _blobs()
    return Case(
        make=lambda: SegmentModel(
            n_clusters=None,
            k_range=(2, 3, 4),
            n_bootstrap=2,
            n_references=2,
            selection_sample=300,
            n_init=2,
            random_state=5,
            n_jobs=2,
        ),  # fmt: skip
        fit=lambda m: m.fit(blobs),
        predict=lambda m: np.column_stack([m.predict(blobs), m.project(blobs)]),
        save=lambda m, folder: (m.save(folder / "segments.npz"), folder / "segments.npz")[1],
        load=SegmentModel.load,
    )


CASES: dict[str, Callable[[], Case]] = {
    "recsys.popularity": lambda: _recsys_case(lambda: PopularityRecommender(weighted=True)),
    "recsys.als": lambda: _recsys_case(
        lambda: ALSRecommender(
            factors=4,
            iterations=3,
            regularization=0.2,
            alpha=2.0,
            weighting="bm25",
            bm25_b=0.5,
            n_jobs=1,
            random_state=6,
        )
    ),  # fmt: skip
    "recsys.mf": lambda: _recsys_case(
        lambda: MFRecommender(
            factors=4,
            epochs=3,
            batch_size=16,
            lr=0.01,
            weight_decay=1e-3,
            n_negatives=8,
            user_dropout=0.1,
            weighted=False,
            random_state=7,
            n_jobs=1,
        )
    ),  # fmt: skip
    "recsys.ease": lambda: _recsys_case(lambda: EASERecommender(regularization=30.0, side_features=False)),
    "segmentation.segments": _segments_case,
    "risk.calibrator": _calibrator_case,
}


def _params(model: Any) -> dict[str, Any]:
    return model.get_params()


# -- the contract ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_unfitted_use_raises_sklearns_not_fitted_error(name: str, tmp_path: Path) -> None:
    case = CASES[name]()
    with pytest.raises(NotFittedError, match="not fitted"):
        case.predict(case.make())
    with pytest.raises(NotFittedError):
        case.save(case.make(), tmp_path)


@pytest.mark.parametrize("name", CASES)
def test_save_load_round_trip_keeps_params_and_predictions(name: str, tmp_path: Path) -> None:
    case = CASES[name]()
    model = case.fit(case.make())
    loaded = case.load(case.save(model, tmp_path))
    assert type(loaded) is type(model)
    assert _params(loaded) == _params(model) == _params(case.make())
    np.testing.assert_allclose(case.predict(loaded), case.predict(model), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", CASES)
def test_thread_setting_is_called_n_jobs_and_checked(name: str) -> None:
    case = CASES[name]()
    names = set(inspect.signature(type(case.make()).__init__).parameters)
    assert not names & set(OLD_THREAD_NAMES)
    if "n_jobs" not in names:  # popularity, EASE and the calibrator are single-threaded numpy: no setting
        pytest.skip(f"{name} has no thread setting")
    model = case.make()
    model.n_jobs = 3
    with pytest.raises(ValueError, match=r"^n_jobs must be 1 or 2 on this deployment, got 3$"):
        case.fit(model)


def test_recsys_not_fitted_error_is_sklearns() -> None:
    assert recsys.NotFittedError is NotFittedError
    assert issubclass(recsys.NotFittedError, ValueError) and issubclass(recsys.NotFittedError, AttributeError)


@pytest.mark.parametrize("old", OLD_THREAD_NAMES)
def test_recommender_files_with_an_older_thread_name_still_load(old: str, tmp_path: Path) -> None:
    model = ALSRecommender(factors=4, iterations=3, n_jobs=1).fit(_interactions())
    path = model.save(tmp_path / "als.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    params = json.loads(str(arrays["params"]))
    params[old] = params.pop("n_jobs")
    np.savez(tmp_path / "old.npz", **{**arrays, "params": np.array(json.dumps(params))})
    loaded = Recommender.load(tmp_path / "old.npz")
    assert loaded.get_params() == model.get_params()


def test_segment_files_with_n_threads_still_load(tmp_path: Path) -> None:
    blobs = _blobs()
    model = SegmentModel(n_clusters=3, n_jobs=2).fit(blobs)
    model.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    params = json.loads(str(arrays["params"]))
    params["n_threads"] = params.pop("n_jobs")
    np.savez(tmp_path / "old.npz", **{**arrays, "params": np.array(json.dumps(params))})
    loaded = SegmentModel.load(tmp_path / "old.npz")
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(blobs), model.predict(blobs))


def test_calibrator_files_without_params_load_with_the_method_in_use() -> None:
    s, y = _scores()
    cal = ScoreCalibrator(method="isotonic", random_state=9).fit(s, y)
    old = {k: v for k, v in cal.to_dict().items() if k != "params"}
    loaded = ScoreCalibrator.from_dict(old)
    assert loaded.method == "isotonic"
    np.testing.assert_allclose(loaded.predict(s), cal.predict(s))


# -- risk: the served model loads from the folder it saved and from the artifact ----------------------------
def test_risk_model_loads_the_folder_that_save_wrote_and_the_artifact(tmp_path: Path) -> None:
    model = _risk_model()
    folder = model.save(tmp_path / "risk")
    from_folder = RiskModel.load(folder)
    store = ArtifactStore(tmp_path / "store")
    artifact = store.save("risk", write=model.save, params={}, metrics={}, features={"a": "float", "b": "float"},
                          data_fingerprint="0" * 64, row_count=400)  # fmt: skip
    from_artifact = RiskModel.load(artifact)
    for loaded in (from_folder, from_artifact, RiskModel.load(str(folder))):
        assert loaded.spec == model.spec
        assert loaded.calibrator.get_params() == model.calibrator.get_params()
        assert loaded.booster.num_trees() == model.booster.num_trees()
        np.testing.assert_allclose(loaded.predict_pd(RISK_ROWS), model.predict_pd(RISK_ROWS), rtol=1e-9)


def test_risk_model_folder_missing_a_file_is_refused(tmp_path: Path) -> None:
    from bankdata import ArtifactError

    folder = _risk_model().save(tmp_path / "risk")
    (folder / "calibration.json").unlink()
    with pytest.raises(ArtifactError, match="calibration.json"):
        RiskModel.load(folder)
    with pytest.raises(ArtifactError, match="no risk model folder"):
        RiskModel.load(tmp_path / "nowhere")


@pytest.mark.parametrize("model", [CategoricalLGBM(), TunedLGBM()], ids=["lightgbm", "lightgbm_tuned"])
def test_lightgbm_wrappers_unfitted_raise_not_fitted_error(model) -> None:
    with pytest.raises(NotFittedError):
        model.predict_proba(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((2, 2)))


def test_lightgbm_wrapper_thread_setting_is_n_jobs_and_checked() -> None:
    x = np.random.default_rng(0).normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(int)
    assert CategoricalLGBM(n_jobs=2, fallback_rounds=5, early_stopping_rounds=0).fit(x, y).model_.n_jobs == 2
    with pytest.raises(ValueError, match=r"^n_jobs must be 1 or 2 on this deployment, got 3$"):
        CategoricalLGBM(n_jobs=3, fallback_rounds=5, early_stopping_rounds=0).fit(x, y)
