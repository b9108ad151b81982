"""LightGBM with its hyperparameters searched on the rows it is fitted on, under a wall-clock budget.

:class:`TunedLGBM` is an estimator like any other candidate: cross-validation fits it on a training fold, and
everything the search looks at (inner folds, early stopping, the score that picks the winner) is made of that
fold's rows. The outer validation fold never reaches ``fit``, so it cannot influence the chosen parameters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from lightgbm import early_stopping
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold

from risk.metrics import roc_auc
from risk.models import CategoricalLGBM

#: Seconds of search per fit by default (each outer fold and the final fit get their own)
TIME_BUDGET = 60.0
#: Most parameter sets tried per fit (the untuned defaults are always the first)
TRIALS = 40
#: Inner folds each parameter set is scored on
INNER_FOLDS = 3


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
        Stratified folds of the fitted rows each set is scored on (mean ROC-AUC).
    """

    time_budget: float = TIME_BUDGET
    trials: int = TRIALS
    inner_folds: int = INNER_FOLDS

    def params(self, quick: bool = False) -> dict[str, Any]:
        """Keyword arguments of :class:`TunedLGBM` (``quick``: 4 trials, 2 inner folds, for tests)."""
        if quick:
            return {"time_budget": min(self.time_budget, 10.0), "trials": 4, "inner_folds": 2}
        return {"time_budget": self.time_budget, "trials": self.trials, "inner_folds": self.inner_folds}


def sample_params(rng: np.random.Generator, n_rows: int) -> dict[str, Any]:
    """One random parameter set: leaves, leaf size (scaled to ``n_rows``), learning rate, column and row sampling,
    L2 and split-gain regularisation."""

    def log_uniform(low: float, high: float) -> float:
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))

    return {
        "num_leaves": int(rng.choice([3, 4, 5, 7, 11, 15, 23, 31])),
        "min_child_samples": int(round(log_uniform(5, max(20.0, n_rows / 20)))),
        "learning_rate": log_uniform(0.01, 0.1),
        "feature_fraction": float(rng.uniform(0.3, 1.0)),
        "bagging_fraction": float(rng.uniform(0.5, 1.0)),
        "reg_lambda": log_uniform(0.1, 100.0),
        "min_split_gain": 0.0 if rng.random() < 0.5 else log_uniform(0.001, 1.0),
    }


class TunedLGBM(ClassifierMixin, BaseEstimator):
    """Random search over a :class:`CategoricalLGBM`'s hyperparameters inside the rows it is fitted on.

    ``fit(x, y)`` splits *its own* rows into ``inner_folds`` stratified folds. Each parameter set (first the
    untuned ``base``, then :func:`sample_params` draws) is boosted on each inner training part (SMOTE-resampled
    when ``base`` has a sampler), early-stopped on ROC-AUC of the inner validation part, and scored by the mean of
    those AUCs. The best set is refitted on all rows for ``refit_factor`` x the mean best round. The search stops
    after ``trials`` sets or ``time_budget`` seconds, whichever comes first (the defaults are always scored).

    Parameters
    ----------
    base : CategoricalLGBM
        The untuned model (categoricals, class weights, sampler, monotone constraints are kept).
    time_budget : float
    trials : int
    inner_folds : int
    random_state : int

    Attributes
    ----------
    model_ : LGBMClassifier
        The refitted booster (as ``CategoricalLGBM.model_``).
    best_params_ : dict
    search_ : dict
        ``trials``, ``seconds``, ``rows``, ``default_score``, ``best_score``, ``best_params``, ``rounds``.
    """

    def __init__(
        self,
        base: CategoricalLGBM | None = None,
        time_budget: float = TIME_BUDGET,
        trials: int = TRIALS,
        inner_folds: int = INNER_FOLDS,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.time_budget = time_budget
        self.trials = trials
        self.inner_folds = inner_folds
        self.random_state = random_state

    def _score(
        self, model: CategoricalLGBM, x: np.ndarray, y: np.ndarray, splits: list, deadline: float | None
    ) -> tuple[float, float] | None:
        """Mean inner ROC-AUC and mean best round of one parameter set; None when the deadline passed."""
        cats = model.category_sets(x) or "auto"
        aucs, rounds = [], []
        for fit, val in splits:
            if deadline is not None and time.perf_counter() > deadline:
                return None
            xs, ys = model._resample(x[fit], y[fit])
            booster = model._booster(len(fit), model.n_estimators, metric="auc")
            booster.fit(
                xs, ys, eval_X=(x[val],), eval_y=(y[val],), categorical_feature=cats,
                callbacks=[early_stopping(model.early_stopping_rounds, verbose=False)],
            )  # fmt: skip
            best = max(1, int(booster.best_iteration_ or model.n_estimators))
            aucs.append(roc_auc(y[val], booster.predict_proba(x[val], num_iteration=best)[:, 1]))
            rounds.append(best)
        return float(np.mean(aucs)), float(np.mean(rounds))

    def fit(self, x: np.ndarray, y: np.ndarray) -> TunedLGBM:
        """Search on inner folds of ``x``, refit the best parameters on all of ``x``; returns self."""
        started = time.perf_counter()
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
        base = self.base if self.base is not None else CategoricalLGBM(random_state=self.random_state)
        folds = int(min(self.inner_folds, y.sum(), len(y) - y.sum()))
        if folds < 2:  # too few of a class to score anything on: the untuned model
            return self._finish(clone(base).fit(x, y), {}, {"trials": 0, "rows": len(y)}, started)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        splits = list(splitter.split(np.zeros(len(y)), y))
        rng = np.random.default_rng(self.random_state)
        deadline = started + self.time_budget
        best: tuple[float, float, dict[str, Any]] | None = None
        default_score, tried = None, 0
        for trial in range(max(1, self.trials)):
            params = {} if trial == 0 else sample_params(rng, len(y) * (folds - 1) // folds)
            scored = self._score(
                clone(base).set_params(**params), x, y, splits, None if trial == 0 else deadline
            )
            if scored is None:
                break
            tried += 1
            if trial == 0:
                default_score = scored[0]
            if best is None or scored[0] > best[0]:
                best = (scored[0], scored[1], params)
            if time.perf_counter() > deadline:
                break
        assert best is not None
        score, mean_rounds, params = best
        rounds = max(1, round(mean_rounds * base.refit_factor))
        final = clone(base).set_params(
            **params, n_estimators=rounds, fallback_rounds=rounds, early_stopping_rounds=0
        )
        search = {"trials": tried, "rows": len(y), "inner_folds": folds, "default_score": default_score,
                  "best_score": score, "rounds": rounds}  # fmt: skip
        return self._finish(final.fit(x, y), params, search, started)

    def _finish(
        self, fitted: CategoricalLGBM, params: dict[str, Any], search: dict[str, Any], started: float
    ) -> TunedLGBM:
        self.fitted_ = fitted
        self.model_ = fitted.model_
        self.best_params_ = params
        self.best_iteration_ = search.get("rounds", fitted.best_iteration_)
        self.n_estimators_ = fitted.n_estimators_
        self.classes_ = fitted.classes_
        self.search_ = {**search, "best_params": params, "seconds": round(time.perf_counter() - started, 2)}
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities."""
        return self.model_.predict_proba(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class at 0.5."""
        return self.model_.predict(x)
