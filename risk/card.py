"""Evidence for a risk model's card: 95 % confidence intervals, a calibration table, fairness and known limits.

Intervals come from the stored out-of-fold predictions (``evaluation.npz``) by a percentile bootstrap over loans;
without them, from the cross-validation spread in ``report.json`` (mean +- t * std / sqrt(folds)). The card says which.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bankdata import Artifact, ArtifactError
from risk.fairness import model_fairness
from risk.metrics import brier, ks_statistic, pr_auc, roc_auc

METRICS = {"roc_auc": roc_auc, "pr_auc": pr_auc, "ks": ks_statistic, "brier": brier}
N_BOOT = 200
LIMITS = (
    "Trained on {source}: applicants unlike these borrowers (other products, regions or times) may be scored badly.",
    "Protected attributes ({protected}) are kept out of the features, but other features may correlate with them; "
    "check the fairness table at the cut-off in use.",
    "Probabilities are calibrated on out-of-fold scores of the training data; recalibrate when the population drifts "
    "(see the Monitoring page, PSI > 0.25).",
    "Reason codes and SHAP values explain the model, not the causes of default.",
)


def bootstrap_ci(
    y: np.ndarray, p: np.ndarray, *, n_boot: int = N_BOOT, level: float = 0.95, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Point estimate and percentile-bootstrap interval of ROC-AUC, PR-AUC, KS and Brier over resampled loans."""
    y, p = np.asarray(y).astype(int), np.asarray(p, dtype=np.float64)
    if y.size != p.size or y.size < 10 or y.min() == y.max():
        raise ValueError(
            f"bootstrap needs at least 10 equally long labels and scores with both classes (got {y.size})"
        )
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {m: [] for m in METRICS}
    for _ in range(n_boot):
        idx = rng.integers(0, y.size, y.size)
        if y[idx].min() == y[idx].max():
            continue
        for name, fn in METRICS.items():
            draws[name].append(fn(y[idx], p[idx]))
    alpha = (1 - level) / 2
    return {
        name: {
            "estimate": float(fn(y, p)),
            "low": float(np.quantile(draws[name], alpha)),
            "high": float(np.quantile(draws[name], 1 - alpha)),
        }
        for name, fn in METRICS.items()
    }


def cv_ci(
    summary: dict[str, dict[str, float]], folds: int, level: float = 0.95
) -> dict[str, dict[str, float]]:
    """t-intervals ``mean +- t * std / sqrt(folds)`` from per-fold means and standard deviations."""
    if folds < 2:
        raise ValueError(f"a cross-validation interval needs at least 2 folds, got {folds}")
    t = float(stats.t.ppf(0.5 + level / 2, folds - 1))
    return {
        name: {
            "estimate": float(v["mean"]),
            "low": float(v["mean"] - t * v["std"] / np.sqrt(folds)),
            "high": float(v["mean"] + t * v["std"] / np.sqrt(folds)),
        }
        for name, v in summary.items()
        if isinstance(v, dict) and {"mean", "std"} <= set(v)
    }


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted PD and observed default rate in each decile of the predictions."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(bins, len(frame)), labels=False)
    grouped = frame.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    return [
        {"bin": int(b) + 1, "predicted": float(r.predicted), "observed": float(r.observed), "n": int(r.n)}
        for b, r in grouped.iterrows()
    ]


def card_evidence(
    artifact: Artifact, frame: pd.DataFrame | None = None, *, bootstrap: bool = True
) -> dict[str, Any]:
    """Intervals, calibration, fairness (when ``frame`` holds the protected columns) and limits of a risk artifact.

    ``bootstrap=False`` skips the stored out-of-fold predictions (intervals from the cross-validation spread, no
    calibration table): cheap enough to show before the evidence is published.

    Returns
    -------
    dict
        ``metrics_ci``, ``ci_method``, ``calibration``, ``fairness`` (or ``fairness_note``), ``limits``; the keys
        :func:`bankdata.model_card_html` reads.
    """
    report = artifact.load_json("report.json")
    champion = report["champion"]
    out: dict[str, Any] = {}
    y = p = None
    try:
        if bootstrap:
            evaluation = artifact.load_npz("evaluation.npz")
            y, p = evaluation["y"], evaluation[f"cal__{champion}"]
    except (ArtifactError, KeyError):
        y = p = None
    if y is not None and p is not None:
        out["metrics_ci"] = bootstrap_ci(y, p)
        out["ci_method"] = (
            f"95 % percentile bootstrap ({N_BOOT} resamples) of the stored out-of-fold calibrated PDs "
            f"({len(y):,} loans)"
        )
        out["calibration"] = calibration_table(y, p)
    else:
        out["metrics_ci"] = cv_ci(report["candidates"][champion], int(report["folds"]))
        out["ci_method"] = f"95 % t-interval from the spread over {report['folds']} cross-validation folds"
    if frame is not None:
        try:
            out["fairness"] = model_fairness(artifact, frame)
        except ValueError as exc:
            out["fairness_note"] = str(exc)
    else:
        out["fairness_note"] = "no loan book with protected attributes was available to check fairness"
    out["limits"] = [
        text.format(
            source=report.get("source", "the training data"),
            protected=", ".join(report.get("protected", [])) or "none found",
        )
        for text in LIMITS
    ]
    return out
