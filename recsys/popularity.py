"""Popularity baseline: every user gets the items most users hold, minus their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.base import Recommender


class PopularityRecommender(Recommender):
    """Scores each item by the share of users with an interaction, the same for every user.

    Parameters
    ----------
    weighted : bool
        Score by the summed confidence instead of the number of users.
    """

    kind = "popularity"

    def __init__(self, *, weighted: bool = False) -> None:
        self.weighted = weighted

    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
        totals = (
            np.asarray(matrix.sum(axis=0)).ravel()
            if self.weighted
            else self.item_popularity_ * matrix.shape[0]
        )
        self.scores_ = (totals / max(float(totals.max()), 1e-12)).astype(np.float32)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.scores_, (len(rows), 1))

    def _score_cold(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> np.ndarray:
        return self._score(user_ids)

    def _state(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scores_ = state["scores"]
