"""PyTorch matrix factorisation with a ranking loss and optional customer side features (cold start).

A user's vector is its own embedding plus the mean embedding of its categorical side features (age band,
income band, segment, ...); an item's score is ``user_vector . item_vector + item_bias``. Training drops the
user's own embedding at random (``user_dropout``) so the side features alone learn to rank, which is what a
customer with no history gets. Losses: ``softmax`` (full softmax over the catalogue, sampled softmax with
uniform negatives when the catalogue exceeds ``max_full_softmax``) or ``bpr``.

Serving uses plain numpy arrays (saved to ``.npz``); the torch ``state_dict`` is saved beside them for
further training and is read back with ``weights_only=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.base import Recommender, check_n_jobs

if TYPE_CHECKING:
    import torch

    from recsys._mf_torch import MFModule

UNKNOWN = "<unknown>"


class MFRecommender(Recommender):
    """Matrix factorisation trained with a ranking loss, with side features for cold-start users.

    Parameters
    ----------
    factors : int
        Embedding size.
    loss : {"softmax", "bpr"}
        Ranking loss.
    epochs : int
        Passes over the users (softmax) or the positive pairs (bpr).
    batch_size : int
        Users per step (softmax) or pairs per step (bpr).
    lr : float
        Adam learning rate.
    user_lr_scale : float
        Multiplier of ``lr`` for the user embedding, which is trained by lazy (sparse) Adam: a step updates only
        its batch's users, so a step costs the batch rather than the customer base (16 s an epoch at 1M customers
        instead of about 20 min, extrapolated from 13 s at 100k), and each user's row moves once an epoch, hence
        the larger rate.
    weight_decay : float
        L2 penalty on the embeddings touched by a batch.
    n_negatives : int
        Uniform negatives per batch (sampled softmax on catalogues above ``max_full_softmax``) or per
        positive pair (bpr).
    max_full_softmax : int
        Largest catalogue on which the softmax runs over every item.
    user_dropout : float
        Probability of hiding a user's own embedding during training (teaches the side features).
    weighted : bool
        Weight each pair's loss by ``1 + log(weight)`` of its confidence.
    random_state : int
        Seed of initialisation and batching.
    n_jobs : int
        Torch intra-op threads (1 or 2; 1 is faster on a busy machine).
    """

    kind = "mf"
    # learned by recsys._mf_torch.fit_mf (torch is imported only to train): absent on a loaded model
    loss_history_: list[float]
    module_: MFModule

    def __init__(
        self,
        *,
        factors: int = 64,
        loss: str = "softmax",
        epochs: int = 100,
        batch_size: int = 128,
        lr: float = 0.005,
        user_lr_scale: float = 3.0,
        weight_decay: float = 1e-4,
        n_negatives: int = 256,
        max_full_softmax: int = 20_000,
        user_dropout: float = 0.2,
        weighted: bool = True,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.factors = factors
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.user_lr_scale = user_lr_scale
        self.weight_decay = weight_decay
        self.n_negatives = n_negatives
        self.max_full_softmax = max_full_softmax
        self.user_dropout = user_dropout
        self.weighted = weighted
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- side features ------------------------------------------------------------------------------
    def _encode(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> np.ndarray:
        """Global token ids (len(user_ids), n_features); unseen users or values map to each column's unknown."""
        n = len(user_ids)
        codes = np.zeros((n, len(self.feature_names_)), dtype=np.int64)
        for j, name in enumerate(self.feature_names_):
            vocab = self.vocab_[j]
            if user_features is not None and name in user_features.columns:
                values = (
                    user_features[name].reindex(pd.Index(user_ids)).astype("str").fillna(UNKNOWN).to_numpy()
                )
                pos = np.clip(np.searchsorted(vocab, values), 0, len(vocab) - 1)
                local = np.where(vocab[pos] == values, pos, np.flatnonzero(vocab == UNKNOWN)[0])
            else:
                local = np.full(n, np.flatnonzero(vocab == UNKNOWN)[0])
            codes[:, j] = self.offsets_[j] + local
        return codes

    def _build_vocab(self, user_features: pd.DataFrame | None) -> None:
        if user_features is None:
            self.feature_names_, self.vocab_ = [], []
        else:
            if user_features.index.has_duplicates:
                raise ValueError("user_features: the index (user id) has duplicates")
            self.feature_names_ = [str(c) for c in user_features.columns]
            self.vocab_ = [
                np.unique(
                    np.append(user_features[c].astype("str").fillna(UNKNOWN).to_numpy(), UNKNOWN)
                ).astype(str)
                for c in user_features.columns
            ]
        sizes = [len(v) for v in self.vocab_]
        self.offsets_ = (
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else np.zeros(0, np.int64)
        )

    # -- training (torch is imported here only: serving never needs it) -----------------------------------
    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
        if self.loss not in ("softmax", "bpr"):
            raise ValueError(f"loss must be 'softmax' or 'bpr', got {self.loss!r}")
        check_n_jobs(self.n_jobs)
        if user_features is not None and not isinstance(user_features, pd.DataFrame):
            raise TypeError("user_features must be a DataFrame indexed by user id")
        from recsys._mf_torch import fit_mf

        fit_mf(self, matrix, user_features)

    # -- serving ------------------------------------------------------------------------------------
    def _cold_vectors(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> np.ndarray:
        if not self.feature_names_:
            return np.zeros((len(user_ids), self.factors), dtype=np.float32)
        return self.token_factors_[self._encode(user_ids, user_features)].mean(axis=1)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_vectors_[rows] @ self.item_factors_.T + self.item_bias_

    def _score_cold(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> np.ndarray:
        return self._cold_vectors(user_ids, user_features) @ self.item_factors_.T + self.item_bias_

    def _item_vectors(self) -> np.ndarray:
        return self.item_factors_

    def feature_contributions(
        self, user_id: int | str, item_id: int | str, user_features: pd.DataFrame | None
    ) -> pd.DataFrame:
        """How much each side feature of ``user_id`` adds to the score of ``item_id``, largest first.

        Returns a DataFrame with columns ``feature``, ``value`` and ``contribution``; empty without side features.
        """
        self._check_fitted()
        if not self.feature_names_:
            return pd.DataFrame({"feature": [], "value": [], "contribution": []})
        col = np.flatnonzero(self.item_ids_ == item_id)
        if len(col) == 0:
            raise KeyError(f"unknown item id: {item_id}")
        codes = self._encode(np.array([user_id]), user_features)[0]
        contrib = self.token_factors_[codes] @ self.item_factors_[col[0]] / len(codes)
        values = [self.vocab_[j][codes[j] - self.offsets_[j]] for j in range(len(codes))]
        out = pd.DataFrame({"feature": self.feature_names_, "value": values, "contribution": contrib})
        return out.sort_values("contribution", ascending=False, ignore_index=True)

    # -- persistence --------------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "user_vectors": self.user_vectors_,
            "item_factors": self.item_factors_,
            "item_bias": self.item_bias_,
            "token_factors": self.token_factors_,
            "offsets": self.offsets_,
            "feature_names": np.array(self.feature_names_, dtype=str),
        }
        state.update({f"vocab_{j}": v for j, v in enumerate(self.vocab_)})
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_vectors_ = state["user_vectors"]
        self.item_factors_ = state["item_factors"]
        self.item_bias_ = state["item_bias"]
        self.token_factors_ = state["token_factors"]
        self.offsets_ = state["offsets"]
        self.feature_names_ = [str(x) for x in state["feature_names"]]
        self.vocab_ = [state[f"vocab_{j}"] for j in range(len(self.feature_names_))]

    def save_torch(self, path: str | Path) -> Path:
        """Write the torch ``state_dict`` of the trained module (for further training)."""
        if not hasattr(self, "module_"):
            raise RuntimeError("no torch module: save_torch needs a model trained in this process")
        from recsys._mf_torch import save_state_dict

        path = Path(path)
        save_state_dict(self.module_, path)
        return path

    @staticmethod
    def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
        """Read a saved ``state_dict`` safely (``weights_only=True``: no code runs)."""
        from recsys._mf_torch import load_state_dict

        return load_state_dict(Path(path))
