"""Drift and stability: population stability index (PSI) per feature and for the score, characteristic stability.

PSI = sum over bins of ``(a - e) * ln(a / e)``, where ``e`` and ``a`` are the shares of the expected (training) and
actual (new) rows in each bin. Numeric bins are the deciles of the expected data (quantile edges, so each holds about
a tenth of it); categorical bins are the categories. An empty bin's share is raised to ``eps`` so the logarithm stays
finite. Reading: < 0.1 stable, 0.1-0.25 watch, > 0.25 alert (a material shift).

Characteristic stability shows *how much a feature's shift moves the score*: per bin, ``(a - e) * points``, where
``points`` is the bin's mean SHAP contribution (log-odds) on the training rows; their sum is the feature's share of
the change in the mean score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from risk.explain import contributions
from risk.scoring import RiskModel

EPS = 1e-4
BINS = 10
WATCH = 0.10
ALERT = 0.25


def status(value: float) -> str:
    """``stable`` (< 0.1), ``watch`` (0.1-0.25) or ``alert`` (> 0.25)."""
    return "alert" if value > ALERT else "watch" if value >= WATCH else "stable"


def quantile_edges(expected: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Interior bin edges: the distinct inner quantiles of the expected values (at most ``bins - 1``)."""
    values = np.asarray(expected, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("PSI needs at least one finite expected value")
    if bins < 2:
        raise ValueError(f"PSI needs at least 2 bins, got {bins}")
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    return np.bincount(codes, minlength=n_bins) / max(codes.size, 1)


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bin of each value for interior ``edges`` (bin i holds ``edges[i-1] < v <= edges[i]``; NaN: last+1 bin)."""
    values = np.asarray(values, dtype=np.float64)
    codes = np.searchsorted(edges, values, side="left")
    return np.where(np.isnan(values), edges.size + 1, codes)


def psi_bins(
    expected: np.ndarray | pd.Series,
    actual: np.ndarray | pd.Series,
    *,
    bins: int = BINS,
    categorical: bool = False,
    eps: float = EPS,
) -> pd.DataFrame:
    """Per-bin shares and PSI terms of one variable.

    Returns
    -------
    DataFrame
        ``bin`` (label), ``expected``, ``actual`` (shares), ``psi`` (the bin's term); the PSI is ``psi.sum()``.
    """
    expected, actual = np.asarray(expected), np.asarray(actual)
    if expected.size == 0 or actual.size == 0:
        raise ValueError(f"PSI needs rows on both sides (expected {expected.size}, actual {actual.size})")
    if categorical:
        e_text, a_text = (
            pd.Series(expected).astype("str").fillna("missing"),
            pd.Series(actual).astype("str").fillna("missing"),
        )
        labels = sorted(set(e_text) | set(a_text))
        e = e_text.value_counts(normalize=True).reindex(labels, fill_value=0.0).to_numpy()
        a = a_text.value_counts(normalize=True).reindex(labels, fill_value=0.0).to_numpy()
    else:
        edges = quantile_edges(expected, bins)
        n_bins = edges.size + 2  # the bins between edges, and one for missing values
        e = _shares(bin_codes(expected, edges), n_bins)
        a = _shares(bin_codes(actual, edges), n_bins)
        bounds = np.r_[-np.inf, edges, np.inf]
        labels = [f"({lo:.4g}, {hi:.4g}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)] + [
            "missing"
        ]
        keep = (e > 0) | (a > 0)
        if not keep[-1]:
            labels, e, a = labels[:-1], e[:-1], a[:-1]
    e_safe, a_safe = np.maximum(e, eps), np.maximum(a, eps)
    return pd.DataFrame(
        {"bin": labels, "expected": e, "actual": a, "psi": (a_safe - e_safe) * np.log(a_safe / e_safe)}
    )


def psi(
    expected: np.ndarray | pd.Series,
    actual: np.ndarray | pd.Series,
    *,
    bins: int = BINS,
    categorical: bool = False,
    eps: float = EPS,
) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins of ``expected``)."""
    return float(psi_bins(expected, actual, bins=bins, categorical=categorical, eps=eps)["psi"].sum())


@dataclass(frozen=True)
class MonitorReport:
    """Drift of a new batch against the training data, for one risk model.

    Attributes
    ----------
    features : DataFrame
        feature, psi, status, score_shift (sum of the characteristic-stability terms, log-odds), sorted by PSI.
    score_psi : float
        PSI of the calibrated PD (deciles of the training PDs).
    score_bins : DataFrame
        Per-bin shares of the PD (see :func:`psi_bins`).
    stability : DataFrame
        feature, bin, expected, actual, points (mean SHAP of the bin on training rows), contribution.
    mean_pd : tuple of float
        Mean PD on the training rows and on the new rows.
    """

    features: pd.DataFrame
    score_psi: float
    score_bins: pd.DataFrame
    stability: pd.DataFrame
    mean_pd: tuple[float, float]
    rows: tuple[int, int]
    alerts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (per-feature PSI, score PSI and alerts; the bin tables as records)."""
        return {
            "rows": {"expected": self.rows[0], "actual": self.rows[1]},
            "alert_threshold": ALERT,
            "score": {
                "psi": self.score_psi,
                "status": status(self.score_psi),
                "mean_pd": {"expected": self.mean_pd[0], "actual": self.mean_pd[1]},
            },
            "features": self.features.to_dict("records"),
            "alerts": self.alerts,
            "stability": self.stability.to_dict("records"),
            "score_bins": self.score_bins.to_dict("records"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorReport:
        """Rebuild a report written by :meth:`to_dict` (as published in the model's evidence)."""
        return cls(
            features=pd.DataFrame(data["features"], columns=["feature", "psi", "status", "score_shift"]),
            score_psi=float(data["score"]["psi"]),
            score_bins=pd.DataFrame(data["score_bins"], columns=["bin", "expected", "actual", "psi"]),
            stability=pd.DataFrame(
                data["stability"], columns=["feature", "bin", "expected", "actual", "points", "contribution"]
            ),
            mean_pd=(float(data["score"]["mean_pd"]["expected"]), float(data["score"]["mean_pd"]["actual"])),
            rows=(int(data["rows"]["expected"]), int(data["rows"]["actual"])),
            alerts=list(data.get("alerts", [])),
        )


def characteristic_stability(
    expected: np.ndarray,
    actual: np.ndarray,
    points_expected: np.ndarray,
    *,
    bins: int = BINS,
    categorical: bool = False,
) -> pd.DataFrame:
    """Per-bin shares, points (mean SHAP of the expected rows in the bin) and ``(actual - expected) * points``."""
    table = psi_bins(expected, actual, bins=bins, categorical=categorical).drop(columns="psi")
    if categorical:
        keys = pd.Series(np.asarray(expected)).astype("str").fillna("missing").to_numpy()
    else:
        edges = quantile_edges(expected, bins)
        codes = bin_codes(expected, edges)
        bounds = np.r_[-np.inf, edges, np.inf]
        names = [f"({lo:.4g}, {hi:.4g}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)] + [
            "missing"
        ]
        keys = np.asarray(names, dtype=object)[codes]
    points = pd.Series(np.asarray(points_expected, dtype=np.float64)).groupby(keys).mean()
    table["points"] = table["bin"].map(points).fillna(0.0).to_numpy()
    table["contribution"] = (table["actual"] - table["expected"]) * table["points"]
    return table


def monitor(
    model: RiskModel,
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    bins: int = BINS,
    features: Sequence[str] | None = None,
) -> MonitorReport:
    """PSI of every model feature and of the PD, characteristic stability and alerts (PSI > 0.25).

    Parameters
    ----------
    model : RiskModel
    expected : DataFrame
        The training rows (raw columns, as the model encodes them).
    actual : DataFrame
        The new batch (same columns).
    """
    return monitor_grid(model, expected, {0: actual}, bins=bins, features=features)[0]


def monitor_grid(
    model: RiskModel,
    expected: pd.DataFrame,
    actuals: Mapping[Any, pd.DataFrame],
    *,
    bins: int = BINS,
    features: Sequence[str] | None = None,
) -> dict[Any, MonitorReport]:
    """:func:`monitor` of several batches against the same training rows (encoded and explained once)."""
    features = list(features or model.spec.features)
    x_e = model.encode(expected, source="training data")
    shap_e = contributions(model.booster, x_e).values
    p_e = model.predict_encoded(x_e)
    return {key: _report(model, x_e, shap_e, p_e, actual, bins, features) for key, actual in actuals.items()}


def _report(
    model: RiskModel,
    x_e: np.ndarray,
    shap_e: np.ndarray,
    p_e: np.ndarray,
    actual: pd.DataFrame,
    bins: int,
    features: list[str],
) -> MonitorReport:
    x_a = model.encode(actual, source="new batch")
    p_a = model.predict_encoded(x_a)
    rows, parts = [], []
    for name in features:
        j = model.spec.features.index(name)
        cat = name in model.spec.categorical
        if cat:
            labels = np.asarray(model.spec.categorical[name], dtype=str)
            e_vals, a_vals = labels[x_e[:, j].astype(int)], labels[x_a[:, j].astype(int)]
        else:
            e_vals, a_vals = x_e[:, j], x_a[:, j]
        value = psi(e_vals, a_vals, bins=bins, categorical=cat)
        stab = characteristic_stability(e_vals, a_vals, shap_e[:, j], bins=bins, categorical=cat)
        parts.append(stab.assign(feature=name))
        rows.append(
            {
                "feature": name,
                "psi": value,
                "status": status(value),
                "score_shift": float(stab["contribution"].sum()),
            }
        )
    table = pd.DataFrame(rows).sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
    score_bins = psi_bins(p_e, p_a, bins=bins)
    score_psi = float(score_bins["psi"].sum())
    alerts = [f"{r.feature}: PSI {r.psi:.3f} > {ALERT}" for r in table.itertuples() if r.psi > ALERT]
    if score_psi > ALERT:
        alerts.insert(0, f"score: PSI {score_psi:.3f} > {ALERT}")
    stability = pd.concat(parts, ignore_index=True).loc[
        :, ["feature", "bin", "expected", "actual", "points", "contribution"]
    ]
    return MonitorReport(
        features=table,
        score_psi=score_psi,
        score_bins=score_bins,
        stability=stability,
        mean_pd=(float(p_e.mean()), float(p_a.mean())),
        rows=(len(x_e), len(actual)),
        alerts=alerts,
    )
