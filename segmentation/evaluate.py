"""Evaluate the segmentation on a bank: the k the evidence chose, clustering quality, bootstrap stability, the
adjusted Rand index against the true personas where the bank knows them, and a Gaussian mixture fitted on the same
scaled features and k for comparison (``ledgerlight segments evaluate``)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from bankdata import Bank
from segmentation.features import bank_features
from segmentation.train import SCORE_SAMPLE, fit_segments


def true_personas(bank: Bank, index: pd.Index) -> pd.Series | None:
    """Each customer's true persona (the demo bank's ground truth), or None when not every customer has one."""
    if bank.truth is None:
        return None
    truth = bank.truth.personas.set_index("customer_id")["persona"].reindex(index)
    return truth if truth.notna().all() else None


def _quality(
    scaled: np.ndarray, labels: np.ndarray, idx: np.ndarray, truth: pd.Series | None
) -> dict[str, Any]:
    multi = len(np.unique(labels[idx])) > 1
    out: dict[str, Any] = {
        "silhouette": float(silhouette_score(scaled[idx], labels[idx])) if multi else None,
        "davies_bouldin": float(davies_bouldin_score(scaled, labels)) if multi else None,
    }
    if truth is not None:
        out["ari_personas"] = float(adjusted_rand_score(truth.to_numpy(), labels))
    return out


def evaluate_features(
    features: pd.DataFrame, truth: pd.Series | None = None, *, quick: bool = False, random_state: int = 0
) -> dict[str, Any]:
    """Fit the segments as training does and report the evidence and the quality.

    Parameters
    ----------
    features : DataFrame
        Output of :func:`segmentation.features.customer_features` (index customer_id).
    truth : Series, optional
        The true group of each customer (same index); adds ``ari_personas`` to the model and the comparison.
    quick : bool
        The smaller search of ``segments train --quick``.
    random_state : int
        Seed of the model and of the scoring sample.

    Returns
    -------
    dict
        customers, features, k, k_rule, silhouette, davies_bouldin, stability (bootstrap ARI at the chosen k),
        ari_personas (with ``truth``), selection (evidence per k) and comparison (a diagonal Gaussian mixture).
    """
    fitted = fit_segments(features, quick=quick, random_state=random_state)
    model = fitted.model
    scaled = model.scale(fitted.features)
    rng = np.random.default_rng(random_state)
    idx = rng.choice(len(scaled), size=min(SCORE_SAMPLE, len(scaled)), replace=False)
    table = model.selection_.table if model.selection_ is not None else pd.DataFrame()
    chosen = table.set_index("k").loc[model.n_clusters_] if len(table) else None
    report: dict[str, Any] = {
        "customers": len(features),
        "features": len(model.feature_names_),
        "k": int(model.n_clusters_),
        "k_rule": model.selection_.rule if model.selection_ is not None else "k fixed",
        **_quality(scaled, model.labels_, idx, truth),
        "stability": float(chosen["stability"]) if chosen is not None else None,
    }
    if truth is not None:
        report["true_personas"] = int(truth.nunique())
    with threadpool_limits(limits=model.n_jobs):
        gmm = GaussianMixture(model.n_clusters_, covariance_type="diag", n_init=2, random_state=random_state)
        gmm_labels = gmm.fit(scaled).predict(scaled)
    report["comparison"] = {
        "gaussian_mixture": {
            "covariance": "diag",
            "k": int(model.n_clusters_),
            **_quality(scaled, gmm_labels, idx, truth),
        }
    }
    report["selection"] = json.loads(table.to_json(orient="records")) if len(table) else []
    return _finite(report)


def evaluate_bank(bank: Bank, *, quick: bool = False, random_state: int = 0) -> dict[str, Any]:
    """:func:`evaluate_features` on every customer of ``bank``, scored against its true personas where known."""
    features = bank_features(bank)
    return evaluate_features(
        features, true_personas(bank, features.index), quick=quick, random_state=random_state
    )


def _finite(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
