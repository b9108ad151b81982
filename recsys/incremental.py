"""Continuous learning for ALS: recompute the factors of the customers with new events, keep everything else.

Implicit ALS solves each user's factors in closed form given the item factors, so a customer whose history changed
can be refreshed alone with ``implicit``'s ``partial_fit_users``: the item factors stay fixed, the other customers'
factors stay bit for bit the same, and the cost is one small least-squares solve per affected customer (no full
retrain). New customers get a factor row too. A full retrain (``ledgerlight retrain``) later refreshes the item
factors and the MF model.

EASE needs even less: it scores a customer as their interaction row times the item-item matrix, so
:func:`fold_in_users` only replaces the affected customers' input rows (the matrix is kept): their recommendations
follow their new history at once, and nobody else's change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from bankdata import DataValidationError
from recsys.als import ALSRecommender
from recsys.base import Recommender, _binary
from recsys.ease import EASERecommender
from recsys.interactions import InteractionMatrix, id_array, lookup_ids


def _require_fitted_als(model: Recommender) -> None:
    if not isinstance(model, ALSRecommender):
        raise TypeError(f"incremental updates need an ALSRecommender, got {type(model).__name__}")
    model._check_fitted()


def _rows_for(users: np.ndarray, frame: pd.DataFrame, item_ids: np.ndarray) -> sp.csr_matrix:
    """users x items confidences of ``frame`` (duplicates keep the largest weight), rows in ``users`` order."""
    return InteractionMatrix.from_frame(frame, user_ids=users, item_ids=item_ids).matrix


def _check_items(frame: pd.DataFrame, item_ids: np.ndarray, source: str) -> None:
    unknown = lookup_ids(item_ids, frame["item_id"].to_numpy()) < 0
    if unknown.any():
        rows = (np.flatnonzero(unknown)[:5] + 1).tolist()
        raise DataValidationError(
            source,
            "product ids the model does not know (a new product needs a full retrain)",
            column="item_id",
            rows=rows,
            n_rows=int(unknown.sum()),
        )


def partial_fit_users(
    model: ALSRecommender,
    history: pd.DataFrame,
    *,
    held: pd.DataFrame | None = None,
    source: str = "interactions",
) -> ALSRecommender:
    """A copy of ``model`` with the factors of the users in ``history`` recomputed from their full history.

    Parameters
    ----------
    model : ALSRecommender
        A fitted (or loaded) ALS model; it is not modified.
    history : DataFrame
        Standard long format (``user_id``, ``item_id``, ``weight``): **every** event of each affected user, old and
        new (ALS solves a user from the whole row, not from a delta).
    held : DataFrame, optional
        ``user_id``, ``item_id`` of what the affected users now hold (their purchases); these rows of ``held_``
        are replaced, so newly bought products stop being recommended. Default: their held rows are kept.
    source : str
        Name used in error messages.

    Returns
    -------
    ALSRecommender
        Same hyperparameters and item factors; the affected users' factor rows (and held rows) replaced, new
        users added in sorted position.

    Raises
    ------
    DataValidationError
        Empty history, a missing column, or an item the model does not know.
    """
    _require_fitted_als(model)
    missing = {"user_id", "item_id", "weight"} - set(history.columns)
    if missing:
        raise DataValidationError(source, f"missing column(s) {sorted(missing)} in the history frame")
    if history.empty:
        raise DataValidationError(source, "no events: nothing to update")
    _check_items(history, model.item_ids_, source)
    users = np.unique(id_array(history["user_id"]))
    grown = _with_users(model, users)
    rows = lookup_ids(grown.user_ids_, users)
    user_items = _rows_for(users, history, grown.item_ids_)
    from implicit.cpu.als import AlternatingLeastSquares  # imported to fit only
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        solver = AlternatingLeastSquares(
            factors=grown.item_factors_.shape[1],
            regularization=model.regularization,
            alpha=model.alpha,
            iterations=1,
            num_threads=model.n_jobs,
            random_state=model.random_state,
        )
        solver.item_factors = grown.item_factors_
        solver.user_factors = grown.user_factors_
        solver.partial_fit_users(rows, user_items)
    grown.user_factors_ = np.ascontiguousarray(solver.user_factors, dtype=np.float32)
    if held is not None:
        _check_items(held, grown.item_ids_, source)
        holding = held.assign(weight=1.0)
        grown.held_ = _replace_rows(grown.held_, rows, _rows_for(users, holding, grown.item_ids_))
    return grown


def _with_users(model: ALSRecommender, users: np.ndarray) -> ALSRecommender:
    """A copy of ``model`` whose ``user_ids_`` also contain ``users`` (new ones get zero factors, hold nothing)."""
    copy = ALSRecommender(**model.get_params())
    new = np.setdiff1d(users, model.user_ids_)
    ids = np.concatenate([model.user_ids_, new])
    order = np.argsort(ids, kind="stable")
    factors = np.vstack([model.user_factors_, np.zeros((len(new), model.user_factors_.shape[1]), np.float32)])
    held = sp.vstack([model.held_, sp.csr_matrix((len(new), len(model.item_ids_)), dtype=np.float32)]).tocsr()
    copy.user_ids_ = ids[order]
    copy.item_ids_ = model.item_ids_.copy()
    copy.item_popularity_ = model.item_popularity_.copy()
    copy.user_factors_ = np.ascontiguousarray(factors[order])
    copy.item_factors_ = model.item_factors_.copy()
    copy.held_ = held[order]
    return copy


def _replace_rows(matrix: sp.csr_matrix, rows: np.ndarray, values: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` with its rows ``rows`` replaced by the rows of ``values`` (binary)."""
    keep = np.ones(matrix.shape[0], dtype=np.float32)
    keep[rows] = 0.0
    cleared = sp.diags(keep) @ matrix
    placed = sp.csr_matrix(
        (np.ones(values.nnz, np.float32), (rows[values.tocoo().row], values.tocoo().col)), shape=matrix.shape
    )
    return _binary((cleared + placed).tocsr())


def with_held(model: Recommender, held: pd.DataFrame, *, users: np.ndarray | None = None) -> Recommender:
    """``model`` with the held rows of ``users`` (default: the users in ``held``) replaced by ``held``.

    Works for any fitted recommender (popularity, MF...): nothing is refitted; users the model does not know are
    skipped (they are cold starts for it until the next full retrain). The model is changed in place and returned.
    """
    model._check_fitted()
    ids = np.unique(id_array(held["user_id"] if users is None else users))
    ids = ids[lookup_ids(model.user_ids_, ids) >= 0]
    if len(ids) == 0:
        return model
    _check_items(held, model.item_ids_, "held products")
    mine = held[np.isin(held["user_id"].to_numpy(), ids)].assign(weight=1.0)
    rows = lookup_ids(model.user_ids_, ids)
    model.held_ = _replace_rows(model.held_, rows, _rows_for(ids, mine, model.item_ids_))
    return model


def affected_history(log: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every event in ``log`` (standard long format) of the users in ``new``, plus ``new`` itself.

    An event present in both is harmless: a (user, item) pair keeps its largest weight.
    """
    users = np.unique(new["user_id"].to_numpy())
    mine = log[np.isin(log["user_id"].to_numpy(), users)]
    return pd.concat([mine, new[["user_id", "item_id", "weight"]]], ignore_index=True)


def fold_in_users(
    model: EASERecommender,
    history: pd.DataFrame,
    *,
    held: pd.DataFrame | None = None,
    user_features: pd.DataFrame | None = None,
    source: str = "interactions",
) -> EASERecommender:
    """A copy of an EASE ``model`` whose input rows of the users in ``history`` are rebuilt from their full history.

    Parameters
    ----------
    model : EASERecommender
        A fitted (or loaded) EASE model; it is not modified, its item-item weights are shared, not refitted.
    history : DataFrame
        ``user_id``, ``item_id``, ``weight``: **every** event of each affected user, old and new (the row is
        rebuilt, as :meth:`EASERecommender.fit` builds it: ``log1p`` of the largest weight per product).
    held : DataFrame, optional
        ``user_id``, ``item_id`` of what the affected users now hold; their held rows are replaced.
    user_features : DataFrame, optional
        Side features indexed by user id: the category inputs of users the model did not know (known users keep
        theirs). Without them a new user's row has their products only.
    source : str
        Name used in error messages.

    Raises
    ------
    DataValidationError
        Empty history, a missing column, or an item the model does not know.
    """
    if not isinstance(model, EASERecommender):
        raise TypeError(f"fold_in_users needs an EASERecommender, got {type(model).__name__}")
    model._check_fitted()
    missing = {"user_id", "item_id", "weight"} - set(history.columns)
    if missing:
        raise DataValidationError(source, f"missing column(s) {sorted(missing)} in the history frame")
    if history.empty:
        raise DataValidationError(source, "no events: nothing to update")
    _check_items(history, model.item_ids_, source)
    users = np.unique(id_array(history["user_id"]))
    new = np.setdiff1d(users, model.user_ids_)
    ids = np.concatenate([model.user_ids_, new])
    order = np.argsort(ids, kind="stable")
    n_items, width = model.n_items, model.weights_.shape[0]
    tokens = model._tokens(new, user_features) if model.feature_names_ else sp.csr_matrix((len(new), 0))
    new_inputs = sp.hstack([sp.csr_matrix((len(new), n_items), dtype=np.float32), tokens], format="csr")
    inputs = sp.vstack([model.inputs_, sp.csr_matrix(new_inputs, dtype=np.float32)], format="csr")[order]
    held_rows = sp.vstack([model.held_, sp.csr_matrix((len(new), n_items), dtype=np.float32)], format="csr")[
        order
    ]
    copy = EASERecommender(**model.get_params())
    copy.user_ids_ = ids[order]
    copy.item_ids_ = model.item_ids_.copy()
    copy.item_popularity_ = model.item_popularity_.copy()
    copy.weights_ = model.weights_
    copy.feature_names_, copy.vocab_, copy.offsets_ = list(model.feature_names_), model.vocab_, model.offsets_
    rows = lookup_ids(copy.user_ids_, users)
    items = _rows_for(users, history, copy.item_ids_).astype(np.float64)
    items.data = np.log1p(np.maximum(items.data, 0.0))
    keep = sp.csr_matrix(inputs[rows][:, n_items:], dtype=np.float32)
    replaced = sp.hstack([sp.csr_matrix(items, dtype=np.float32), keep], format="csr")
    copy.inputs_ = _set_rows(inputs, rows, replaced, width)
    copy.held_ = _binary(held_rows.tocsr())
    if held is not None:
        _check_items(held, copy.item_ids_, source)
        copy.held_ = _replace_rows(
            copy.held_, rows, _rows_for(users, held.assign(weight=1.0), copy.item_ids_)
        )
    return copy


def _set_rows(matrix: sp.csr_matrix, rows: np.ndarray, values: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """``matrix`` (n x width) with its rows ``rows`` replaced by the rows of ``values`` (values kept as given)."""
    keep = np.ones(matrix.shape[0], dtype=np.float32)
    keep[rows] = 0.0
    cleared = sp.diags(keep) @ matrix
    coo = values.tocoo()
    placed = sp.csr_matrix(
        (coo.data.astype(np.float32), (rows[coo.row], coo.col)), shape=(matrix.shape[0], width)
    )
    out = (cleared + placed).tocsr()
    out.eliminate_zeros()
    return sp.csr_matrix(out, dtype=np.float32)


def users_only(model: Recommender, user_ids: np.ndarray) -> Recommender:
    """A copy of a fitted ALS or EASE ``model`` that knows only those of ``user_ids`` it knew (item side shared).

    Folding a few customers into a model of a million: :func:`partial_fit_users` and :func:`fold_in_users` copy the
    per-user state they are given, so giving them this slice makes a fold cost what its customers cost. Scores of
    the kept users are exactly those of ``model``.
    """
    if not isinstance(model, ALSRecommender | EASERecommender):
        raise TypeError(f"users_only needs an ALS or EASE model, got {type(model).__name__}")
    model._check_fitted()
    ids = np.unique(id_array(user_ids))
    rows = lookup_ids(model.user_ids_, ids)
    rows = rows[rows >= 0]
    copy = type(model)(**model.get_params())
    for name, value in vars(model).items():
        if name.endswith("_") and not name.startswith("_"):
            setattr(copy, name, value)
    copy.user_ids_ = model.user_ids_[rows]
    copy.held_ = sp.csr_matrix(model.held_[rows])
    if isinstance(model, ALSRecommender) and isinstance(copy, ALSRecommender):
        copy.user_factors_ = np.ascontiguousarray(model.user_factors_[rows])
    elif isinstance(model, EASERecommender) and isinstance(copy, EASERecommender):
        copy.inputs_ = sp.csr_matrix(model.inputs_[rows])
    return copy
