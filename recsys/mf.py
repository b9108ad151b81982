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

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from recsys.base import Recommender

UNKNOWN = "<unknown>"


class _MFModule(nn.Module):
    def __init__(self, n_users: int, n_items: int, n_tokens: int, n_features: int, dim: int) -> None:
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.item_bias = nn.Embedding(n_items, 1)
        self.token = nn.Embedding(max(n_tokens, 1), dim)
        self.n_features = n_features
        for emb in (self.user, self.item, self.token):
            nn.init.normal_(emb.weight, std=0.05)
        nn.init.zeros_(self.item_bias.weight)

    def user_vector(self, users: torch.Tensor, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        vec = self.user(users) * keep.unsqueeze(1)
        if self.n_features:
            vec = vec + self.token(tokens).mean(dim=1)
        return vec


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
    num_threads : int
        Torch intra-op threads (1 or 2; 1 is faster on a busy machine).
    """

    kind = "mf"

    def __init__(
        self,
        *,
        factors: int = 64,
        loss: str = "softmax",
        epochs: int = 100,
        batch_size: int = 128,
        lr: float = 0.005,
        weight_decay: float = 1e-4,
        n_negatives: int = 256,
        max_full_softmax: int = 20_000,
        user_dropout: float = 0.2,
        weighted: bool = True,
        random_state: int = 0,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_negatives = n_negatives
        self.max_full_softmax = max_full_softmax
        self.user_dropout = user_dropout
        self.weighted = weighted
        self.random_state = random_state
        self.num_threads = num_threads

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

    # -- training -----------------------------------------------------------------------------------
    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
        if self.loss not in ("softmax", "bpr"):
            raise ValueError(f"loss must be 'softmax' or 'bpr', got {self.loss!r}")
        if not 1 <= self.num_threads <= 2:
            raise ValueError(f"num_threads must be 1 or 2 on this deployment, got {self.num_threads}")
        torch.set_num_threads(self.num_threads)
        torch.manual_seed(self.random_state)
        if user_features is not None and not isinstance(user_features, pd.DataFrame):
            raise TypeError("user_features must be a DataFrame indexed by user id")
        rng = np.random.default_rng(self.random_state)
        self._build_vocab(user_features)
        tokens = torch.from_numpy(self._encode(self.user_ids_, user_features))
        n_users, n_items = matrix.shape
        module = _MFModule(
            n_users, n_items, int(sum(len(v) for v in self.vocab_)), len(self.vocab_), self.factors
        )
        optimiser = torch.optim.Adam(module.parameters(), lr=self.lr)
        targets = matrix.tocsr().astype(np.float32)
        if self.weighted:
            targets.data = 1.0 + np.log(np.maximum(targets.data, 1.0))
        else:
            targets.data[:] = 1.0
        step = self._softmax_step if self.loss == "softmax" else self._bpr_step
        self.loss_history_: list[float] = []
        for _ in range(self.epochs):
            total = weight = 0.0
            for batch in _batches(rng, n_users if self.loss == "softmax" else targets.nnz, self.batch_size):
                loss, w = step(module, targets, tokens, batch, rng)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * w
                weight += w
            self.loss_history_.append(total / max(weight, 1e-12))
        self.module_ = module
        self._export(module, tokens)

    def _user_vectors(self, module: _MFModule, users: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        keep = (torch.rand(len(users)) >= self.user_dropout).float()
        return module.user_vector(users, tokens[users], keep)

    def _softmax_step(
        self,
        module: _MFModule,
        targets: sp.csr_matrix,
        tokens: torch.Tensor,
        rows: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[torch.Tensor, float]:
        """Multinomial log-likelihood of each user's items: the softmax loss summed over the user's pairs."""
        block = targets[rows]
        n_items = targets.shape[1]
        if n_items <= self.max_full_softmax:
            cols = np.arange(n_items)
        else:  # sampled softmax: the batch's positives plus uniform negatives
            cols = np.union1d(block.indices, rng.integers(0, n_items, size=self.n_negatives))
            block = block[:, cols]
        users = torch.from_numpy(rows.astype(np.int64))
        vec = self._user_vectors(module, users, tokens)
        col_t = torch.from_numpy(cols.astype(np.int64))
        logits = vec @ module.item(col_t).T + module.item_bias(col_t).squeeze(1)
        target = torch.from_numpy(block.toarray())
        w = float(target.sum())
        nll = -(target * torch.log_softmax(logits, dim=1)).sum() / max(w, 1e-12)
        penalty = vec.pow(2).sum(1).mean() + module.item(col_t).pow(2).sum(1).mean()
        return nll + self.weight_decay * penalty, w

    def _bpr_step(
        self,
        module: _MFModule,
        targets: sp.csr_matrix,
        tokens: torch.Tensor,
        pairs: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[torch.Tensor, float]:
        """Bayesian personalised ranking: each positive against ``n_negatives`` uniform items."""
        coo_rows = np.repeat(np.arange(targets.shape[0]), np.diff(targets.indptr))[pairs]
        users = torch.from_numpy(coo_rows.astype(np.int64))
        pos = torch.from_numpy(targets.indices[pairs].astype(np.int64))
        w = torch.from_numpy(targets.data[pairs])
        neg = torch.from_numpy(rng.integers(0, targets.shape[1], size=(len(pairs), self.n_negatives)))
        vec = self._user_vectors(module, users, tokens)
        bias = module.item_bias.weight.squeeze(1)
        pos_logit = (vec * module.item(pos)).sum(1) + bias[pos]
        neg_logit = (vec.unsqueeze(1) * module.item(neg)).sum(2) + bias[neg]
        per_pair = -nn.functional.logsigmoid(pos_logit.unsqueeze(1) - neg_logit).mean(1)
        penalty = vec.pow(2).sum(1).mean() + module.item(pos).pow(2).sum(1).mean()
        return (per_pair * w).sum() / w.sum() + self.weight_decay * penalty, float(w.sum())

    @torch.no_grad()
    def _export(self, module: _MFModule, tokens: torch.Tensor) -> None:
        ones = torch.ones(len(tokens))
        users = torch.arange(len(tokens))
        self.user_vectors_ = module.user_vector(users, tokens, ones).numpy().astype(np.float32)
        self.item_factors_ = module.item.weight.detach().numpy().astype(np.float32).copy()
        self.item_bias_ = module.item_bias.weight.detach().squeeze(1).numpy().astype(np.float32).copy()
        self.token_factors_ = module.token.weight.detach().numpy().astype(np.float32).copy()

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
        self, user_id: int, item_id: int, user_features: pd.DataFrame | None
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
        path = Path(path)
        torch.save(self.module_.state_dict(), path)
        return path

    @staticmethod
    def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
        """Read a saved ``state_dict`` safely (``weights_only=True``: no code runs)."""
        return torch.load(Path(path), weights_only=True, map_location="cpu")


def _batches(rng: np.random.Generator, n: int, size: int):
    """Shuffled index batches covering ``range(n)``."""
    order = rng.permutation(n)
    for start in range(0, n, size):
        yield order[start : start + size]
