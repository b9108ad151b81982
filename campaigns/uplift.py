"""An uplift model with scikit-learn conventions: two LightGBM classifiers, one on the treated, one on the controls.

The predicted uplift is ``P(respond | contacted, x) - P(respond | held out, x)`` (the two-model or T-learner
approach). ``save`` writes both boosters as LightGBM text models plus ``uplift.json``; ``load`` reads them back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd


class TwoModelUplift:
    """Two-model uplift estimator.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples : int or float
        LightGBM hyperparameters shared by both models.
    random_state : int
        Seed of both models.

    The defaults are strongly regularised: an uplift is a small difference of two noisy take-up rates.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 100,
        learning_rate: float = 0.03,
        num_leaves: int = 7,
        min_child_samples: int = 300,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, as scikit-learn's ``get_params``."""
        return {k: getattr(self, k) for k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                                              "random_state")}  # fmt: skip

    def fit(self, X: pd.DataFrame, treated: np.ndarray, responded: np.ndarray) -> TwoModelUplift:
        """Fit the treated and the control response models; return self."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame of numeric features, got {type(X).__name__}")
        t, r = np.asarray(treated), np.asarray(responded)
        if t.dtype != bool or r.dtype != bool or t.shape != (len(X),) or r.shape != (len(X),):
            raise ValueError(f"treated and responded must be {len(X)} booleans each")
        for arm, mask in (("treated", t), ("control", ~t)):
            if len(np.unique(r[mask])) < 2:
                raise ValueError(f"the {arm} arm needs both responders and non-responders to learn from")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        values = X.to_numpy(dtype=float)
        self.boosters_ = {}
        for arm, mask in (("treated", t), ("control", ~t)):
            model = lgb.LGBMClassifier(
                **self.get_params(), subsample=0.8, subsample_freq=1, verbose=-1, n_jobs=1
            )
            model.fit(values[mask], r[mask])
            self.boosters_[arm] = model.booster_
        return self

    def predict_arms(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Predicted take-up if contacted and if held out."""
        if not hasattr(self, "boosters_"):
            raise ValueError("this TwoModelUplift is not fitted yet; call fit first")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the features the model was fitted on: {missing}")
        values = X[list(self.feature_names_in_)].to_numpy(dtype=float)
        # np.asarray: Booster.predict is typed to return a sparse matrix or a list too (only for pred_contrib)
        treated = np.asarray(self.boosters_["treated"].predict(values))
        control = np.asarray(self.boosters_["control"].predict(values))
        return treated, control

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted uplift (take-up if contacted minus if held out) of each row."""
        p_t, p_c = self.predict_arms(X)
        return p_t - p_c

    def save(self, folder: Path | str) -> Path:
        """Write ``treated.txt``, ``control.txt`` (LightGBM text models) and ``uplift.json`` into ``folder``."""
        if not hasattr(self, "boosters_"):
            raise ValueError("cannot save an unfitted TwoModelUplift")
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for arm, booster in self.boosters_.items():
            booster.save_model(str(out / f"{arm}.txt"))
        meta = {
            "model": "two_model_uplift",
            "params": self.get_params(),
            "features": list(self.feature_names_in_),
        }
        (out / "uplift.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, folder: Path | str) -> TwoModelUplift:
        """Read a model written by :meth:`save`."""
        root = Path(folder)
        try:
            meta = json.loads((root / "uplift.json").read_text(encoding="utf-8"))
            boosters = {
                arm: lgb.Booster(model_file=str(root / f"{arm}.txt")) for arm in ("treated", "control")
            }
        except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
            raise ValueError(f"cannot load an uplift model from {root}: {exc}") from exc
        if meta.get("model") != "two_model_uplift":
            raise ValueError(f"{root / 'uplift.json'} is not a two-model uplift model")
        model = cls(**meta["params"])
        model.feature_names_in_ = np.asarray(meta["features"], dtype=object)
        model.boosters_ = boosters
        return model
