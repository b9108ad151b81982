"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) through the ``implicit`` library, CPU only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.base import Recommender


class ALSRecommender(Recommender):
    """Weighted matrix factorisation of the confidence matrix (users as CSR rows).

    The confidence of a (user, item) pair is ``1 + alpha * weight`` (bank events: view < click < apply < purchase).

    Parameters
    ----------
    factors : int
        Latent dimensions.
    regularization : float
        L2 penalty on the factors.
    alpha : float
        Confidence scale applied to the weights.
    iterations : int
        ALS sweeps.
    num_threads : int
        Threads for ``implicit`` (at most 2 on a shared machine; 0 is not allowed here).
    random_state : int
        Seed of the initial factors.
    """

    kind = "als"

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        num_threads: int = 2,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.num_threads = num_threads
        self.random_state = random_state

    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
        if not 1 <= self.num_threads <= 2:
            raise ValueError(f"num_threads must be 1 or 2 on this deployment, got {self.num_threads}")
        from implicit.cpu.als import AlternatingLeastSquares  # imported to fit only
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                num_threads=self.num_threads,
                random_state=self.random_state,
            )
            model.fit(matrix, show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T

    def _item_vectors(self) -> np.ndarray:
        return self.item_factors_

    def _state(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = state["user_factors"]
        self.item_factors_ = state["item_factors"]
