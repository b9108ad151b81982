"""The candidate models and imbalance treatments, as imbalanced-learn pipelines on the encoded feature matrix.

Every pipeline takes the float matrix of :meth:`FeatureSpec.encode` (numeric columns, then categorical codes).
SMOTE lives *inside* the pipeline (for LightGBM inside the booster, which also early-stops on held-out rows of its
own training rows), so it only ever resamples the rows a pipeline is fitted on, never a validation fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC
from imblearn.pipeline import Pipeline
from lightgbm import LGBMClassifier, early_stopping
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from risk.tuning import Tuning

MODELS = ("lightgbm", "logistic", "random_forest")
#: LightGBM with its hyperparameters searched inside the rows it is fitted on (:mod:`risk.tuning`); not compared by
#: default (it costs a time budget per fit), asked for with ``--models lightgbm_tuned`` or ``--tune``
TUNED_MODEL = "lightgbm_tuned"
ALL_MODELS = (*MODELS, TUNED_MODEL)
IMBALANCE = ("none", "class_weight", "smote")
CHAMPION_MODEL = "lightgbm"
N_JOBS = 2
#: LightGBM's OpenMP threads spin while they wait: on a shared 2-core machine two threads can be 100x slower than one
LGBM_THREADS = 1
#: Share of a training fold held out to decide when LightGBM stops boosting
VALIDATION_FRACTION = 0.2


@dataclass(frozen=True)
class Candidate:
    """One model family with one imbalance treatment."""

    model: str
    imbalance: str

    @property
    def name(self) -> str:
        """``model+imbalance``, the key used in reports."""
        return f"{self.model}+{self.imbalance}"

    @classmethod
    def parse(cls, name: str) -> Candidate:
        """Inverse of :attr:`name`."""
        model, _, imbalance = name.partition("+")
        if model not in ALL_MODELS or imbalance not in IMBALANCE:
            raise ValueError(
                f"unknown candidate {name!r}; expected MODEL+IMBALANCE from {ALL_MODELS} x {IMBALANCE}"
            )
        return cls(model, imbalance)


def candidates(models: tuple[str, ...] = MODELS, imbalance: tuple[str, ...] = IMBALANCE) -> list[Candidate]:
    """Every model x imbalance combination, checked against the known names."""
    for m in models:
        if m not in ALL_MODELS:
            raise ValueError(f"unknown model {m!r}; expected one of {', '.join(ALL_MODELS)}")
    for i in imbalance:
        if i not in IMBALANCE:
            raise ValueError(f"unknown imbalance treatment {i!r}; expected one of {', '.join(IMBALANCE)}")
    return [Candidate(m, i) for m in models for i in imbalance]


#: Categoricals with more levels than this are split as ordered codes, not as LightGBM category sets (see below)
MAX_CAT_LEVELS = 16


def scaled(n_rows: int, share: float, low: int, high: int) -> int:
    """``share`` of ``n_rows``, clipped to ``[low, high]`` (leaf and category-group sizes that grow with the data)."""
    return int(np.clip(round(share * n_rows), low, high))


def inner_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Stratified positions ``(fit, stop)`` of rows a model is fitted on: ``stop`` decides when boosting ends.

    Returns None when either class has fewer than 10 rows (too few to judge an iteration count on).
    """
    y = np.asarray(y)
    if fraction <= 0 or min(int(y.sum()), int(len(y) - y.sum())) < 10:
        return None
    fit, stop = train_test_split(np.arange(len(y)), test_size=fraction, stratify=y, random_state=seed)
    return np.sort(fit), np.sort(stop)


class FittedBoosterMixin:
    """``predict_proba`` / ``predict`` of an estimator whose ``fit`` leaves a LightGBM classifier in ``model_``."""

    model_: LGBMClassifier

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities; scikit-learn's ``NotFittedError`` before ``fit``."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict_proba(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class at 0.5; scikit-learn's ``NotFittedError`` before ``fit``."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict(x))


class CategoricalLGBM(FittedBoosterMixin, ClassifierMixin, BaseEstimator):
    """LightGBM on the encoded matrix with early stopping inside the rows it is fitted on.

    ``fit`` holds out a stratified ``validation_fraction`` of *its own* rows, boosts on the rest (SMOTE-resampled
    when a ``sampler`` is given: the held-out rows stay real) until ``early_stopping_rounds`` rounds bring no gain,
    then refits on all its rows (resampled again) for ``refit_factor`` times the best number of rounds. Called
    inside a cross-validation fold it therefore never sees the fold's validation rows.

    Categoricals with at most ``max_cat_levels`` levels are LightGBM category sets (smoothed by ``cat_smooth``,
    ``min_data_per_group`` scaled to the data); columns with more levels (state, grade, job title) are split as
    ordered codes: category sets over dozens of rare levels are where boosting overfits.

    Parameters
    ----------
    categorical : tuple of int
        Column positions of categorical codes.
    n_estimators : int
        Most boosting rounds (early stopping usually ends far sooner).
    learning_rate, num_leaves, reg_lambda, feature_fraction, bagging_fraction : LightGBM hyperparameters.
    min_child_samples : int, optional
        Default: 1 % of the rows, between 20 and 200.
    min_data_per_group : int, optional
        Default: 2 % of the rows, between 20 and 200.
    min_split_gain : float
        Least loss reduction a split must bring.
    max_depth, reg_alpha, min_sum_hessian, path_smooth, extra_trees, max_cat_to_onehot, max_bin : LightGBM
        hyperparameters at LightGBM's defaults (searched by :class:`risk.tuning.TunedLGBM`).
    monotone_constraints : tuple of int
        Per column of the matrix: 1 (the PD never falls as the value rises), -1 (never rises), 0 (free); empty:
        no constraints (see :func:`monotone_vector`).
    cat_smooth, max_cat_threshold : LightGBM categorical hyperparameters.
    max_cat_levels : int
        Wider categoricals are passed as ordered codes.
    early_stopping_rounds : int
        Patience; 0 turns early stopping off (then ``fallback_rounds`` rounds are fitted).
    validation_fraction : float
        Share of the fitted rows held out to stop on.
    refit_factor : float
        Rounds of the final refit per best early-stopped round (more rows support a few more rounds).
    fallback_rounds : int
        Rounds fitted (at most ``n_estimators``) when early stopping is off or a class has fewer than 10 rows.
    class_weight : None or "balanced"
    sampler : imbalanced-learn sampler, optional
        Resamples the boosting rows only (never the held-out stopping rows).
    random_state : int
    n_jobs : int
        LightGBM threads, 1 or 2 on this deployment (the name every model of the three families uses).
    """

    def __init__(
        self,
        categorical: tuple[int, ...] = (),
        n_estimators: int = 2_000,
        learning_rate: float = 0.03,
        num_leaves: int = 7,
        min_child_samples: int | None = None,
        reg_lambda: float = 5.0,
        feature_fraction: float = 0.7,
        bagging_fraction: float = 0.8,
        min_split_gain: float = 0.0,
        max_depth: int = -1,
        reg_alpha: float = 0.0,
        min_sum_hessian: float = 1e-3,
        path_smooth: float = 0.0,
        extra_trees: bool = False,
        max_cat_to_onehot: int = 4,
        max_bin: int = 255,
        monotone_constraints: tuple[int, ...] = (),
        cat_smooth: float = 50.0,
        min_data_per_group: int | None = None,
        max_cat_threshold: int = 8,
        max_cat_levels: int = MAX_CAT_LEVELS,
        early_stopping_rounds: int = 100,
        validation_fraction: float = 0.2,
        refit_factor: float = 1.1,
        fallback_rounds: int = 200,
        class_weight: str | None = None,
        sampler: BaseEstimator | None = None,
        random_state: int = 0,
        n_jobs: int = LGBM_THREADS,
    ) -> None:
        self.categorical = categorical
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.min_split_gain = min_split_gain
        self.max_depth = max_depth
        self.reg_alpha = reg_alpha
        self.min_sum_hessian = min_sum_hessian
        self.path_smooth = path_smooth
        self.extra_trees = extra_trees
        self.max_cat_to_onehot = max_cat_to_onehot
        self.max_bin = max_bin
        self.monotone_constraints = monotone_constraints
        self.cat_smooth = cat_smooth
        self.min_data_per_group = min_data_per_group
        self.max_cat_threshold = max_cat_threshold
        self.max_cat_levels = max_cat_levels
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.refit_factor = refit_factor
        self.fallback_rounds = fallback_rounds
        self.class_weight = class_weight
        self.sampler = sampler
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _booster(self, n_rows: int, n_estimators: int, **extra: Any) -> LGBMClassifier:
        if any(self.monotone_constraints):
            extra["monotone_constraints"] = list(self.monotone_constraints)
        return LGBMClassifier(
            n_estimators=n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples or scaled(n_rows, 0.01, 20, 200),
            subsample=self.bagging_fraction,
            subsample_freq=1,
            colsample_bytree=self.feature_fraction,
            reg_lambda=self.reg_lambda,
            min_split_gain=self.min_split_gain,
            max_depth=self.max_depth,
            reg_alpha=self.reg_alpha,
            min_child_weight=self.min_sum_hessian,
            path_smooth=self.path_smooth,
            extra_trees=self.extra_trees,
            max_cat_to_onehot=self.max_cat_to_onehot,
            max_bin=self.max_bin,
            cat_smooth=self.cat_smooth,
            min_data_per_group=self.min_data_per_group or scaled(n_rows, 0.02, 20, 200),
            max_cat_threshold=self.max_cat_threshold,
            class_weight=self.class_weight,
            random_state=self.random_state,
            n_jobs=check_n_jobs(self.n_jobs),
            verbose=-1,
            **extra,
        )

    def category_sets(self, x: np.ndarray) -> list[int]:
        """Categorical columns of ``x`` narrow enough (``max_cat_levels``) to be LightGBM category sets."""
        return [j for j in self.categorical if len(np.unique(x[:, j])) <= self.max_cat_levels]

    def _resample(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.sampler is None:
            return x, y
        return clone(self.sampler).fit_resample(x, y)

    def fit(self, x: np.ndarray, y: np.ndarray) -> CategoricalLGBM:
        """Early-stop on held-out rows of ``x``, then refit on all of ``x``; returns self."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError(
                f"expected a 2-d matrix with one row per label (got {x.shape} and {len(y)} labels)"
            )
        if any(self.monotone_constraints) and len(self.monotone_constraints) != x.shape[1]:
            raise ValueError(
                f"monotone_constraints has {len(self.monotone_constraints)} entries for {x.shape[1]} columns"
            )
        self.categorical_ = self.category_sets(x)
        cats: list[int] | Literal["auto"] = self.categorical_ or "auto"
        split = (
            inner_split(y, self.validation_fraction, self.random_state)
            if self.early_stopping_rounds
            else None
        )
        rounds = min(self.n_estimators, self.fallback_rounds)
        self.best_iteration_ = None
        if split is not None:
            fit, stop = split
            xs, ys = self._resample(x[fit], y[fit])
            weighted = self.class_weight is not None or self.sampler is not None
            probe = self._booster(len(fit), self.n_estimators)
            probe.fit(
                xs, ys, eval_X=(x[stop],), eval_y=(y[stop],), categorical_feature=cats,
                eval_class_weight=["balanced"] if weighted else None,  # type: ignore[list-item]  # documented, stub says dict
                callbacks=[early_stopping(self.early_stopping_rounds, verbose=False)],
            )  # fmt: skip
            self.best_iteration_ = max(1, int(probe.best_iteration_ or self.n_estimators))
            rounds = max(1, round(self.best_iteration_ * self.refit_factor))
        xs, ys = self._resample(x, y)
        self.model_ = self._booster(len(y), rounds).fit(xs, ys, categorical_feature=cats)
        self.n_estimators_ = rounds
        self.classes_ = self.model_.classes_
        return self


def check_n_jobs(n_jobs: object) -> int:
    """``n_jobs`` if it is 1 or 2 (this deployment's choices), else ValueError with the message every model uses."""
    if isinstance(n_jobs, bool) or n_jobs not in (1, 2):
        raise ValueError(f"n_jobs must be 1 or 2 on this deployment, got {n_jobs!r}")
    return int(n_jobs)


def monotone_vector(
    features: list[str], categorical: list[int], declared: Mapping[str, int] | None
) -> tuple[int, ...]:
    """LightGBM's ``monotone_constraints`` (one entry per column) from ``{feature: +1 or -1}``.

    +1: the PD never decreases as the feature rises (others fixed); -1: never increases. Features not in the data
    are skipped (a file may lack one); a categorical feature or another sign raises ValueError. Empty when nothing
    is declared.
    """
    if not declared:
        return ()
    out = [0] * len(features)
    for name, sign in declared.items():
        if sign not in (-1, 1):
            raise ValueError(f"monotone constraint of {name!r} must be +1 or -1 (got {sign!r})")
        if name not in features:
            continue
        j = features.index(name)
        if j in set(categorical):
            raise ValueError(f"{name!r} is categorical: only numeric features can be monotone")
        out[j] = int(sign)
    return tuple(out) if any(out) else ()


def parse_monotone(text: str) -> dict[str, int]:
    """``"prior_delinquencies=+1,credit_score=-1"`` -> ``{"prior_delinquencies": 1, "credit_score": -1}``."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, sign = part.partition("=")
        if not eq or sign.strip() not in ("+1", "1", "-1", "+", "-"):
            raise ValueError(f"expected FEATURE=+1 or FEATURE=-1, got {part!r}")
        out[name.strip()] = -1 if sign.strip().startswith("-") else 1
    return out


def _sampler(
    categorical: list[int], n_features: int, k_neighbors: int, seed: int
) -> SMOTE | SMOTENC | SMOTEN:
    if not categorical:
        return SMOTE(k_neighbors=k_neighbors, random_state=seed)
    if len(categorical) == n_features:
        return SMOTEN(k_neighbors=k_neighbors, random_state=seed)
    return SMOTENC(categorical_features=categorical, k_neighbors=k_neighbors, random_state=seed)


def imputes_missing(candidate: Candidate) -> bool:
    """True when the candidate's pipeline fills missing numeric values with the median before its model: every one
    but LightGBM without SMOTE (SMOTE interpolates between numbers; LightGBM routes NaN itself)."""
    return candidate.model not in ("lightgbm", TUNED_MODEL) or candidate.imbalance == "smote"


def make_pipeline(
    candidate: Candidate,
    categorical: list[int],
    n_features: int,
    *,
    quick: bool = False,
    n_minority: int = 1_000,
    seed: int = 0,
    monotone: tuple[int, ...] = (),
    tuning: Tuning | None = None,
) -> Pipeline:
    """The fitted-from-scratch pipeline of one candidate.

    The matrix may hold NaN in numeric columns (``FeatureSpec(missing="keep")``): LightGBM takes them as they are
    (its trees learn where missing values go); logistic regression, the random forest and every SMOTE pipeline
    first impute the median of the rows they are fitted on (:func:`imputes_missing`).

    Parameters
    ----------
    candidate : Candidate
        Model family and imbalance treatment.
    categorical : list of int
        Positions of categorical code columns in the encoded matrix.
    n_features : int
        Width of the encoded matrix.
    quick : bool
        Small models for tests.
    n_minority : int
        Defaults in the training rows (SMOTE needs more than ``k_neighbors`` of them).
    seed : int
    monotone : tuple of int
        LightGBM's ``monotone_constraints`` (:func:`monotone_vector`); the other models ignore it.
    tuning : risk.tuning.Tuning, optional
        Search settings of ``lightgbm_tuned`` (default: ``Tuning()``).
    """
    numeric = [j for j in range(n_features) if j not in set(categorical)]
    weight = "balanced" if candidate.imbalance == "class_weight" else None
    smote = candidate.imbalance == "smote"
    # categorical codes are never NaN, so the median only ever fills numeric columns
    impute: list[tuple[str, object]] = (
        [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
        if imputes_missing(candidate)
        else []
    )
    if candidate.model in ("lightgbm", TUNED_MODEL):
        # SMOTE goes inside the booster: it must resample the early-stopping fit rows only, not the stopping rows
        fit_share = 1 - VALIDATION_FRACTION
        k = max(1, min(5, int(n_minority * fit_share) - 1))
        model = CategoricalLGBM(
            categorical=tuple(categorical),
            n_estimators=150 if quick else 2_000,
            learning_rate=0.1 if quick else 0.03,
            early_stopping_rounds=20 if quick else 100,
            validation_fraction=VALIDATION_FRACTION,
            class_weight=weight,
            sampler=_sampler(categorical, n_features, k, seed) if smote else None,
            monotone_constraints=tuple(monotone),
            random_state=seed,
        )
        if candidate.model == TUNED_MODEL:
            from risk.tuning import TunedLGBM, Tuning  # risk.tuning builds on CategoricalLGBM

            settings = tuning or Tuning()
            model = TunedLGBM(model, **settings.params(quick), random_state=seed)
        return Pipeline([*impute, ("model", model)])
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False),
                categorical,
            ),
        ]
    )
    steps: list[tuple[str, object]] = [*impute, ("encode", encode)]
    if smote:
        k = max(1, min(5, n_minority - 1))
        steps.insert(len(impute), ("smote", _sampler(categorical, n_features, k, seed)))
    if candidate.model == "logistic":
        model = LogisticRegression(C=0.5, max_iter=2_000, class_weight=weight)
    else:
        model = RandomForestClassifier(
            n_estimators=60 if quick else 300,
            min_samples_leaf=5,
            max_features="sqrt",
            class_weight="balanced_subsample" if weight else None,
            n_jobs=N_JOBS,
            random_state=seed,
        )
    return Pipeline([*steps, ("model", model)])
