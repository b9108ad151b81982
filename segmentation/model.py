"""The segmentation estimator: signed log of skewed columns, robust scaling (median and interquartile range,
clipped at +-``CLIP``), (MiniBatch)K-Means and a 2D PCA.

After ``fit`` every learned quantity is a plain array, so the model saves to and loads from ``.npz`` with
``allow_pickle=False`` and predicts with numpy alone. The hyperparameters travel with it as a JSON text, so
``SegmentModel.load(path).get_params() == model.get_params()``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import RobustScaler
from threadpoolctl import threadpool_limits

from segmentation.features import LOG_FEATURES
from segmentation.selection import KSelection, make_kmeans, select_k

MINIBATCH_ABOVE = 100_000
"""Customer count above which ``minibatch="auto"`` uses MiniBatchKMeans."""
SCALER_ROWS = 200_000
"""The scaler and the PCA are fitted on at most about this many rows (a regular subsample)."""
CLIP = 3.0
"""Scaled values are clipped to +-CLIP robust units, so a handful of extreme customers cannot form a segment."""


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: compresses long tails on both sides of zero."""
    return np.sign(values) * np.log1p(np.abs(values))


class SegmentModel(BaseEstimator):
    """Customer segments by K-Means on robustly scaled behavioural features, with a 2D PCA view.

    Parameters
    ----------
    n_clusters : int or None
        Number of segments; ``None`` chooses it with :func:`segmentation.selection.select_k`.
    k_range : sequence of int
        Candidate k when ``n_clusters`` is None.
    minibatch : bool or "auto"
        MiniBatchKMeans; ``"auto"`` above ``MINIBATCH_ABOVE`` customers.
    n_bootstrap : int
        Bootstrap resamples per candidate k for the stability evidence.
    n_references : int
        Uniform reference sets per candidate k for the gap statistic (0: choose by silhouette and Davies-Bouldin).
    selection_sample : int
        Rows sampled for the k-selection scores.
    n_init : int
        K-Means restarts for the final fit.
    random_state : int
        Seed: the same data and seed give the same segments.
    n_jobs : int
        BLAS/OpenMP threads while fitting (1 or 2; one is fastest on a busy shared machine). Files saved when it
        was called ``n_threads`` load with it renamed.
    """

    def __init__(
        self,
        *,
        n_clusters: int | None = None,
        k_range: Sequence[int] = range(2, 11),
        minibatch: bool | str = "auto",
        n_bootstrap: int = 5,
        n_references: int = 5,
        selection_sample: int = 5_000,
        n_init: int = 4,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.minibatch = minibatch
        self.n_bootstrap = n_bootstrap
        self.n_references = n_references
        self.selection_sample = selection_sample
        self.n_init = n_init
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _check_frame(self, X: pd.DataFrame, fitting: bool) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("X must be a DataFrame of features (see segmentation.features)")
        if fitting:
            cols = list(X.columns)
        else:
            missing = [c for c in self.feature_names_ if c not in X.columns]
            if missing:
                raise ValueError(
                    f"features: missing column(s) {', '.join(missing)} that the segments were trained on"
                )
            cols = self.feature_names_
        values = X[cols].to_numpy(dtype=np.float64, copy=True)
        bad = np.isinf(values)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"features: {int(bad.any(axis=1).sum())} row(s) have infinite values, "
                f"first customer {X.index[row]!r} in column {cols[col]}"
            )
        logged = np.isin(cols, LOG_FEATURES)
        values[:, logged] = signed_log1p(values[:, logged])
        return values

    def fit(self, X: pd.DataFrame, y: object = None) -> SegmentModel:
        """Learn the scaler, choose k (unless given), fit K-Means and the PCA; returns self."""
        if isinstance(self.n_jobs, bool) or self.n_jobs not in (1, 2):
            raise ValueError(f"n_jobs must be 1 or 2 on this deployment, got {self.n_jobs!r}")
        with threadpool_limits(limits=self.n_jobs):
            return self._fit(X)

    def _fit(self, X: pd.DataFrame) -> SegmentModel:
        if len(X) < 3:
            raise ValueError(f"features: segmentation needs at least 3 customers; got {len(X)}")
        self.feature_names_ = [str(c) for c in X.columns]
        values = self._check_frame(X, fitting=True)
        step = max(1, len(values) // SCALER_ROWS)  # quantiles of a regular subsample: same scale, far cheaper
        sample = values[::step]
        observed = ~np.isnan(sample).all(axis=0)  # a column empty in the sample gets centre 0, scale 1
        scaler = RobustScaler().fit(sample[:, observed])
        self.center_ = np.zeros(values.shape[1])
        self.scale_ = np.ones(values.shape[1])
        self.center_[observed] = scaler.center_
        self.scale_[observed] = scaler.scale_
        self.missing_counts_ = np.isnan(values).sum(axis=0).astype(np.int64)
        scaled = self._scaled(values)
        minibatch = len(X) > MINIBATCH_ABOVE if self.minibatch == "auto" else bool(self.minibatch)
        self.minibatch_ = minibatch
        if self.n_clusters is None:
            ks = [k for k in self.k_range if k < len(X)]
            self.selection_: KSelection | None = select_k(
                scaled,
                ks,
                n_bootstrap=self.n_bootstrap,
                n_references=self.n_references,
                sample_size=self.selection_sample,
                # the evidence is computed on a sample: MiniBatch only when the sample itself is large
                minibatch=minibatch and min(len(X), self.selection_sample) > MINIBATCH_ABOVE,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
            )
            k = self.selection_.k
        else:
            self.selection_ = None
            k = int(self.n_clusters)
            if not 1 <= k < len(X):
                raise ValueError(f"n_clusters must be between 1 and {len(X) - 1}; got {k}")
        km = make_kmeans(k, minibatch=minibatch, random_state=self.random_state, n_init=self.n_init).fit(
            scaled
        )
        self.n_clusters_ = k
        self.cluster_centers_ = km.cluster_centers_.astype(np.float64)
        labels = self._nearest(scaled)
        order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")  # segment 0 = the largest
        self.cluster_centers_ = self.cluster_centers_[order]
        self.labels_ = np.argsort(order)[labels]
        pca_rows = scaled[:: max(1, len(scaled) // SCALER_ROWS)]
        pca = PCA(n_components=min(2, scaled.shape[1]), random_state=self.random_state).fit(pca_rows)
        self.pca_mean_ = pca.mean_.astype(np.float64)
        self.pca_components_ = pca.components_.astype(np.float64)
        self.explained_variance_ratio_ = pca.explained_variance_ratio_.astype(np.float64)
        return self

    def _nearest(self, scaled: np.ndarray) -> np.ndarray:
        d = (
            np.einsum("ij,ij->i", scaled, scaled)[:, None]
            - 2.0 * scaled @ self.cluster_centers_.T
            + np.einsum("ij,ij->i", self.cluster_centers_, self.cluster_centers_)[None, :]
        )
        return np.argmin(d, axis=1).astype(np.int64)

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        """Robust units, clipped; a missing value becomes 0, the median (the imputation)."""
        return np.nan_to_num(np.clip((values - self.center_) / self.scale_, -CLIP, CLIP), nan=0.0)

    def medians(self) -> pd.Series:
        """The value that stands in for a missing one, per feature, in the feature's own units."""
        self._check_fitted()
        logged = np.isin(self.feature_names_, LOG_FEATURES)
        values = np.where(logged, np.sign(self.center_) * np.expm1(np.abs(self.center_)), self.center_)
        return pd.Series(values, index=self.feature_names_, dtype=np.float64)

    def impute(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` with every missing feature value replaced by the model's median of that feature."""
        return X.fillna(self.medians().reindex(X.columns))

    def _check_fitted(self) -> None:
        if not hasattr(self, "cluster_centers_"):
            raise NotFittedError("SegmentModel is not fitted yet: call fit() or load()")

    def scale(self, X: pd.DataFrame) -> np.ndarray:
        """Features as the model sees them: signed log of skewed columns, robust scaling, clipping."""
        self._check_fitted()
        return self._scaled(self._check_frame(X, fitting=False))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Segment (0..k-1) of each row: the nearest centroid."""
        return self._nearest(self.scale(X))

    def project(self, X: pd.DataFrame) -> np.ndarray:
        """2D PCA coordinates of each row, shape (n, 2)."""
        scaled = self.scale(X)
        return (scaled - self.pca_mean_) @ self.pca_components_.T

    def save(self, path: Path) -> None:
        """Write the hyperparameters (JSON text) and the learned arrays to one ``.npz`` file (no pickles)."""
        self._check_fitted()
        np.savez(
            path,
            params=np.asarray(json.dumps(_params_to_json(self.get_params()))),
            minibatch_used=np.asarray(bool(getattr(self, "minibatch_", False))),
            missing_counts=np.asarray(
                getattr(self, "missing_counts_", np.zeros(len(self.feature_names_))), np.int64
            ),
            feature_names=np.asarray(self.feature_names_, dtype=np.str_),
            center=self.center_,
            scale=self.scale_,
            cluster_centers=self.cluster_centers_,
            pca_mean=self.pca_mean_,
            pca_components=self.pca_components_,
            explained_variance_ratio=self.explained_variance_ratio_,
        )

    @classmethod
    def load(cls, path: Path) -> SegmentModel:
        """Read a model written by :meth:`save` (``allow_pickle=False``)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable segments model ({exc})") from exc
        needed = {"feature_names", "center", "scale", "cluster_centers", "pca_mean", "pca_components"}
        if not needed <= arrays.keys():
            raise ValueError(f"{path}: segments model lacks {', '.join(sorted(needed - arrays.keys()))}")
        k = int(arrays["cluster_centers"].shape[0])
        # models saved before the hyperparameters travelled with them keep only their k
        params = (
            _params_from_json(json.loads(str(arrays["params"]))) if "params" in arrays else {"n_clusters": k}
        )
        try:
            model = cls(**params)
        except TypeError as exc:
            raise ValueError(f"{path}: segments model has unknown hyperparameters ({exc})") from exc
        model.feature_names_ = [str(n) for n in arrays["feature_names"]]
        model.center_ = arrays["center"]
        model.scale_ = arrays["scale"]
        model.cluster_centers_ = arrays["cluster_centers"]
        model.n_clusters_ = int(arrays["cluster_centers"].shape[0])
        model.pca_mean_ = arrays["pca_mean"]
        model.pca_components_ = arrays["pca_components"]
        model.explained_variance_ratio_ = arrays.get("explained_variance_ratio", np.full(2, np.nan))
        model.minibatch_ = bool(arrays["minibatch_used"]) if "minibatch_used" in arrays else False
        if "missing_counts" in arrays:
            model.missing_counts_ = arrays["missing_counts"].astype(np.int64)
        model.selection_ = None
        return model


def _params_to_json(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as JSON data; a ``range`` or tuple of candidate k is tagged so that it comes back as one."""
    out = dict(params)
    ks = params.get("k_range")
    if isinstance(ks, range):
        out["k_range"] = {"range": [ks.start, ks.stop, ks.step]}
    elif ks is not None:
        out["k_range"] = {type(ks).__name__ if isinstance(ks, tuple | list) else "list": [int(k) for k in ks]}
    return out


def _params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`_params_to_json`."""
    out = dict(params)
    if "n_threads" in out:  # the thread setting's name before it became n_jobs (scikit-learn's)
        out.setdefault("n_jobs", out.pop("n_threads"))
    ks = params.get("k_range")
    if isinstance(ks, dict):
        if "range" in ks:
            out["k_range"] = range(*ks["range"])
        elif "tuple" in ks:
            out["k_range"] = tuple(ks["tuple"])
        else:
            out["k_range"] = list(ks.get("list", []))
    return out
