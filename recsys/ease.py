"""EASE (Steck 2019): a closed-form item-item linear model, with customer side features as extra inputs.

Each item's score is a ridge regression on the user's other items (``log1p`` of the confidences) and, when side
features are given, their one-hot categories (as in Jeunen et al. 2020, side information as extra columns of the
Gram matrix); an item never predicts itself. One ``(n_inputs x n_inputs)`` inverse: on a bank's shelf of a dozen
products plus a few dozen categories it costs milliseconds, so ``regularization`` is cheap to choose on a
validation split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.base import Recommender

UNKNOWN = "<unknown>"
MAX_INPUTS = 20_000  # the Gram matrix is dense: n_inputs**2 float64


class EASERecommender(Recommender):
    """Item-item ridge regression with a zero diagonal, plus side-feature categories as inputs.

    Parameters
    ----------
    regularization : float
        L2 penalty added to the Gram matrix's diagonal.
    side_features : bool
        Use the categorical side features given to ``fit`` (cold-start users are then scored from them; without
        them a cold start gets item popularity).
    """

    kind = "ease"

    def __init__(self, *, regularization: float = 1000.0, side_features: bool = True) -> None:
        self.regularization = regularization
        self.side_features = side_features

    def _tokens(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> sp.csr_matrix:
        """One-hot (len(user_ids), n_tokens) of the side features; unseen users or values have no token."""
        n_tokens = int(self.offsets_[-1]) if len(self.offsets_) else 0  # offsets_ ends with the total
        rows, cols = [], []
        for j, name in enumerate(self.feature_names_):
            if user_features is None or name not in user_features.columns:
                continue
            values = user_features[name].reindex(pd.Index(user_ids)).astype("str").fillna(UNKNOWN).to_numpy()
            vocab = self.vocab_[j]
            pos = np.clip(np.searchsorted(vocab, values), 0, len(vocab) - 1)
            found = vocab[pos] == values
            rows.append(np.flatnonzero(found))
            cols.append(self.offsets_[j] + pos[found])
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        return sp.csr_matrix((np.ones(len(r), np.float64), (r, c)), shape=(len(user_ids), n_tokens))

    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
        if self.regularization <= 0:
            raise ValueError(f"regularization must be positive, got {self.regularization}")
        if user_features is not None and not isinstance(user_features, pd.DataFrame):
            raise TypeError("user_features must be a DataFrame indexed by user id")
        side = user_features if self.side_features else None
        if side is not None and side.index.has_duplicates:
            raise ValueError("user_features: the index (user id) has duplicates")
        self.feature_names_ = [str(c) for c in side.columns] if side is not None else []
        self.vocab_ = (
            [
                np.unique(np.append(side[c].astype("str").fillna(UNKNOWN).to_numpy(), UNKNOWN)).astype(str)
                for c in self.feature_names_
            ]
            if side is not None
            else []
        )
        sizes = [len(v) for v in self.vocab_]
        self.offsets_ = (
            np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64) if sizes else np.zeros(0, np.int64)
        )
        n_items = matrix.shape[1]
        if n_items + sum(sizes) > MAX_INPUTS:
            raise ValueError(f"EASE inverts a dense Gram matrix: at most {MAX_INPUTS} items plus categories")
        x = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
        x.data = np.log1p(np.maximum(x.data, 0.0))
        inputs = sp.hstack([x, self._tokens(self.user_ids_, side)], format="csr")
        gram = (inputs.T @ inputs).toarray()
        gram[np.diag_indices_from(gram)] += self.regularization
        inverse = np.linalg.inv(gram)
        weights = -inverse[:, :n_items] / np.diag(inverse)[:n_items]
        weights[np.arange(n_items), np.arange(n_items)] = 0.0  # an item never predicts itself
        self.weights_ = weights.astype(np.float32)  # rows: the items, then the side-feature tokens
        self.inputs_ = sp.csr_matrix(inputs, dtype=np.float32)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.inputs_[rows] @ self.weights_, dtype=np.float32)

    def _score_cold(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> np.ndarray:
        if not self.feature_names_ or user_features is None:
            return super()._score_cold(user_ids, user_features)
        tokens = self._tokens(user_ids, user_features)
        return np.asarray(tokens @ self.weights_[self.n_items :], dtype=np.float32)

    def _item_vectors(self) -> np.ndarray:
        return np.ascontiguousarray(self.weights_[: self.n_items].T)

    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "weights": self.weights_,
            "inputs_indptr": self.inputs_.indptr,
            "inputs_indices": self.inputs_.indices,
            "inputs_data": self.inputs_.data,
            "offsets": self.offsets_,
            "feature_names": np.array(self.feature_names_, dtype=str),
        }
        state.update({f"vocab_{j}": v for j, v in enumerate(self.vocab_)})
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights"]
        self.inputs_ = sp.csr_matrix(
            (state["inputs_data"], state["inputs_indices"], state["inputs_indptr"]),
            shape=(len(state["inputs_indptr"]) - 1, self.weights_.shape[0]),
        )
        self.offsets_ = state["offsets"]
        self.feature_names_ = [str(x) for x in state["feature_names"]]
        self.vocab_ = [state[f"vocab_{j}"] for j in range(len(self.feature_names_))]
