"""The ``segments`` artifact: what training writes, how the app reads it back, and assignment of new customers.

Files in ``checkpoints/segments/<version>/`` (no pickles anywhere):

- ``model.npz``: scaler, centroids and PCA (see :class:`SegmentModel`), read with ``allow_pickle=False``
- ``selection.json``: the evidence for k (table per k, chosen k, elbow, rule)
- ``segments.json``: one record per segment (size, shares, distinctive features, automatic name)
- ``profiles.parquet``: mean / median / z of every feature per segment against the base
- ``assignments.parquet``: customer_id, segment, pc1, pc2 (so the app never recomputes)
- ``features.parquet``: customer_id and the raw features
- ``attributes.parquet``: customer_id and descriptive columns for filtering (region, products held, ...)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankdata import Artifact, ArtifactError, ArtifactStore, fingerprint
from segmentation.model import SegmentModel
from segmentation.profiles import SegmentProfiles
from segmentation.selection import KSelection

MODEL_NAME = "segments"
FILES = (
    "model.npz",
    "selection.json",
    "segments.json",
    "profiles.parquet",
    "assignments.parquet",
    "features.parquet",
    "attributes.parquet",
)


@dataclass(frozen=True)
class Segmentation:
    """A trained segmentation as the app uses it (everything precomputed).

    Attributes
    ----------
    version : str
        Artifact version.
    model : SegmentModel
        Scaler, centroids and PCA, for assigning new customers.
    segments : DataFrame
        segment, name, size, share, revenue_share, distinctive.
    profiles : DataFrame
        segment, feature, mean, median, base_mean, base_median, z.
    customers : DataFrame or None
        One row per customer: customer_id, segment, pc1, pc2, the features and the attributes; ``None`` when loaded
        with ``customers=False`` (the app: it queries the published rows instead, see ``segmentation.publishing``).
    selection : dict
        The k-selection evidence: ``table`` (records), ``k``, ``elbow_k``, ``rule``.
    metrics : dict
        silhouette, davies_bouldin, k, explained variance, and ari_personas when the truth was known.
    feature_names : list of str
        The model's features, in order.
    """

    version: str
    model: SegmentModel
    segments: pd.DataFrame
    profiles: pd.DataFrame
    customers: pd.DataFrame | None
    selection: dict[str, Any]
    metrics: dict[str, Any]
    feature_names: list[str]

    def segment_of(self, customer_ids: list[int] | np.ndarray) -> pd.DataFrame:
        """customer_id, segment, name of the given customers; unknown ids raise a ``ValueError`` naming them."""
        if self.customers is None:
            raise ValueError(
                f"segments {self.version}: loaded without its customers (load_segmentation(customers=True))"
            )
        ids = pd.Index(self.customers["customer_id"])
        pos = ids.get_indexer(np.asarray(customer_ids))
        if (pos < 0).any():
            unknown = np.asarray(customer_ids)[pos < 0]
            shown = ", ".join(map(str, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
            raise ValueError(f"segments {self.version}: {len(unknown)} unknown customer id(s): {shown}")
        rows = self.customers.iloc[pos][["customer_id", "segment"]].reset_index(drop=True)
        return rows.assign(name=rows["segment"].map(self.segments.set_index("segment")["name"]))


def selection_record(selection: KSelection | None, k: int) -> dict[str, Any]:
    """The k-selection evidence as plain JSON-able data (a fixed k gives an empty table)."""
    if selection is None:
        return {"table": [], "k": int(k), "elbow_k": None, "rule": f"k fixed at {k} by the user"}
    return {
        "table": json.loads(selection.table.to_json(orient="records")),
        "k": int(selection.k),
        "elbow_k": int(selection.elbow_k),
        "rule": selection.rule,
    }


def save_segmentation(
    store: ArtifactStore,
    *,
    model: SegmentModel,
    features: pd.DataFrame,
    profiles: SegmentProfiles,
    names: dict[int, str],
    attributes: pd.DataFrame,
    metrics: dict[str, Any],
    params: dict[str, Any],
    source: str,
    imputation: dict[str, dict[str, Any]] | None = None,
    population: dict[str, Any] | None = None,
    model_name: str = MODEL_NAME,
) -> Artifact:
    """Write one segments artifact (``model_name``, default ``segments``) through the store and return it."""
    coords = model.project(features)
    assignments = pd.DataFrame(
        {
            "customer_id": features.index.to_numpy(),
            "segment": model.labels_.astype(np.int64),
            "pc1": coords[:, 0],
            "pc2": coords[:, 1] if coords.shape[1] > 1 else np.zeros(len(coords)),
        }
    )
    segments = profiles.summary.assign(name=profiles.summary["segment"].map(names))
    selection = selection_record(model.selection_, model.n_clusters_)

    def write(tmp: Path) -> None:
        model.save(tmp / "model.npz")
        (tmp / "selection.json").write_text(json.dumps(selection, indent=1), encoding="utf-8")
        (tmp / "segments.json").write_text(segments.to_json(orient="records", indent=1), encoding="utf-8")
        profiles.stats.to_parquet(tmp / "profiles.parquet", index=False)
        assignments.to_parquet(tmp / "assignments.parquet", index=False)
        features.reset_index().to_parquet(tmp / "features.parquet", index=False)
        attributes.to_parquet(tmp / "attributes.parquet", index=False)

    return store.save(
        model_name,
        write=write,
        params=params,
        metrics=metrics,
        features={c: "float64" for c in model.feature_names_},
        data_fingerprint=fingerprint(features.reset_index()),
        row_count=len(features),
        extra={
            "source": source,
            "explained_variance_ratio": model.explained_variance_ratio_.tolist(),
            "imputation": imputation or {},
            "population": population or {},
        },
    )


def _read(artifact: Artifact, name: str) -> Path:
    path = artifact.file(name)
    if not path.is_file():
        raise ArtifactError(
            f"segments {artifact.version}: file {name} is missing; retrain with `ledgerlight segments train`"
        )
    return path


def load_segmentation(artifact: Artifact, *, customers: bool = True) -> Segmentation:
    """Read a ``segments`` artifact (loaded and verified by the store).

    Parameters
    ----------
    artifact : Artifact
    customers : bool
        Also read the per-customer files (assignments, features, attributes: they grow with the bank). The app
        passes ``False``: it reads only the model, the segment records, the profiles and the k evidence.
    """
    try:
        model = SegmentModel.load(_read(artifact, "model.npz"))
        segments = pd.read_json(_read(artifact, "segments.json"), orient="records")
        selection = json.loads(_read(artifact, "selection.json").read_text(encoding="utf-8"))
        profiles = pd.read_parquet(_read(artifact, "profiles.parquet"))
        table = None
        if customers:
            table = (
                pd.read_parquet(_read(artifact, "assignments.parquet"))
                .merge(pd.read_parquet(_read(artifact, "features.parquet")), on="customer_id", how="left")
                .merge(pd.read_parquet(_read(artifact, "attributes.parquet")), on="customer_id", how="left")
            )
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"segments {artifact.version}: unreadable artifact ({exc})") from exc
    return Segmentation(
        version=artifact.version,
        model=model,
        segments=segments,
        profiles=profiles,
        customers=table,
        selection=selection,
        metrics=dict(artifact.metadata.get("metrics", {})),
        feature_names=model.feature_names_,
    )


def load_served_model(artifact: Artifact) -> Segmentation:
    """What a worker holds of a ``segments`` artifact: :func:`load_segmentation` without the customers (a
    module-level function, so ``dashapp.services.served.load_served`` can cache it by version)."""
    return load_segmentation(artifact, customers=False)


def assign(features: pd.DataFrame, artifact: Artifact | SegmentModel) -> pd.DataFrame:
    """Assign customers (rows of a features frame, index customer_id) to the trained segments.

    Parameters
    ----------
    features : DataFrame
        Output of :func:`segmentation.features.customer_features` for the new customers; must contain every
        feature the segments were trained on (extra columns are ignored).
    artifact : Artifact or SegmentModel
        A ``segments`` artifact from the store, or a fitted model.

    Returns
    -------
    DataFrame
        customer_id, segment, pc1, pc2.
    """
    model = (
        artifact if isinstance(artifact, SegmentModel) else SegmentModel.load(_read(artifact, "model.npz"))
    )
    coords = model.project(features)
    return pd.DataFrame(
        {
            "customer_id": features.index.to_numpy(),
            "segment": model.predict(features),
            "pc1": coords[:, 0],
            "pc2": coords[:, 1] if coords.shape[1] > 1 else np.zeros(len(coords)),
        }
    )
