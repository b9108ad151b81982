"""The tuned LightGBM searches inside the rows it is fitted on; monotone constraints hold; the side-by-side report."""

from __future__ import annotations

import argparse

import lightgbm as lgb
import numpy as np
import pytest
from lightgbm import LGBMClassifier
from sklearn.model_selection import StratifiedKFold

import risk.tuning
from risk import cli as risk_cli
from risk.loanbook import prepare_loan_book
from risk.models import Candidate, CategoricalLGBM, make_pipeline, monotone_vector, parse_monotone
from risk.training import save_trained, train_loan_book
from risk.tuning import TunedLGBM, Tuning, average_boosters, sample_params
from risk.validation import assign_folds, cross_validate

TUNED = [Candidate("lightgbm_tuned", "none")]
#: a fixed number of trials and a budget that never ends the search: the chosen parameters depend on the data only
FIXED = Tuning(time_budget=1e6, trials=4, inner_folds=2)


def _data(n: int = 900, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 3))
    logit = -1.2 + 1.5 * z[:, 0] - 0.8 * z[:, 1] + 0.7 * np.sin(3 * z[:, 2])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.c_[np.arange(n, dtype=float), z], y  # column 0 identifies the row


def test_search_receives_only_the_training_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _data()
    seen: list[set[int]] = []
    fit = TunedLGBM.fit

    def recording_fit(self, xs, ys):  # noqa: ANN001, ANN202
        seen.append(set(np.asarray(xs)[:, 0].astype(int).tolist()))
        return fit(self, xs, ys)

    monkeypatch.setattr(risk.tuning.TunedLGBM, "fit", recording_fit)
    result = cross_validate(x, y, [], TUNED, n_folds=3, quick=True, tuning=FIXED)
    folds = assign_folds(y, 3)
    assert len(seen) == 3
    for k, rows in enumerate(seen):
        assert rows == set(np.flatnonzero(folds != k).tolist())  # the training fold, all of it, nothing else
    assert len(result.search["lightgbm_tuned+none"]) == 3


def test_poisoned_test_rows_do_not_change_the_chosen_parameters() -> None:
    x, y = _data()
    folds = assign_folds(y, 3)
    clean = cross_validate(x, y, [], TUNED, n_folds=3, quick=True, tuning=FIXED)
    poisoned = x.copy()
    test0 = folds == 0
    poisoned[test0, 1:] = np.random.default_rng(1).normal(0, 50, size=(test0.sum(), 3))
    dirty = cross_validate(poisoned, y, [], TUNED, n_folds=3, quick=True, tuning=FIXED)
    before, after = clean.search["lightgbm_tuned+none"], dirty.search["lightgbm_tuned+none"]
    assert before[0]["best_params"] == after[0]["best_params"]  # fold 0's search never saw its test rows
    assert before[0]["best_score"] == after[0]["best_score"]
    # the poisoned rows are training rows of the other folds: there the search's inputs did change
    assert [b["best_score"] for b in before[1:]] != [a["best_score"] for a in after[1:]]


def test_search_tries_the_defaults_first_and_keeps_the_best() -> None:
    x, y = _data()
    model = TunedLGBM(
        CategoricalLGBM(n_estimators=100, learning_rate=0.1, early_stopping_rounds=10), **FIXED.params()
    )
    model.fit(x[:, 1:], y)
    search = model.search_
    assert search["trials"] == 4 and search["rows"] == len(y)
    assert search["best_score"] >= search["default_score"]
    assert model.predict_proba(x[:, 1:]).shape == (len(y), 2)
    assert model.n_estimators_ == search["rounds"] >= 1


def test_time_budget_ends_the_search() -> None:
    x, y = _data()
    model = TunedLGBM(CategoricalLGBM(n_estimators=100, learning_rate=0.1), time_budget=0.0, trials=50)
    model.fit(x[:, 1:], y)
    assert model.search_["trials"] == 1  # the defaults are always scored, nothing after the budget
    assert model.best_params_ == {}


def test_sampled_parameters_stay_in_range() -> None:
    rng = np.random.default_rng(0)
    draws = [sample_params(rng, 2_000) for _ in range(200)]
    for p in draws:
        assert 4 <= p["num_leaves"] <= 16 and p["max_depth"] in (-1, 3, 4, 5)
        assert 5 <= p["min_child_samples"] <= 100 and 5 <= p["min_data_per_group"] <= 100
        assert 0.01 <= p["learning_rate"] <= 0.05 and 0.3 <= p["feature_fraction"] <= 0.9
        assert 0.5 <= p["bagging_fraction"] <= 1 and 0.1 <= p["reg_lambda"] <= 100
        assert p["reg_alpha"] >= 0 and p["min_split_gain"] >= 0 and p["path_smooth"] >= 0
        assert p["max_cat_to_onehot"] in (4, 64) and p["max_bin"] in (63, 127, 255)
    assert {p["extra_trees"] for p in draws} == {True, False}  # both sides of each switch are searched
    assert {p["max_cat_to_onehot"] for p in draws} == {4, 64}
    assert CategoricalLGBM().set_params(**draws[0]).get_params()["path_smooth"] == draws[0]["path_smooth"]


def test_new_parameters_at_their_defaults_leave_the_untuned_model_unchanged() -> None:
    x, y = _data()
    ours = CategoricalLGBM(n_estimators=60, early_stopping_rounds=0, fallback_rounds=60).fit(x[:, 1:], y)
    plain = LGBMClassifier(
        n_estimators=60, learning_rate=0.03, num_leaves=7, min_child_samples=20, subsample=0.8, subsample_freq=1,
        colsample_bytree=0.7, reg_lambda=5.0, cat_smooth=50.0, min_data_per_group=20, max_cat_threshold=8,
        random_state=0, n_jobs=1, verbose=-1,
    ).fit(x[:, 1:], y)  # fmt: skip
    assert np.allclose(ours.predict_proba(x[:, 1:]), plain.predict_proba(x[:, 1:]))


def test_average_boosters_scores_the_mean_log_odds_in_one_text_model() -> None:
    x, y = _data()
    members = [
        LGBMClassifier(
            n_estimators=20 + 15 * i, num_leaves=5, colsample_bytree=0.7, random_state=i, verbose=-1
        ).fit(x[:, 1:], y)
        for i in range(3)
    ]
    mean = np.mean([m.predict(x[:, 1:], raw_score=True) for m in members], axis=0)
    merged = average_boosters(members)
    assert merged.booster_.num_trees() == 20 + 35 + 50
    assert np.allclose(merged.predict(x[:, 1:], raw_score=True), mean)
    reread = lgb.Booster(model_str=merged.booster_.model_to_string())  # what the artifact stores
    assert np.allclose(reread.predict(x[:, 1:], raw_score=True), mean)
    contrib = reread.predict(x[:, 1:], pred_contrib=True)  # TreeSHAP still adds up to the averaged score
    assert np.allclose(contrib.sum(axis=1), mean)


def test_search_is_reproducible_and_averages_the_best_sets() -> None:
    x, y = _data()
    base = CategoricalLGBM(n_estimators=200, learning_rate=0.1, early_stopping_rounds=10)
    first = TunedLGBM(base, time_budget=1e6, trials=6, inner_folds=3, ensemble=3, random_state=3).fit(
        x[:, 1:], y
    )
    again = TunedLGBM(base, time_budget=1e6, trials=6, inner_folds=3, ensemble=3, random_state=3).fit(
        x[:, 1:], y
    )
    assert first.search_["trials"] == again.search_["trials"] == 6  # the trial count, not the clock, ends it
    assert np.array_equal(first.predict_proba(x[:, 1:]), again.predict_proba(x[:, 1:]))
    members = first.search_["ensemble"]
    scores = [m["score"] for m in members]
    assert len(members) == 3 and scores == sorted(scores, reverse=True)
    assert scores[0] == first.search_["best_score"] >= first.search_["default_score"]
    assert members[0]["params"] == first.best_params_
    assert first.model_.booster_.num_trees() == sum(m["rounds"] for m in members)
    single = TunedLGBM(base, time_budget=1e6, trials=6, inner_folds=3, ensemble=1, random_state=3).fit(
        x[:, 1:], y
    )
    assert single.best_params_ == first.best_params_ and single.search_["best_score"] == scores[0]
    assert single.model_.booster_.num_trees() == members[0]["rounds"]


def test_inner_score_is_the_best_round_of_the_mean_curve(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _data()
    model = TunedLGBM(trials=1, inner_folds=3)
    base = CategoricalLGBM(n_estimators=150, learning_rate=0.1, early_stopping_rounds=10)
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(x, y))
    curves = []
    original = LGBMClassifier.fit

    def recording(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        fitted = original(self, *args, **kwargs)
        curves.append(np.asarray(fitted.evals_result_["valid_0"]["auc"]))
        return fitted

    monkeypatch.setattr(LGBMClassifier, "fit", recording)
    score, rounds = model._score(base, x[:, 1:], y, splits, None)
    mean = np.mean([c[: min(map(len, curves))] for c in curves], axis=0)
    assert len(curves) == 3 and rounds == int(np.argmax(mean)) + 1 and score == pytest.approx(mean.max())
    assert score <= np.mean([c.max() for c in curves])  # one round for all folds: no per-fold cherry-picking


def _u_shaped(n: int = 3_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Defaults rise with delinquencies (column 0) except a dip in the middle the unconstrained model follows."""
    rng = np.random.default_rng(seed)
    delinquencies = rng.integers(0, 10, n).astype(float)
    other = rng.standard_normal(n)
    logit = -2 + 0.3 * delinquencies - 2.5 * ((delinquencies >= 4) & (delinquencies <= 6)) + other
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.c_[delinquencies, other], y


def _pd_along_delinquencies(model: object, others: float) -> np.ndarray:
    grid = np.c_[np.arange(10, dtype=float), np.full(10, others)]
    return model.predict_proba(grid)[:, 1]  # type: ignore[attr-defined]


@pytest.mark.parametrize("family", ["lightgbm", "lightgbm_tuned"])
def test_monotone_constraint_holds(family: str) -> None:
    x, y = _u_shaped()
    free = make_pipeline(Candidate(family, "none"), [], 2, quick=True, tuning=FIXED).fit(x, y)
    tied = make_pipeline(Candidate(family, "none"), [], 2, quick=True, tuning=FIXED, monotone=(1, 0)).fit(
        x, y
    )
    assert np.any(np.diff(_pd_along_delinquencies(free, 0.0)) < -1e-6)  # the data alone would lower the PD
    for others in (-1.5, 0.0, 1.5):
        assert np.all(np.diff(_pd_along_delinquencies(tied, others)) >= -1e-12)


def test_monotone_vector_maps_names_to_columns() -> None:
    features = ["dti", "credit_score", "prior_delinquencies", "purpose"]
    declared = parse_monotone("prior_delinquencies=+1, credit_score=-1,missing_here=+1")
    assert declared == {"prior_delinquencies": 1, "credit_score": -1, "missing_here": 1}
    assert monotone_vector(features, [3], declared) == (0, -1, 1, 0)
    assert monotone_vector(features, [3], {}) == ()
    with pytest.raises(ValueError, match="categorical"):
        monotone_vector(features, [3], {"purpose": 1})
    with pytest.raises(ValueError, match="FEATURE=\\+1"):
        parse_monotone("dti=up")


def _book():  # noqa: ANN202
    x, y = _u_shaped(1_500)
    import pandas as pd

    frame = pd.DataFrame({"prior_delinquencies": x[:, 0], "score": x[:, 1], "bad": y})
    return prepare_loan_book(frame, "bad", 1, source="synthetic")


def test_evaluate_reports_tuned_and_untuned_side_by_side() -> None:
    args = argparse.Namespace(
        models=("lightgbm", "logistic"), imbalance=("none", "class_weight"), folds=3, seed=0, tune=True,
        cost_missed_default=5.0, cost_rejected_good=1.0, time_budget=1e6, trials=3, monotone=None, data="f.csv",
    )  # fmt: skip
    report = risk_cli.evaluate_book(_book(), args)
    assert set(report["models"]) == {
        f"{m}+{i}" for m in ("lightgbm", "lightgbm_tuned", "logistic") for i in ("none", "class_weight")
    }
    side = report["tuned_vs_untuned"]
    assert set(side) == {"none", "class_weight"}
    for treatment, row in side.items():
        auc = row["roc_auc"]
        assert auc["untuned"] == report["models"][f"lightgbm+{treatment}"]["roc_auc"]
        assert auc["tuned"] == report["models"][f"lightgbm_tuned+{treatment}"]["roc_auc"]
        assert auc["gain"] == pytest.approx(auc["tuned"]["mean"] - auc["untuned"]["mean"])
        assert len(row["search"]) == 3 and all(s["trials"] == 3 for s in row["search"])


def test_train_tuned_records_constraints_and_parameters(tmp_store) -> None:  # noqa: ANN001
    book = _book()
    trained = train_loan_book(
        book, quick=True, models=("lightgbm",), imbalance=("none",), tune=True, tuning=FIXED,
        monotone={"prior_delinquencies": 1},
    )  # fmt: skip
    assert trained.champion == "lightgbm_tuned+none"
    assert set(trained.report["candidates"]) == {"lightgbm+none", "lightgbm_tuned+none"}
    assert trained.report["monotone"] == {"prior_delinquencies": 1}
    assert trained.report["tuning"]["final"]["rows"] == len(book.y)
    artifact = save_trained(trained, tmp_store, "risk-tuned")
    params = artifact.metadata["params"]
    assert params["monotone_constraints"] == {"prior_delinquencies": 1}
    assert params["tuned_params"] == trained.report["tuning"]["final"]["best_params"]
    x = np.c_[np.arange(10, dtype=float), np.zeros(10)]
    assert np.all(np.diff(trained.model.predict_encoded(x)) >= -1e-12)  # the served, calibrated PD too


def test_cli_evaluate_tune_and_monotone_flags(tmp_path, capsys) -> None:  # noqa: ANN001
    import json

    import pandas as pd

    from ledgerlight.cli import main

    x, y = _u_shaped(1_000)
    path = tmp_path / "loans.csv"
    pd.DataFrame({"prior_delinquencies": x[:, 0], "score": x[:, 1], "bad": y}).to_csv(path, index=False)
    argv = ["risk", "evaluate", "--data", str(path), "--target", "bad", "--folds", "2", "--models", "lightgbm",
            "--imbalance", "none", "--tune", "--time-budget", "1000", "--trials", "2",
            "--monotone", "prior_delinquencies=+1", "--json"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["models"]) == {"lightgbm+none", "lightgbm_tuned+none"}
    assert report["monotone"] == {"prior_delinquencies": 1}
    assert [s["trials"] for s in report["tuned_vs_untuned"]["none"]["search"]] == [2, 2]


def test_bank_constraints_skip_a_feature_that_is_text_in_a_loaded_bank(small_bank, tmp_store) -> None:  # noqa: ANN001
    from dataclasses import replace

    import risk

    loans = small_bank.loans.assign(dti=lambda d: np.where(d["dti"] > d["dti"].median(), "high", "low"))
    artifact = risk.train_from_bank(replace(small_bank, loans=loans), tmp_store, quick=True)
    assert artifact.metadata["params"]["monotone_constraints"] == {
        "prior_delinquencies": 1,
        "credit_score": -1,
    }


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--trials", "0", "--trials: must be a whole number of at least 1"),
    ("--ensemble", "0", "--ensemble: must be a whole number of at least 1"),
    ("--time-budget", "-1", "--time-budget: must be a number of seconds above 0"),
    ("--time-budget", "nan", "--time-budget: must be a number of seconds above 0"),
    ("--monotone", "dti=+5", "expected FEATURE=+1 or FEATURE=-1, got 'dti=+5'"),
])  # fmt: skip
def test_cli_tuning_options_refuse_bad_values_with_the_reason(
    flag: str, value: str, message: str, capsys
) -> None:  # noqa: ANN001
    from ledgerlight.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["risk", "evaluate", "--demo-customers", "200", "--tune", flag, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
