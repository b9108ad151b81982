"""Leakage guard: refuse a feature that is the target in disguise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata import DataValidationError
from risk.features import FeatureSpec
from risk.metrics import roc_auc

#: a single column that ranks defaults this well is a copy of the outcome, not a predictor
LEAKAGE_AUC = 0.99


def single_column_auc(values: np.ndarray, y: np.ndarray, *, categorical: bool, seed: int = 0) -> float:
    """How well one column alone separates the classes (ROC-AUC folded to >= 0.5).

    A categorical column is scored by its out-of-fold default rate (two folds), so a high-cardinality column does not
    look perfect just by memorising the rows.
    """
    if not categorical:
        auc = roc_auc(y, values)
        return max(auc, 1.0 - auc)
    rng = np.random.default_rng(seed)
    half = rng.random(len(y)) < 0.5
    score = np.empty(len(y))
    prior = float(y.mean())
    for train, test in ((half, ~half), (~half, half)):
        rates = pd.Series(y[train]).groupby(values[train]).mean()
        score[test] = pd.Series(values[test]).map(rates).fillna(prior).to_numpy()
    auc = roc_auc(y, score)
    return max(auc, 1.0 - auc)


def check_leakage(
    x: np.ndarray, y: np.ndarray, spec: FeatureSpec, *, target: str, source: str = "data"
) -> None:
    """Raise :class:`DataValidationError` naming every column that predicts ``target`` almost perfectly."""
    cats = set(spec.categorical_indices)
    suspects = []
    for j, col in enumerate(spec.features):
        auc = single_column_auc(x[:, j], y, categorical=j in cats)
        if auc >= LEAKAGE_AUC:
            suspects.append(f"{col!r} (AUC {auc:.3f} on its own)")
    if suspects:
        raise DataValidationError(
            source,
            f"column(s) {', '.join(suspects)} separate target {target!r} almost perfectly: the target in disguise "
            "(e.g. recorded after the outcome). Remove them or pass --drop COLUMN",
        )
