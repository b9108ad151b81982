"""Scoring metrics for a default model: ranking (ROC-AUC, PR-AUC, KS), calibration (Brier) and decisions."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

RANKING_METRICS = ("roc_auc", "pr_auc", "ks", "brier")
DECISION_METRICS = ("accuracy", "precision", "recall", "f1")
ALL_METRICS = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "ks", "brier")


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels and scores differ in length: {y.size} vs {p.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0/1")
    return y, p


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random default scores above a random good loan (ties count half)."""
    y, score = _check(y, score)
    n_pos = y.sum()
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs both classes")
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision: precision at each default, averaged over the defaults (step-wise PR area).

    Tied scores are taken as one block, as scikit-learn's ``average_precision_score`` does.
    """
    y, score = _check(y, score)
    n_pos = y.sum()
    if n_pos == 0:
        raise ValueError("PR-AUC needs at least one positive")
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each block of tied scores
    tp = np.cumsum(t)[last]
    predicted = last + 1
    precision = tp / predicted
    recall_gain = np.diff(np.r_[0.0, tp]) / n_pos
    return float((precision * recall_gain).sum())


def ks_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of defaults and good loans."""
    y, score = _check(y, score)
    if y.min() == y.max():
        raise ValueError("KS needs both classes")
    order = np.argsort(score, kind="mergesort")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    cdf_pos = np.cumsum(t)[last] / t.sum()
    cdf_neg = np.cumsum(1 - t)[last] / (1 - t).sum()
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Brier score: mean squared error of predicted default probabilities (lower is better)."""
    y, p = _check(y, p)
    return float(np.mean((p - y) ** 2))


def decision_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of flagging a default when ``p >= threshold``.

    Precision is 0 when nothing is flagged (no flagged loan to be right about).
    """
    y, p = _check(y, p)
    flag = p >= threshold
    tp = float(np.sum(flag & (y == 1)))
    fp = float(np.sum(flag & (y == 0)))
    fn = float(np.sum(~flag & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": float(np.mean(flag == (y == 1))), "precision": precision, "recall": recall, "f1": f1}


def all_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Every metric of :data:`ALL_METRICS` for calibrated probabilities ``p`` at one decision threshold."""
    out = {"roc_auc": roc_auc(y, p), "pr_auc": pr_auc(y, p), "ks": ks_statistic(y, p), "brier": brier(y, p)}
    out.update(decision_metrics(y, p, threshold))
    return {k: out[k] for k in ALL_METRICS}


def roc_curve_points(
    y: np.ndarray, score: np.ndarray, max_points: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates of the ROC curve, thinned to at most ``max_points``."""
    y, score = _check(y, score)
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tpr = np.r_[0.0, np.cumsum(t)[last] / t.sum()]
    fpr = np.r_[0.0, np.cumsum(1 - t)[last] / (1 - t).sum()]
    keep = np.unique(np.linspace(0, fpr.size - 1, min(max_points, fpr.size)).astype(int))
    return fpr[keep], tpr[keep]


def pr_curve_points(y: np.ndarray, score: np.ndarray, max_points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision of the PR curve, thinned to at most ``max_points``."""
    y, score = _check(y, score)
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(t)[last]
    recall, precision = tp / t.sum(), tp / (last + 1)
    keep = np.unique(np.linspace(0, recall.size - 1, min(max_points, recall.size)).astype(int))
    return recall[keep], precision[keep]


def calibration_bins(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean predicted and observed default rate in equal-count bins of ``p`` (and each bin's size)."""
    y, p = _check(y, p)
    order = np.argsort(p, kind="mergesort")
    chunks = np.array_split(order, min(n_bins, p.size))
    pred = np.array([p[c].mean() for c in chunks])
    obs = np.array([y[c].mean() for c in chunks])
    return pred, obs, np.array([c.size for c in chunks])
