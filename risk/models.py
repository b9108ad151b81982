"""The candidate models and imbalance treatments, as imbalanced-learn pipelines on the encoded feature matrix.

Every pipeline takes the float matrix of :meth:`FeatureSpec.encode` (numeric columns, then categorical codes).
SMOTE lives *inside* the pipeline, so it only ever resamples the rows a pipeline is fitted on, never a
validation fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC
from imblearn.pipeline import Pipeline
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MODELS = ("lightgbm", "logistic", "random_forest")
IMBALANCE = ("none", "class_weight", "smote")
CHAMPION_MODEL = "lightgbm"
N_JOBS = 2
#: LightGBM's OpenMP threads spin while they wait: on a shared 2-core machine two threads can be 100x slower than one
LGBM_THREADS = 1


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
        if model not in MODELS or imbalance not in IMBALANCE:
            raise ValueError(
                f"unknown candidate {name!r}; expected MODEL+IMBALANCE from {MODELS} x {IMBALANCE}"
            )
        return cls(model, imbalance)


def candidates(models: tuple[str, ...] = MODELS, imbalance: tuple[str, ...] = IMBALANCE) -> list[Candidate]:
    """Every model x imbalance combination, checked against the known names."""
    for m in models:
        if m not in MODELS:
            raise ValueError(f"unknown model {m!r}; expected one of {', '.join(MODELS)}")
    for i in imbalance:
        if i not in IMBALANCE:
            raise ValueError(f"unknown imbalance treatment {i!r}; expected one of {', '.join(IMBALANCE)}")
    return [Candidate(m, i) for m in models for i in imbalance]


class CategoricalLGBM(ClassifierMixin, BaseEstimator):
    """LightGBM on the encoded matrix, told which columns hold category codes.

    Parameters
    ----------
    categorical : list of int
        Column positions of categorical codes.
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM hyperparameters.
    class_weight : None or "balanced"
    random_state : int
    """

    def __init__(
        self,
        categorical: tuple[int, ...] = (),
        n_estimators: int = 300,
        learning_rate: float = 0.04,
        num_leaves: int = 15,
        min_child_samples: int = 30,
        class_weight: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.categorical = categorical
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> CategoricalLGBM:
        """Fit the booster; returns self."""
        self.model_ = LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            cat_smooth=10.0,
            min_data_per_group=50,
            class_weight=self.class_weight,
            random_state=self.random_state,
            n_jobs=LGBM_THREADS,
            verbose=-1,
        )
        self.model_.fit(x, y, categorical_feature=list(self.categorical) or "auto")
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities."""
        return self.model_.predict_proba(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class at 0.5."""
        return self.model_.predict(x)


def _sampler(
    categorical: list[int], n_features: int, k_neighbors: int, seed: int
) -> SMOTE | SMOTENC | SMOTEN:
    if not categorical:
        return SMOTE(k_neighbors=k_neighbors, random_state=seed)
    if len(categorical) == n_features:
        return SMOTEN(k_neighbors=k_neighbors, random_state=seed)
    return SMOTENC(categorical_features=categorical, k_neighbors=k_neighbors, random_state=seed)


def make_pipeline(
    candidate: Candidate,
    categorical: list[int],
    n_features: int,
    *,
    quick: bool = False,
    n_minority: int = 1_000,
    seed: int = 0,
) -> Pipeline:
    """The fitted-from-scratch pipeline of one candidate.

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
    """
    numeric = [j for j in range(n_features) if j not in set(categorical)]
    weight = "balanced" if candidate.imbalance == "class_weight" else None
    if candidate.model == "lightgbm":
        model = CategoricalLGBM(
            categorical=tuple(categorical),
            n_estimators=60 if quick else 300,
            class_weight=weight,
            random_state=seed,
        )
        steps: list[tuple[str, object]] = []
    else:
        steps = [
            (
                "encode",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), numeric),
                        (
                            "cat",
                            OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False),
                            categorical,
                        ),
                    ]
                ),
            )
        ]
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
    if candidate.imbalance == "smote":
        k = max(1, min(5, n_minority - 1))
        steps.insert(0, ("smote", _sampler(categorical, n_features, k, seed)))
    return Pipeline([*steps, ("model", model)])
