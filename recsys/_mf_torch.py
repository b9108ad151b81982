"""The PyTorch half of :class:`recsys.mf.MFRecommender`: the module, the ranking losses and the training loop.

Imported only to train (and to save or read the ``state_dict``): serving the fitted model uses plain numpy arrays,
so a web worker never imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

if TYPE_CHECKING:
    from recsys.mf import MFRecommender


class MFModule(nn.Module):
    """User, item, item-bias and side-feature token embeddings."""

    def __init__(self, n_users: int, n_items: int, n_tokens: int, n_features: int, dim: int) -> None:
        super().__init__()
        self.user = nn.Embedding(n_users, dim, sparse=True)  # a batch touches its own users' rows only
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


def fit_mf(model: MFRecommender, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None:
    """Train ``model`` (its vocabulary already built) on ``matrix`` and set its numpy serving arrays."""
    torch.set_num_threads(model.n_jobs)
    torch.manual_seed(model.random_state)
    rng = np.random.default_rng(model.random_state)
    model._build_vocab(user_features)
    tokens = torch.from_numpy(model._encode(model.user_ids_, user_features))
    n_users, n_items = matrix.shape
    module = MFModule(
        n_users, n_items, int(sum(len(v) for v in model.vocab_)), len(model.vocab_), model.factors
    )
    optimisers = _optimisers(module, model.lr, model.user_lr_scale)
    targets = matrix.tocsr().astype(np.float32)
    if model.weighted:
        targets.data = 1.0 + np.log(np.maximum(targets.data, 1.0))
    else:
        targets.data[:] = 1.0
    step = _softmax_step if model.loss == "softmax" else _bpr_step
    model.loss_history_ = []
    for _ in range(model.epochs):
        total = weight = 0.0
        for batch in _batches(rng, n_users if model.loss == "softmax" else targets.nnz, model.batch_size):
            loss, w = step(model, module, targets, tokens, batch, rng)
            for optimiser in optimisers:
                optimiser.zero_grad()
            loss.backward()
            for optimiser in optimisers:
                optimiser.step()
            total += loss.item() * w
            weight += w
        model.loss_history_.append(total / max(weight, 1e-12))
    model.module_ = module
    _export(model, module, tokens)


def _optimisers(module: MFModule, lr: float, user_lr_scale: float) -> tuple[torch.optim.Optimizer, ...]:
    """Lazy Adam for the user embedding (a step costs the batch, not the million customers) at ``lr *
    user_lr_scale`` (a user's row moves only in its own batch, once an epoch), Adam for the rest at ``lr``."""
    dense = [p for name, p in module.named_parameters() if not name.startswith("user.")]
    return (
        torch.optim.SparseAdam(list(module.user.parameters()), lr=lr * user_lr_scale),
        torch.optim.Adam(dense, lr=lr),
    )


def _user_vectors(
    model: MFRecommender, module: MFModule, users: torch.Tensor, tokens: torch.Tensor
) -> torch.Tensor:
    keep = (torch.rand(len(users)) >= model.user_dropout).float()
    return module.user_vector(users, tokens[users], keep)


def _softmax_step(
    model: MFRecommender,
    module: MFModule,
    targets: sp.csr_matrix,
    tokens: torch.Tensor,
    rows: np.ndarray,
    rng: np.random.Generator,
) -> tuple[torch.Tensor, float]:
    """Multinomial log-likelihood of each user's items: the softmax loss summed over the user's pairs."""
    block = targets[rows]
    n_items = targets.shape[1]
    if n_items <= model.max_full_softmax:
        cols = np.arange(n_items)
    else:  # sampled softmax: the batch's positives plus uniform negatives
        cols = np.union1d(block.indices, rng.integers(0, n_items, size=model.n_negatives))
        block = block[:, cols]
    users = torch.from_numpy(rows.astype(np.int64))
    vec = _user_vectors(model, module, users, tokens)
    col_t = torch.from_numpy(cols.astype(np.int64))
    logits = vec @ module.item(col_t).T + module.item_bias(col_t).squeeze(1)
    target = torch.from_numpy(block.toarray())
    w = float(target.sum())
    nll = -(target * torch.log_softmax(logits, dim=1)).sum() / max(w, 1e-12)
    penalty = vec.pow(2).sum(1).mean() + module.item(col_t).pow(2).sum(1).mean()
    return nll + model.weight_decay * penalty, w


def _bpr_step(
    model: MFRecommender,
    module: MFModule,
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
    neg = torch.from_numpy(rng.integers(0, targets.shape[1], size=(len(pairs), model.n_negatives)))
    vec = _user_vectors(model, module, users, tokens)
    bias = module.item_bias.weight.squeeze(1)
    pos_logit = (vec * module.item(pos)).sum(1) + bias[pos]
    neg_logit = (vec.unsqueeze(1) * module.item(neg)).sum(2) + bias[neg]
    per_pair = -nn.functional.logsigmoid(pos_logit.unsqueeze(1) - neg_logit).mean(1)
    penalty = vec.pow(2).sum(1).mean() + module.item(pos).pow(2).sum(1).mean()
    return (per_pair * w).sum() / w.sum() + model.weight_decay * penalty, float(w.sum())


@torch.no_grad()
def _export(model: MFRecommender, module: MFModule, tokens: torch.Tensor) -> None:
    ones = torch.ones(len(tokens))
    users = torch.arange(len(tokens))
    model.user_vectors_ = module.user_vector(users, tokens, ones).numpy().astype(np.float32)
    model.item_factors_ = module.item.weight.detach().numpy().astype(np.float32).copy()
    model.item_bias_ = module.item_bias.weight.detach().squeeze(1).numpy().astype(np.float32).copy()
    model.token_factors_ = module.token.weight.detach().numpy().astype(np.float32).copy()


def save_state_dict(module: MFModule, path: Path) -> None:
    """Write the module's ``state_dict``."""
    torch.save(module.state_dict(), path)


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a saved ``state_dict`` safely (``weights_only=True``: no code runs)."""
    return torch.load(path, weights_only=True, map_location="cpu")


def _batches(rng: np.random.Generator, n: int, size: int) -> Iterator[np.ndarray]:
    """Shuffled index batches covering ``range(n)``."""
    order = rng.permutation(n)
    for start in range(0, n, size):
        yield order[start : start + size]
