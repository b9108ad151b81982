"""Training entry points: the demo bank (or any ``Bank``) and a user's own transaction log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score

from bankdata import Artifact, ArtifactStore, Bank, population_of_bank, population_of_file
from segmentation.artifact import MODEL_NAME, save_segmentation
from segmentation.features import bank_features, customer_features
from segmentation.model import SegmentModel
from segmentation.naming import name_segments
from segmentation.profiles import SegmentProfiles, segment_profiles

log = logging.getLogger(__name__)
SCORE_SAMPLE = 5_000


@dataclass(frozen=True)
class FittedSegments:
    """A fitted model with its profiles, names and quality metrics (before saving)."""

    model: SegmentModel
    profiles: SegmentProfiles
    names: dict[int, str]
    metrics: dict[str, Any]
    features: pd.DataFrame
    """The features with every missing value replaced by the model's median (what was profiled and is saved)."""
    imputation: dict[str, dict[str, Any]]
    """``{feature: {"missing": n, "filled_with": "median X"}}`` for each feature that had missing values."""


def model_params(*, quick: bool, n_clusters: int | None, random_state: int) -> dict[str, Any]:
    """Hyperparameters of :class:`SegmentModel`; ``quick`` trims the search for tests."""
    if quick:
        return {
            "n_clusters": n_clusters,
            "k_range": range(2, 8),
            "n_bootstrap": 2,
            "n_references": 3,
            "selection_sample": 1_500,
            "n_init": 2,
            "random_state": random_state,
        }
    return {
        "n_clusters": n_clusters,
        "k_range": range(2, 11),
        "n_bootstrap": 5,
        "n_references": 5,
        "selection_sample": 5_000,
        "n_init": 4,
        "random_state": random_state,
    }


def fit_segments(
    features: pd.DataFrame, *, quick: bool = False, n_clusters: int | None = None, random_state: int = 0
) -> FittedSegments:
    """Fit the segments on a features frame, profile and name them, and score the clustering.

    Silhouette and Davies-Bouldin are computed on the scaled features (silhouette on a seeded sample of
    ``SCORE_SAMPLE`` customers).
    """
    params = model_params(quick=quick, n_clusters=n_clusters, random_state=random_state)
    log.info("segments: fitting %d customers x %d features", len(features), features.shape[1])
    model = SegmentModel(**params).fit(features)
    imputation = imputation_record(model)
    if imputation:
        log.info("segments: filled missing values with the median in %s", ", ".join(imputation))
    features = model.impute(features)
    profiles = segment_profiles(features, model.labels_)
    names = name_segments(profiles.stats)
    scaled = model.scale(features)
    rng = np.random.default_rng(random_state)
    idx = rng.choice(len(scaled), size=min(SCORE_SAMPLE, len(scaled)), replace=False)
    multi = model.n_clusters_ > 1 and len(np.unique(model.labels_[idx])) > 1
    metrics = {
        "k": int(model.n_clusters_),
        "n_customers": len(features),
        "silhouette": float(silhouette_score(scaled[idx], model.labels_[idx])) if multi else None,
        "davies_bouldin": float(davies_bouldin_score(scaled, model.labels_)) if multi else None,
        "explained_variance_pc1": float(model.explained_variance_ratio_[0]),
        "explained_variance_pc2": float(model.explained_variance_ratio_[-1]),
        "minibatch": bool(model.minibatch_),
    }
    return FittedSegments(
        model=model, profiles=profiles, names=names, metrics=metrics, features=features, imputation=imputation
    )


def imputation_record(model: SegmentModel) -> dict[str, dict[str, Any]]:
    """What a fitted model filled in: the count of missing values and the median used, per feature that had any."""
    medians = model.medians()
    return {
        name: {"missing": int(count), "filled_with": f"median {medians[name]:.6g}"}
        for name, count in zip(model.feature_names_, model.missing_counts_, strict=True)
        if count
    }


def bank_attributes(bank: Bank) -> pd.DataFrame:
    """Descriptive columns of each customer for filtering: region, gender, employment and products held."""
    held = bank.held_products().merge(bank.products[["product_id", "name"]], on="product_id", how="left")
    products = held.groupby("customer_id")["name"].agg(lambda s: ";".join(sorted(s.astype(str))))
    cols = [c for c in ("customer_id", "region", "gender", "employment") if c in bank.customers.columns]
    attrs = bank.customers[cols].copy()
    attrs["products"] = attrs["customer_id"].map(products).fillna("").astype("str")
    return attrs


def train_from_bank(
    bank: Bank,
    store: ArtifactStore,
    *,
    quick: bool = False,
    n_clusters: int | None = None,
    random_state: int = 0,
) -> Artifact:
    """Segment every customer of ``bank`` and save one ``segments`` artifact.

    When the bank carries its ground truth (the demo bank), the adjusted Rand index between the segments and
    the true personas is recorded as ``ari_personas`` (the truth never enters the features).
    """
    features = bank_features(bank)
    fitted = fit_segments(features, quick=quick, n_clusters=n_clusters, random_state=random_state)
    metrics = dict(fitted.metrics)
    truth = None if bank.truth is None else bank.truth.personas.set_index("customer_id")["persona"]
    truth = None if truth is None else truth.reindex(features.index)
    if truth is not None and truth.notna().all():  # the demo bank: every customer's true persona is known
        metrics["ari_personas"] = float(adjusted_rand_score(truth, fitted.model.labels_))
        log.info("segments: ARI against the true personas %.3f", metrics["ari_personas"])
    elif truth is not None:
        log.info(
            "segments: no ARI; the ground truth covers %d of %d customers (not the demo bank alone)",
            int(truth.notna().sum()),
            len(truth),
        )
    return save_segmentation(
        store,
        model=fitted.model,
        features=fitted.features,
        profiles=fitted.profiles,
        names=fitted.names,
        attributes=bank_attributes(bank),
        metrics=metrics,
        params={"quick": quick, "n_clusters": n_clusters, "random_state": random_state},
        source="bank",
        imputation=fitted.imputation,
        population=population_of_bank(bank),
    )


def train_from_log(
    transactions: pd.DataFrame,
    store: ArtifactStore,
    *,
    profile: pd.DataFrame | None = None,
    name: str = "transactions",
    profile_name: str = "profile",
    quick: bool = False,
    n_clusters: int | None = None,
    random_state: int = 0,
    model_name: str | None = None,
) -> Artifact:
    """Segment the customers of a user's transaction log (columns customer_id, ts, amount, optional others).

    Numeric profile columns other than the known ones (age, income, tenure_months, balance) are ignored; text
    columns of the profile are kept as attributes for filtering. The version is saved as ``model_name`` (default
    ``segments-<file stem>``): an evaluation of the file, kept apart from the served ``segments``.
    """
    features = customer_features(transactions, profile, name=name, profile_name=profile_name)
    fitted = fit_segments(features, quick=quick, n_clusters=n_clusters, random_state=random_state)
    if profile is not None:
        text = [
            c for c in profile.columns if c != "customer_id" and not pd.api.types.is_numeric_dtype(profile[c])
        ]
        attributes = profile[["customer_id", *text]].astype({c: "str" for c in text})
    else:
        attributes = pd.DataFrame({"customer_id": features.index.to_numpy()})
    return save_segmentation(
        store,
        model=fitted.model,
        features=fitted.features,
        profiles=fitted.profiles,
        names=fitted.names,
        attributes=attributes,
        metrics=fitted.metrics,
        params={"quick": quick, "n_clusters": n_clusters, "random_state": random_state},
        source=name,
        imputation=fitted.imputation,
        population=population_of_file(name, len(features)),
        model_name=model_name or f"{MODEL_NAME}-{Path(name).stem}",
    )
