"""Stratified k-fold evaluation of every candidate, with out-of-fold predictions kept for plots and calibration."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from risk.calibration import cross_fitted_calibration
from risk.cutoff import bayes_threshold
from risk.metrics import ALL_METRICS, all_metrics, brier
from risk.models import Candidate, make_pipeline

if TYPE_CHECKING:
    from risk.tuning import Tuning

log = logging.getLogger(__name__)


@dataclass
class CVResult:
    """Out-of-fold results of several candidates on one data set.

    Attributes
    ----------
    y : ndarray
        0/1 labels.
    folds : ndarray
        Each row's validation fold.
    raw : dict
        Candidate name -> out-of-fold probabilities straight from the model.
    calibrated : dict
        Candidate name -> cross-fitted calibrated out-of-fold probabilities.
    per_fold : dict
        Candidate name -> list of per-fold metric dicts (on calibrated probabilities, plus ``brier_raw``).
    threshold : float
        Decision threshold used for accuracy, precision, recall and F1.
    search : dict
        Candidate name -> per-fold hyperparameter search record (``lightgbm_tuned`` only, see
        :class:`risk.tuning.TunedLGBM`).
    """

    y: np.ndarray
    folds: np.ndarray
    threshold: float
    raw: dict[str, np.ndarray] = field(default_factory=dict)
    calibrated: dict[str, np.ndarray] = field(default_factory=dict)
    per_fold: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    search: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """Candidate -> metric -> {mean, std} over folds."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for name, rows in self.per_fold.items():
            out[name] = {
                m: {
                    "mean": float(np.mean([r[m] for r in rows])),
                    "std": float(np.std([r[m] for r in rows], ddof=1)),
                }
                for m in rows[0]
            }
        return out


def assign_folds(y: np.ndarray, n_folds: int, seed: int = 0) -> np.ndarray:
    """Stratified fold number of each row; refuses data with too few defaults for ``n_folds``."""
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_folds < 2:
        raise ValueError(f"need at least 2 folds (got {n_folds})")
    if min(n_pos, n_neg) < n_folds:
        raise ValueError(
            f"{n_folds}-fold validation needs at least {n_folds} rows of each class ({n_pos} vs {n_neg})"
        )
    folds = np.empty(len(y), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        folds[test] = k
    return folds


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    categorical: list[int],
    candidates: list[Candidate],
    *,
    n_folds: int = 5,
    cost_missed_default: float = 5.0,
    cost_rejected_good: float = 1.0,
    quick: bool = False,
    seed: int = 0,
    calibration: str = "auto",
    monotone: tuple[int, ...] = (),
    tuning: Tuning | None = None,
    progress: Callable[[str], None] | None = None,
) -> CVResult:
    """Fit every candidate on k-1 folds and predict the k-th; calibrate out-of-fold; score each fold.

    ``progress(label)`` is called after each of the ``len(candidates) * n_folds`` fits (e.g. to move a bar).

    Decision metrics use the cost-optimal threshold for calibrated probabilities (:func:`bayes_threshold`).
    ``monotone`` and ``tuning`` go to :func:`make_pipeline` (LightGBM's constraints; ``lightgbm_tuned``'s search,
    which sees the training folds only, as every fit does).
    """
    folds = assign_folds(y, n_folds, seed)
    result = CVResult(y=y, folds=folds, threshold=bayes_threshold(cost_missed_default, cost_rejected_good))
    for cand in candidates:
        raw = np.empty(len(y))
        for k in range(n_folds):
            train, test = folds != k, folds == k
            pipe = make_pipeline(
                cand, categorical, x.shape[1], quick=quick, n_minority=int(y[train].sum()), seed=seed,
                monotone=monotone, tuning=tuning,
            )  # fmt: skip
            pipe.fit(x[train], y[train])
            raw[test] = pipe.predict_proba(x[test])[:, 1]
            if (search := getattr(pipe[-1], "search_", None)) is not None:
                result.search.setdefault(cand.name, []).append(search)
            if progress is not None:
                progress(f"{cand.name} fold {k + 1}/{n_folds}")
        cal = cross_fitted_calibration(raw, y, folds, method=calibration)
        result.raw[cand.name] = raw
        result.calibrated[cand.name] = cal
        result.per_fold[cand.name] = [
            {
                **all_metrics(y[folds == k], cal[folds == k], result.threshold),
                "brier_raw": brier(y[folds == k], raw[folds == k]),
            }
            for k in range(n_folds)
        ]
        mean_auc = np.mean([r["roc_auc"] for r in result.per_fold[cand.name]])
        log.info("%s: out-of-fold ROC-AUC %.3f", cand.name, mean_auc)
    return result


def choose_champion(summary: dict[str, dict[str, dict[str, float]]], model: str = "lightgbm") -> str:
    """The best imbalance treatment of ``model``: highest mean PR-AUC, then ROC-AUC, then lowest Brier.

    PR-AUC differences smaller than a tenth of their fold-to-fold spread count as ties, so a treatment is only
    preferred for a gain the folds support.
    """
    names = [n for n in summary if n.startswith(f"{model}+")]
    if not names:
        raise ValueError(f"no {model} candidate was evaluated")
    best_pr = max(summary[n]["pr_auc"]["mean"] for n in names)
    spread = max(summary[n]["pr_auc"]["std"] for n in names) / 10
    close = [n for n in names if summary[n]["pr_auc"]["mean"] >= best_pr - spread]
    return min(close, key=lambda n: (-round(summary[n]["roc_auc"]["mean"], 3), summary[n]["brier"]["mean"]))


__all__ = ["ALL_METRICS", "CVResult", "assign_folds", "choose_champion", "cross_validate"]
