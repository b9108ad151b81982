"""Plain-language reasons for a recommendation.

Order of preference: a product the customer holds that often goes with the recommended one ("customers who hold
X also took Y"; for EASE, the held product whose item-item weight adds most to the score: "customers who hold X
often take Y"), else the side features that pushed the score up (matrix factorisation), else popularity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def cooccurrence(held: sp.csr_matrix) -> np.ndarray:
    """Item x item counts of customers holding both (the diagonal: customers holding the item)."""
    binary = sp.csr_matrix(held, dtype=np.float64, copy=True)
    binary.data[:] = 1.0
    return np.asarray((binary.T @ binary).toarray())


def also_took(cooc: np.ndarray, held_cols: np.ndarray, item_col: int) -> tuple[int, float] | None:
    """The held item X that best predicts ``item_col`` and P(item | X); None if the customer holds nothing linked."""
    held_cols = np.asarray(held_cols, dtype=np.int64)
    if len(held_cols) == 0:
        return None
    base = np.maximum(np.diag(cooc)[held_cols], 1.0)
    share = cooc[held_cols, item_col] / base
    best = int(np.argmax(share))
    if share[best] <= 0:
        return None
    return int(held_cols[best]), float(share[best])


def strongest_link(item_weights: np.ndarray, held_cols: np.ndarray, item_col: int) -> int | None:
    """The held item whose weight towards ``item_col`` is largest (an EASE item x item matrix, rows the held
    items); None when the customer holds nothing that adds to the score."""
    held_cols = np.asarray(held_cols, dtype=np.int64)
    if len(held_cols) == 0:
        return None
    weights = np.asarray(item_weights)[held_cols, item_col]
    best = int(np.argmax(weights))
    return int(held_cols[best]) if weights[best] > 0 else None


def explain(
    *,
    item_name: str,
    held_names: list[str] | None = None,
    often: str | None = None,
    link: tuple[str, float] | None = None,
    contributions: pd.DataFrame | None = None,
    popularity: float | None = None,
) -> str:
    """One sentence for one recommended product.

    Parameters
    ----------
    item_name : str
        The recommended product.
    often : str, optional
        The held product that adds most to the score (from :func:`strongest_link`); first choice when given.
    link : (held product name, share), optional
        From :func:`also_took`.
    contributions : DataFrame, optional
        ``feature``, ``value``, ``contribution`` (largest first), e.g. from ``MFRecommender.feature_contributions``.
    popularity : float, optional
        Share of customers holding the product.
    """
    if often is not None:
        return f"Customers who hold {often} often take {item_name}"
    if link is not None:
        name, share = link
        return f"{share:.0%} of customers who hold {name} also took {item_name}"
    if contributions is not None and len(contributions):
        top = contributions[contributions["contribution"] > 0].head(2)
        if len(top):
            parts = [f"{f.replace('_', ' ')} {v}" for f, v in zip(top["feature"], top["value"], strict=True)]
            return f"Suggested for customers with {' and '.join(parts)}"
    if popularity is not None:
        return f"Popular: {popularity:.0%} of customers hold {item_name}"
    return f"{item_name} ranks high for this customer"
