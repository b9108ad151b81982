"""Serving: load the saved ``recsys`` artifact and answer questions with plain DataFrames (no training)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from bankdata import Artifact
from recsys.base import Recommender, top_n
from recsys.ease import EASERecommender
from recsys.explain import also_took, cooccurrence, explain, strongest_link
from recsys.interactions import id_array, pad_id
from recsys.mf import MFRecommender
from recsys.publishing import artifact_catalogue, best_model, load_models
from recsys.rules import CREDIT_FAMILIES, blocked_mask


@dataclass(frozen=True)
class RecsysModels:
    """The fitted recommenders (EASE too when the version has it), the catalogue and the evaluation, as saved in one artifact.

    Attributes
    ----------
    models : dict of name -> Recommender
    catalogue : DataFrame
        product_id, name, family (in the models' item order).
    metrics : dict
        The evaluation stored in the artifact's metadata.
    version : str
    """

    models: dict[str, Recommender]
    catalogue: pd.DataFrame
    metrics: dict = field(repr=False)
    version: str = ""
    credit_families: tuple[str, ...] = CREDIT_FAMILIES

    @classmethod
    def from_artifact(cls, art: Artifact) -> RecsysModels:
        """Load from a verified artifact; a missing or malformed file raises ``ArtifactError`` naming it."""
        models = load_models(art)
        catalogue = artifact_catalogue(art, models["popularity"].item_ids_)
        return cls(models, catalogue, dict(art.metadata.get("metrics", {})), art.version)

    @property
    def best(self) -> str:
        """The model with the best held-out nDCG@k of the stored evaluation (the default of every question)."""
        return best_model(self.metrics, list(self.models))

    # -- lookups ------------------------------------------------------------------------------------
    def _model(self, name: str | None) -> Recommender:
        if name is None:
            name = self.best
        if name not in self.models:
            raise KeyError(f"unknown model {name!r}; choose one of {', '.join(self.models)}")
        return self.models[name]

    def held(self, customer_id: int | str) -> pd.DataFrame:
        """Products the customer holds: product_id, name, family."""
        mask = self.models["popularity"].held_mask([customer_id])[0]
        return self.catalogue.loc[mask, ["product_id", "name", "family"]].reset_index(drop=True)

    def _blocked(self, user_ids: np.ndarray, blocked_customers: Iterable[int | str] | None) -> np.ndarray:
        return blocked_mask(user_ids, self.catalogue["family"], blocked_customers, self.credit_families)

    # -- recommendations ------------------------------------------------------------------------------
    def recommend(
        self,
        customer_id: int | str,
        n: int = 5,
        *,
        model: str | None = None,
        user_features: pd.DataFrame | None = None,
        blocked_customers: Iterable[int | str] | None = None,
    ) -> pd.DataFrame:
        """Top-``n`` products for one customer, with a score and a one-sentence reason.

        Returns
        -------
        DataFrame
            rank, product_id, name, family, score, reason (held and blocked products never appear).
        """
        rec = self._model(model)
        ids = id_array([customer_id])
        items, scores = rec.recommend(
            ids, n, blocked=self._blocked(ids, blocked_customers), user_features=user_features
        )
        keep = items[0] != pad_id(items)
        items, scores = items[0][keep], scores[0][keep]
        cols = rec.item_ids_.searchsorted(items)
        info = self.catalogue.iloc[cols]
        reasons = [self._reason(rec, ids[0], item, user_features) for item in items]
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(items) + 1),
                "product_id": items,
                "name": info["name"].to_numpy(),
                "family": info["family"].to_numpy(),
                "score": scores.astype(float),
                "reason": reasons,
            }
        )

    def _reason(
        self, rec: Recommender, customer_id: int | str, item_id: int, user_features: pd.DataFrame | None
    ) -> str:
        col = int(rec.item_ids_.searchsorted(item_id))
        names = self.catalogue["name"].to_numpy()
        held_cols = np.flatnonzero(rec.held_mask([customer_id])[0])
        often = None
        if isinstance(rec, EASERecommender):
            strongest = strongest_link(rec.weights_[: rec.n_items], held_cols, col)
            often = None if strongest is None else str(names[strongest])
        link = None if often else also_took(self.cooc, held_cols, col)
        contributions = None
        if isinstance(rec, MFRecommender) and link is None:
            contributions = rec.feature_contributions(customer_id, item_id, user_features)
        return explain(
            item_name=str(names[col]),
            often=often,
            link=(str(names[link[0]]), link[1]) if link else None,
            contributions=contributions,
            popularity=float(rec.item_popularity_[col]),
        )

    @cached_property
    def cooc(self) -> np.ndarray:
        """Product x product counts of customers holding both (computed once per loaded artifact)."""
        return cooccurrence(self.models["popularity"].held_)

    def compare(self, customer_id: int | str, n: int = 5, **kwargs: Any) -> dict[str, pd.DataFrame]:
        """:meth:`recommend` from every model, keyed by model name."""
        return {name: self.recommend(customer_id, n, model=name, **kwargs) for name in self.models}

    def campaign(
        self,
        product_id: int | str,
        n: int = 100,
        *,
        model: str | None = None,
        customer_ids: np.ndarray | None = None,
        user_features: pd.DataFrame | None = None,
        blocked_customers: Iterable[int | str] | None = None,
    ) -> pd.DataFrame:
        """The ``n`` customers most likely to take ``product_id`` who do not hold it (and are not blocked from it).

        Returns
        -------
        DataFrame
            rank, customer_id, score.
        """
        rec = self._model(model)
        cols = rec.item_ids_.searchsorted(product_id)
        if cols >= len(rec.item_ids_) or rec.item_ids_[cols] != product_id:
            raise KeyError(f"unknown product id: {product_id}")
        ids = rec.user_ids_ if customer_ids is None else id_array(customer_ids)
        scores = rec.score(ids, user_features)[:, cols].astype(np.float64)
        scores[rec.held_mask(ids)[:, cols]] = -np.inf
        scores[self._blocked(ids, blocked_customers)[:, cols]] = -np.inf
        top, top_scores = top_n(scores[None, :], n)
        keep = top[0] >= 0
        return pd.DataFrame(
            {
                "rank": np.arange(1, int(keep.sum()) + 1),
                "customer_id": ids[top[0][keep]],
                "score": top_scores[0][keep].astype(float),
            }
        )

    def comparison(self) -> pd.DataFrame:
        """The stored evaluation as one row per model (plus the oracle when known)."""
        rows = {**self.metrics.get("models", {})}
        if self.metrics.get("oracle"):
            rows["oracle (true affinity)"] = self.metrics["oracle"]
        frame = pd.DataFrame.from_dict(rows, orient="index")
        return frame.rename_axis("model").reset_index()
