"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) through the ``implicit`` library, CPU only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.base import Recommender, check_n_jobs

WEIGHTINGS: tuple[str, ...] = ("none", "bm25", "tfidf")
BM25_K1 = 100.0  # implicit's default: saturation of a pair's own weight barely matters at these weights
MIN_WEIGHT = 1e-3


def reweight(matrix: sp.csr_matrix, weighting: str, *, bm25_b: float = 0.8) -> sp.csr_matrix:
    """Weights before the confidence scaling: as given, BM25 or TF-IDF (``implicit.nearest_neighbours``).

    Applied as ``implicit`` applies them, to the items x users matrix: the inverse document frequency is per user
    (each pair of a user who touched many items weighs less) and BM25's length normalisation per item. A weight
    that comes out zero or negative (a user who touched nearly the whole catalogue) is floored at
    :data:`MIN_WEIGHT`, so every interaction stays a positive preference.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    if weighting == "none":
        return matrix
    from implicit.nearest_neighbours import bm25_weight, tfidf_weight  # imported to fit only

    items_by_users = matrix.T.tocoo()
    out = (
        bm25_weight(items_by_users, K1=BM25_K1, B=bm25_b)
        if weighting == "bm25"
        else tfidf_weight(items_by_users)
    )
    out = sp.csr_matrix(out.T, dtype=np.float32)
    out.data = np.maximum(out.data, MIN_WEIGHT)
    return out


class ALSRecommender(Recommender):
    """Weighted matrix factorisation of the confidence matrix (users as CSR rows).

    The confidence of a (user, item) pair is ``1 + alpha * w``, where ``w`` is the weight (bank events:
    view < click < apply < purchase) after ``weighting``.

    Parameters
    ----------
    factors : int
        Latent dimensions.
    regularization : float
        L2 penalty on the factors.
    alpha : float
        Confidence scale applied to the weights.
    weighting : {"none", "bm25", "tfidf"}
        Reweighting of the matrix before the confidence scaling (see :func:`reweight`).
    bm25_b : float
        Length normalisation of BM25 (0: none, 1: full), per item.
    iterations : int
        ALS sweeps.
    n_jobs : int
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
        weighting: str = "none",
        bm25_b: float = 0.8,
        iterations: int = 15,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.weighting = weighting
        self.bm25_b = bm25_b
        self.iterations = iterations
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
        check_n_jobs(self.n_jobs)
        from implicit.cpu.als import AlternatingLeastSquares  # imported to fit only
        from threadpoolctl import threadpool_limits

        matrix = reweight(matrix, self.weighting, bm25_b=self.bm25_b)

        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                num_threads=self.n_jobs,
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
