"""LightGBM with its hyperparameters searched on the rows it is fitted on, under a wall-clock budget.

:class:`TunedLGBM` is an estimator like any other candidate: cross-validation fits it on a training fold, and
everything the search looks at (inner folds, early stopping, the score that picks the winner) is made of that
fold's rows. The outer validation fold never reaches ``fit``, so it cannot influence the chosen parameters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from lightgbm import LGBMClassifier, early_stopping
from lightgbm.basic import _LIB, _safe_call
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold

from risk.models import CategoricalLGBM, FittedBoosterMixin

#: Safety cap on the seconds of search per fit (each outer fold and the final fit get their own); the trial count,
#: not the clock, ends the search on the shared files, so the result does not depend on the machine's load
TIME_BUDGET = 600.0
#: Most parameter sets tried per fit (the untuned defaults are always the first)
TRIALS = 40
#: Inner folds each parameter set is scored on
INNER_FOLDS = 3
#: Best parameter sets refitted on the fitted rows and averaged
ENSEMBLE = 5


@dataclass(frozen=True)
class Tuning:
    """Search settings of ``lightgbm_tuned``.

    Attributes
    ----------
    time_budget : float
        Wall-clock seconds of search per fit; a trial that would run past it is abandoned.
    trials : int
        Most parameter sets tried (the first is the untuned defaults).
    inner_folds : int
        Stratified folds of the fitted rows each set is scored on (mean ROC-AUC curve).
    ensemble : int
        Best sets refitted and averaged.
    """

    time_budget: float = TIME_BUDGET
    trials: int = TRIALS
    inner_folds: int = INNER_FOLDS
    ensemble: int = ENSEMBLE

    def params(self, quick: bool = False) -> dict[str, Any]:
        """Keyword arguments of :class:`TunedLGBM` (``quick``: at most 4 trials, 2 inner folds, 2 averaged, for
        tests)."""
        if quick:
            return {"time_budget": min(self.time_budget, 10.0), "trials": min(self.trials, 4), "inner_folds": 2,
                    "ensemble": min(self.ensemble, 2)}  # fmt: skip
        return {"time_budget": self.time_budget, "trials": self.trials, "inner_folds": self.inner_folds,
                "ensemble": self.ensemble}  # fmt: skip


def sample_params(rng: np.random.Generator, n_rows: int) -> dict[str, Any]:
    """One random parameter set for small tabular credit data: slow learning (the rounds come from the inner early
    stopping), shallow trees, leaves sized to ``n_rows``, strong L1/L2 and path smoothing, column and row sampling,
    categorical smoothing and one-vs-rest or set splits."""

    def log_uniform(low: float, high: float) -> float:
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))

    def sometimes(low: float, high: float, share: float = 0.5) -> float:
        return 0.0 if rng.random() < share else log_uniform(low, high)

    return {
        "learning_rate": log_uniform(0.01, 0.05),
        "num_leaves": int(rng.choice([4, 5, 6, 8, 11, 16])),
        "max_depth": int(rng.choice([-1, 3, 4, 5])),
        "min_child_samples": int(round(log_uniform(5, max(20.0, n_rows / 20)))),
        "min_sum_hessian": log_uniform(1e-3, 5.0),
        "feature_fraction": float(rng.uniform(0.3, 0.9)),
        "bagging_fraction": float(rng.uniform(0.5, 1.0)),
        "reg_lambda": log_uniform(0.1, 100.0),
        "reg_alpha": sometimes(0.01, 10.0),
        "min_split_gain": sometimes(0.001, 1.0),
        "path_smooth": sometimes(0.1, 50.0),
        "extra_trees": bool(rng.random() < 0.3),
        "cat_smooth": log_uniform(1.0, 100.0),
        "min_data_per_group": int(round(log_uniform(5, max(20.0, n_rows / 20)))),
        "max_cat_threshold": int(rng.choice([4, 8, 16, 32])),
        # 64: every narrow categorical is split one level against the rest (one-hot) rather than as a category set
        "max_cat_to_onehot": int(rng.choice([4, 64])),
        "max_bin": int(rng.choice([63, 127, 255])),
    }


def average_boosters(models: list[LGBMClassifier]) -> LGBMClassifier:
    """The first model, its booster turned into the mean (log-odds scale) of all ``models``' boosters.

    Every leaf is divided by the number of models and the trees are concatenated, so the one LightGBM text model
    (and its TreeSHAP) scores exactly the average raw score of the ensemble.
    """
    if len(models) == 1:
        return models[0]
    boosters = [m.booster_ for m in models]
    for booster in boosters:
        for tree, info in enumerate(booster.dump_model(num_iteration=-1)["tree_info"]):
            for leaf in range(info["num_leaves"]):
                booster.set_leaf_output(tree, leaf, booster.get_leaf_output(tree, leaf) / len(boosters))
    for other in boosters[1:]:  # LightGBM's own model merge (no Python wrapper): appends other's trees
        _safe_call(_LIB.LGBM_BoosterMerge(boosters[0]._handle, other._handle))
    return models[0]


class TunedLGBM(FittedBoosterMixin, ClassifierMixin, BaseEstimator):
    """Random search over a :class:`CategoricalLGBM`'s hyperparameters inside the rows it is fitted on.

    ``fit(x, y)`` splits *its own* rows into ``inner_folds`` stratified folds. Each parameter set (first the
    untuned ``base``, then ``trials - 1`` seeded :func:`sample_params` draws) is boosted on each inner training part
    (SMOTE-resampled when ``base`` has a sampler) with ROC-AUC recorded on the inner validation part each round;
    the set's score is the best round of the *mean* curve over the inner folds (one round count for all folds, as
    ``lightgbm.cv`` picks it), not the mean of each fold's own best. The ``ensemble`` best sets are refitted on all
    rows for ``refit_factor`` x their round count (member ``i`` with seed ``random_state + i``) and averaged in
    log-odds into one booster (:func:`average_boosters`). The trial count ends the search, so a seed gives the same
    model; ``time_budget`` seconds is only a safety cap (the defaults are always scored).

    Parameters
    ----------
    base : CategoricalLGBM
        The untuned model (categoricals, class weights, sampler, monotone constraints are kept).
    time_budget : float
    trials : int
    inner_folds : int
    ensemble : int
        Best parameter sets refitted and averaged.
    random_state : int

    Attributes
    ----------
    model_ : LGBMClassifier
        The refitted (averaged) booster, as ``CategoricalLGBM.model_``.
    best_params_ : dict
        The best set's parameters.
    search_ : dict
        ``trials``, ``seconds``, ``rows``, ``default_score``, ``best_score``, ``best_params``, ``rounds``,
        ``ensemble`` (inner score, rounds and parameters of every averaged set).
    """

    def __init__(
        self,
        base: CategoricalLGBM | None = None,
        time_budget: float = TIME_BUDGET,
        trials: int = TRIALS,
        inner_folds: int = INNER_FOLDS,
        ensemble: int = ENSEMBLE,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.time_budget = time_budget
        self.trials = trials
        self.inner_folds = inner_folds
        self.ensemble = ensemble
        self.random_state = random_state

    def _score(
        self, model: CategoricalLGBM, x: np.ndarray, y: np.ndarray, splits: list, deadline: float | None
    ) -> tuple[float, int] | None:
        """Best mean inner ROC-AUC over rounds and that round; None when the deadline passed."""
        cats: list[int] | Literal["auto"] = model.category_sets(x) or "auto"
        patience = max(model.early_stopping_rounds, int(round(1.5 / model.learning_rate)))
        curves = []
        for fit, val in splits:
            if deadline is not None and time.perf_counter() > deadline:
                return None
            xs, ys = model._resample(x[fit], y[fit])
            booster = model._booster(len(fit), model.n_estimators, metric="auc")
            booster.fit(
                xs, ys, eval_X=(x[val],), eval_y=(y[val],), categorical_feature=cats,
                callbacks=[early_stopping(patience, verbose=False)],
            )  # fmt: skip
            curves.append(np.asarray(booster.evals_result_["valid_0"]["auc"]))
        length = min(len(c) for c in curves)  # every fold ran at least its best round + patience
        mean = np.mean([c[:length] for c in curves], axis=0)
        best = int(np.argmax(mean))
        return float(mean[best]), best + 1

    def fit(self, x: np.ndarray, y: np.ndarray) -> TunedLGBM:
        """Search on inner folds of ``x``, refit and average the best parameter sets on all of ``x``; returns self."""
        started = time.perf_counter()
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
        base = self.base if self.base is not None else CategoricalLGBM(random_state=self.random_state)
        folds = int(min(self.inner_folds, y.sum(), len(y) - y.sum()))
        if folds < 2:  # too few of a class to score anything on: the untuned model
            return self._finish(clone(base).fit(x, y), [], {"trials": 0, "rows": len(y)}, started)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        splits = list(splitter.split(np.zeros(len(y)), y))
        rng = np.random.default_rng(self.random_state)
        deadline = started + self.time_budget
        scored: list[tuple[float, int, dict[str, Any]]] = []
        for trial in range(max(1, self.trials)):
            params = {} if trial == 0 else sample_params(rng, len(y) * (folds - 1) // folds)
            result = self._score(
                clone(base).set_params(**params), x, y, splits, None if trial == 0 else deadline
            )
            if result is None:
                break
            scored.append((*result, params))
            if time.perf_counter() > deadline:
                break
        ranked = sorted(scored, key=lambda s: -s[0])[: max(1, self.ensemble)]
        members = []
        for i, (_, best_round, params) in enumerate(ranked):
            rounds = max(1, round(best_round * base.refit_factor))
            member = clone(base).set_params(
                **params, n_estimators=rounds, fallback_rounds=rounds, early_stopping_rounds=0,
                random_state=base.random_state + i,
            )  # fmt: skip
            members.append((member.fit(x, y), rounds, params))
        search = {
            "trials": len(scored), "rows": len(y), "inner_folds": folds, "default_score": scored[0][0],
            "best_score": ranked[0][0], "rounds": members[0][1],
            "ensemble": [{"score": s[0], "rounds": m[1], "params": s[2]} for s, m in zip(ranked, members, strict=True)],
        }  # fmt: skip
        return self._finish(members[0][0], [m[0] for m in members], search, started, ranked[0][2])

    def _finish(
        self,
        fitted: CategoricalLGBM,
        others: list[CategoricalLGBM],
        search: dict[str, Any],
        started: float,
        params: dict[str, Any] | None = None,
    ) -> TunedLGBM:
        params = params or {}
        self.fitted_ = fitted
        self.model_ = average_boosters([m.model_ for m in others]) if others else fitted.model_
        self.best_params_ = params
        self.best_iteration_ = search.get("rounds", fitted.best_iteration_)
        self.n_estimators_ = fitted.n_estimators_
        self.classes_ = fitted.classes_
        self.search_ = {**search, "best_params": params, "seconds": round(time.perf_counter() - started, 2)}
        return self
