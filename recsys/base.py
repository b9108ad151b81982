"""The one ``Recommender`` interface that every model implements (after the ``implicit`` library's).

``fit`` learns from an :class:`~recsys.interactions.InteractionMatrix`; ``recommend`` turns user ids into the
top-N item ids and scores, leaving out what each user already holds and anything a business rule blocks;
``similar_items`` finds neighbours of an item; ``save``/``load`` use ``.npz`` files (``allow_pickle=False``),
so serving never trains and never unpickles.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError  # scikit-learn's, kept importable as recsys.NotFittedError

from recsys.interactions import InteractionMatrix, id_array, lookup_ids, pad_id

_REGISTRY: dict[str, type[Recommender]] = {}
CHUNK_USERS = 65_536
THREAD_CHOICES: tuple[int, ...] = (1, 2)
"""Allowed ``n_jobs`` on this deployment (a shared machine): every model of the three families checks it."""
LEGACY_THREAD_NAMES: tuple[str, ...] = ("num_threads", "n_threads")
"""Names the thread setting had in files written before it was called ``n_jobs``; loading renames them."""


def check_n_jobs(n_jobs: object) -> int:
    """``n_jobs`` if it is one of :data:`THREAD_CHOICES`, else ValueError (one message for every model)."""
    if isinstance(n_jobs, bool) or n_jobs not in THREAD_CHOICES:
        raise ValueError(f"n_jobs must be 1 or 2 on this deployment, got {n_jobs!r}")
    return int(n_jobs)


def upgrade_params(params: dict[str, Any]) -> dict[str, Any]:
    """Saved hyperparameters with an older thread setting (``num_threads``, ``n_threads``) renamed ``n_jobs``."""
    out = dict(params)
    for old in LEGACY_THREAD_NAMES:
        if old in out:
            value = out.pop(old)
            out.setdefault("n_jobs", value)
    return out


class Recommender(ABC):
    """Base class: subclasses implement ``_fit``, ``_score`` and optionally ``_score_cold`` and ``_item_vectors``.

    Learned attributes (after ``fit``): ``user_ids_``, ``item_ids_``, ``held_`` (users x items CSR of what each
    user holds) and ``item_popularity_`` (share of users holding each item).
    """

    kind: ClassVar[str] = "base"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.kind] = cls

    # -- parameters ---------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, as given to ``__init__``."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting ------------------------------------------------------------------------------------
    def fit(
        self,
        interactions: InteractionMatrix,
        *,
        held: sp.csr_matrix | None = None,
        user_features: pd.DataFrame | None = None,
    ) -> Self:
        """Learn from a users x items confidence matrix.

        Parameters
        ----------
        interactions : InteractionMatrix
            Confidences, users as rows.
        held : csr_matrix, optional
            Same shape: what each user already holds (never recommended). Default: every non-zero of
            ``interactions``.
        user_features : DataFrame, optional
            Categorical side features indexed by user id; used by models that support them.
        """
        if not isinstance(interactions, InteractionMatrix):
            raise TypeError("fit expects an InteractionMatrix (see recsys.interactions)")
        matrix = interactions.matrix
        if matrix.nnz == 0:
            raise ValueError("cannot fit a recommender on an empty interaction matrix")
        if held is not None and held.shape != matrix.shape:
            raise ValueError(f"held has shape {held.shape}, interactions have {matrix.shape}")
        self.user_ids_ = interactions.user_ids
        self.item_ids_ = interactions.item_ids
        self.held_ = _binary(matrix if held is None else sp.csr_matrix(held))
        counts = np.asarray((matrix > 0).sum(axis=0)).ravel()
        self.item_popularity_ = (counts / max(matrix.shape[0], 1)).astype(np.float32)
        self._fit(matrix.tocsr().astype(np.float32), user_features)
        return self

    @abstractmethod
    def _fit(self, matrix: sp.csr_matrix, user_features: pd.DataFrame | None) -> None: ...

    @abstractmethod
    def _score(self, rows: np.ndarray) -> np.ndarray:
        """Scores (len(rows), n_items) for known users at matrix rows ``rows``."""

    def _score_cold(self, user_ids: np.ndarray, user_features: pd.DataFrame | None) -> np.ndarray:
        """Scores for users without history; default: item popularity."""
        return np.tile(self.item_popularity_, (len(user_ids), 1))

    def _item_vectors(self) -> np.ndarray:
        """Item representations for ``similar_items``; default: the item columns of what users hold."""
        return self.held_.T.toarray().astype(np.float32)

    # -- serving ------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "item_ids_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() or load()")

    @property
    def n_items(self) -> int:
        """Size of the catalogue."""
        self._check_fitted()
        return len(self.item_ids_)

    def score(
        self, user_ids: np.ndarray | list[int] | list[str], user_features: pd.DataFrame | None = None
    ) -> np.ndarray:
        """Raw scores (n_users, n_items) in ``item_ids_`` order; unknown users get cold-start scores."""
        self._check_fitted()
        ids = id_array(user_ids)
        rows = lookup_ids(self.user_ids_, ids)
        out = np.empty((len(ids), self.n_items), dtype=np.float32)
        known = rows >= 0
        if known.any():
            out[known] = self._score(rows[known])
        if (~known).any():
            out[~known] = self._score_cold(ids[~known], user_features)
        return out

    def held_mask(self, user_ids: np.ndarray | Sequence[int | str]) -> np.ndarray:
        """Boolean (n_users, n_items): True where the user holds the item (unknown users hold nothing)."""
        self._check_fitted()
        ids = id_array(user_ids)
        rows = lookup_ids(self.user_ids_, ids)
        mask = np.zeros((len(ids), self.n_items), dtype=bool)
        known = rows >= 0
        if known.any():
            mask[known] = self.held_[rows[known]].toarray() > 0
        return mask

    def recommend(
        self,
        user_ids: np.ndarray | list[int] | list[str],
        n: int = 10,
        *,
        exclude_held: bool = True,
        blocked: np.ndarray | None = None,
        user_features: pd.DataFrame | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` items for each user.

        Parameters
        ----------
        user_ids : array of int or str
            Users to serve; ids unseen in training are served as cold starts.
        n : int
            List length; short lists (everything held or blocked) are padded with item id -1 (``""`` for text
            ids, see :func:`~recsys.interactions.pad_id`) and score -inf.
        exclude_held : bool
            Leave out items the user already holds.
        blocked : bool array (n_users, n_items), optional
            Extra exclusions from business rules (True = never recommend).
        user_features : DataFrame, optional
            Side features of cold-start users, indexed by user id.

        Returns
        -------
        (items, scores) : tuple of ndarray, shapes (n_users, n)
        """
        self._check_fitted()
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        ids = id_array(user_ids)
        if blocked is not None and np.shape(blocked) != (len(ids), self.n_items):
            raise ValueError(f"blocked must have shape {(len(ids), self.n_items)}, got {np.shape(blocked)}")
        pad = pad_id(self.item_ids_)
        items = np.full((len(ids), n), pad, dtype=self.item_ids_.dtype)
        scores = np.full((len(ids), n), -np.inf, dtype=np.float32)
        for start in range(0, len(ids), CHUNK_USERS):
            part = slice(start, start + CHUNK_USERS)
            s = self.score(ids[part], user_features)
            if exclude_held:
                s[self.held_mask(ids[part])] = -np.inf
            if blocked is not None:
                s[np.asarray(blocked[part], dtype=bool)] = -np.inf
            top, top_scores = top_n(s, n)
            items[part] = np.where(top >= 0, self.item_ids_[np.maximum(top, 0)], pad)
            scores[part] = top_scores
        return items, scores

    def similar_items(
        self, item_ids: np.ndarray | list[int] | list[str], n: int = 5
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` most similar other items (cosine of item vectors) for each item id."""
        self._check_fitted()
        cols = lookup_ids(self.item_ids_, item_ids)
        if (cols < 0).any():
            raise KeyError(f"unknown item id(s): {id_array(item_ids)[cols < 0].tolist()}")
        vectors = self._item_vectors()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms > 0, norms, 1.0)
        sims = unit[cols] @ unit.T
        sims[np.arange(len(cols)), cols] = -np.inf
        top, top_scores = top_n(sims, n)
        return np.where(top >= 0, self.item_ids_[np.maximum(top, 0)], pad_id(self.item_ids_)), top_scores

    # -- persistence --------------------------------------------------------------------------------
    @abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays specific to the model."""

    @abstractmethod
    def _set_state(self, state: dict[str, np.ndarray]) -> None: ...

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one ``.npz`` file (no pickles) and return its path."""
        self._check_fitted()
        path = Path(path)
        held = self.held_
        arrays = {
            "kind": np.array(self.kind),
            "params": np.array(json.dumps(self.get_params())),
            "user_ids": self.user_ids_,
            "item_ids": self.item_ids_,
            "item_popularity": self.item_popularity_,
            "held_indptr": held.indptr,
            "held_indices": held.indices,
            **{f"state_{k}": v for k, v in self._state().items()},
        }
        np.savez(path, **arrays)
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Load a model written by :meth:`save` (any subclass; checks the kind when called on a subclass)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"recommender file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: not a readable recommender file ({exc})") from exc
        for key in (
            "kind",
            "params",
            "user_ids",
            "item_ids",
            "item_popularity",
            "held_indptr",
            "held_indices",
        ):
            if key not in arrays:
                raise ValueError(f"{path}: not a recommender file (missing array {key!r})")
        kind = str(arrays["kind"])
        target = _REGISTRY.get(kind)
        if target is None or (cls is not Recommender and not issubclass(target, cls)):
            raise ValueError(f"{path}: holds a {kind!r} model, expected {cls.kind!r}")
        model = target(**upgrade_params(json.loads(str(arrays["params"]))))
        model.user_ids_ = arrays["user_ids"]
        model.item_ids_ = arrays["item_ids"]
        model.item_popularity_ = arrays["item_popularity"]
        indices = arrays["held_indices"]
        model.held_ = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, arrays["held_indptr"]),
            shape=(len(model.user_ids_), len(model.item_ids_)),
        )
        model._set_state({k[len("state_") :]: v for k, v in arrays.items() if k.startswith("state_")})
        return model


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Column positions and values of the ``n`` largest finite scores per row, best first (-1 / -inf pad)."""
    n_rows, n_cols = scores.shape
    k = min(n, n_cols)
    if k < n_cols:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n_cols), (n_rows, 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(part_scores, order, axis=1)
    cols = np.where(np.isfinite(vals), cols, -1)
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    if k < n:
        cols = np.pad(cols, ((0, 0), (0, n - k)), constant_values=-1)
        vals = np.pad(vals, ((0, 0), (0, n - k)), constant_values=-np.inf)
    return cols, vals.astype(np.float32)


def _binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.eliminate_zeros()
    out.data[:] = 1.0
    return out
