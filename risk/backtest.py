"""Back-test a risk model on real outcomes: score the loans issued after those it was trained on and compare
the predicted default rate with the realised one, by issued month and by risk band.

Per month: n, mean predicted PD, realised default rate, calibration-in-the-large (mean PD - realised: negative
when the model under-predicts), ROC-AUC (None when the month has one class only) and the PSI of the PD against
the training loans' PDs. Per band: n, mean PD, realised rate, its Jeffreys interval and a one-sided binomial
test.

Traffic lights (per band, and per band and month): H0 "the band's true default rate is at most its mean
predicted PD"; the p-value is ``P(X >= defaults)`` for ``X ~ Binomial(n, mean PD)``. Green when p >= 0.05,
amber when 0.01 <= p < 0.05, red when p < 0.01 (the model under-predicts the band's risk). A band that
defaults *less* than predicted stays green (the test is one-sided, as supervisors' PD back-tests are); its
Jeffreys interval lying above or below the mean PD shows the other side. Using the band's mean PD for every
loan is the usual approximation of the Poisson-binomial sum (slightly conservative: it overstates the
variance).

Which loans a version was trained on: the metadata's ``extra.trained_through`` (the last ``issued_at`` it saw)
when training recorded it; otherwise the first ``row_count`` loans of the bank in insertion order, checked
against the version's data fingerprint (or, when the fingerprint cannot match, e.g. a version trained on the
in-memory demo bank, against the bank id of its population). Loans appended later but dated inside the
training window are not out-of-time and are counted as ``skipped``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import beta, binom

from bankdata import Artifact, fingerprint
from risk.bands import BANDS, risk_band
from risk.bankbook import TARGET, join_customers
from risk.metrics import roc_auc
from risk.monitoring import psi, status
from risk.scoring import RiskModel

EVIDENCE_KIND = "backtest"
#: metadata ``extra`` key: the last ``issued_at`` the version was trained on (ISO text), if training wrote it
TRAINED_THROUGH = "trained_through"
GREEN_P = 0.05
RED_P = 0.01
LEVEL = 0.95
RULE = (
    "One-sided binomial test per band: p = P(X >= defaults) for X ~ Binomial(n, mean PD). "
    f"Green p >= {GREEN_P}, amber {RED_P} <= p < {GREEN_P}, red p < {RED_P} "
    "(more defaults than the model predicts)."
)
NO_LATER_LOANS = (
    "no loans issued after {last} (the last loan {model}/{version} was trained on) to back-test: on the "
    "demo bank run `ledgerlight demo extend --months 12`; with your own data load the later loans and "
    "their outcomes with `ledgerlight load loans FILE`; then run `ledgerlight risk backtest`"
)


@dataclass(frozen=True)
class TrainingWindow:
    """The loans a version was trained on: ``trained`` marks them among the bank's loans, the last issued at
    ``last_issued_at``; ``how`` says how they were found: ``metadata``, ``fingerprint`` or ``bank id``.
    """

    trained: np.ndarray
    last_issued_at: pd.Timestamp
    how: str

    @property
    def rows(self) -> int:
        """How many loans the version was trained on."""
        return int(self.trained.sum())


def jeffreys_interval(defaults: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Jeffreys interval of a default rate: Beta(d + 1/2, n - d + 1/2) quantiles, 0 or 1 at the edges.

    Parameters
    ----------
    defaults, n : int
        Defaults among ``n`` loans (``n`` at least 1).
    level : float
        Two-sided coverage (0.95).
    """
    if n < 1 or not 0 <= defaults <= n:
        raise ValueError(f"the Jeffreys interval needs 0 <= defaults <= n and n >= 1, got {defaults} of {n}")
    tail = (1.0 - level) / 2.0
    low = 0.0 if defaults == 0 else float(beta.ppf(tail, defaults + 0.5, n - defaults + 0.5))
    high = 1.0 if defaults == n else float(beta.ppf(1.0 - tail, defaults + 0.5, n - defaults + 0.5))
    return low, high


def binomial_p_value(defaults: int, n: int, pd_mean: float) -> float:
    """One-sided p-value of ``defaults`` or more among ``n`` loans when each defaults with ``pd_mean``."""
    if n < 1 or not 0 <= defaults <= n:
        raise ValueError(f"the binomial test needs 0 <= defaults <= n and n >= 1, got {defaults} of {n}")
    if not 0.0 <= pd_mean <= 1.0:
        raise ValueError(f"the predicted PD must lie in [0, 1], got {pd_mean}")
    return float(binom.sf(defaults - 1, n, pd_mean))


def traffic_light(p_value: float) -> str:
    """``green`` (p >= 0.05), ``amber`` (0.01 <= p < 0.05) or ``red`` (p < 0.01)."""
    if math.isnan(p_value):
        raise ValueError("a traffic light needs a p-value, got NaN")
    return "green" if p_value >= GREEN_P else "amber" if p_value >= RED_P else "red"


def training_window(artifact: Artifact, frame: pd.DataFrame, bank_id: str | None = None) -> TrainingWindow:
    """The loans of ``frame`` (all loans with their customers, in insertion order) the version was trained on.

    Raises
    ------
    ValueError
        The version was not trained on these loans (another bank or an outside file).
    """
    meta = artifact.metadata
    extra = meta.get("extra") or {}
    name = f"{artifact.model}/{artifact.version}"
    rows = int(meta.get("row_count", 0))
    population = extra.get("population") or {}
    if population.get("kind") == "file":
        raise ValueError(
            f"{name} was trained on the file {population.get('source')}, not on the bank's loans: "
            "back-test a version trained on the bank"
        )
    if not 0 < rows <= len(frame):
        raise ValueError(
            f"{name} was trained on {rows:,} loans but the bank holds {len(frame):,}: it was not "
            "trained on this bank"
        )
    head = frame.iloc[:rows].reset_index(drop=True)
    if fingerprint(head) == meta.get("data_fingerprint"):
        how = "fingerprint"
    elif bank_id is not None and population.get("bank_id") == bank_id:
        how = "bank id"
    else:
        raise ValueError(
            f"the bank's first {rows:,} loans are not the loans {name} was trained on (another bank): "
            "train a version on this bank, then back-test it"
        )
    if extra.get(
        TRAINED_THROUGH
    ):  # recorded at training: loans issued later are later, wherever they were stored
        last = pd.Timestamp(extra[TRAINED_THROUGH])
        return TrainingWindow((frame["issued_at"] <= last).to_numpy(), last, "metadata")
    return TrainingWindow(np.arange(len(frame)) < rows, pd.Timestamp(head["issued_at"].max()), how)


def _none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _rates(y: np.ndarray, p: np.ndarray, t: np.ndarray | None) -> dict[str, Any]:
    n, defaults = int(y.size), int(y.sum())
    mean_pd, realised = float(p.mean()), defaults / n
    out: dict[str, Any] = {
        "n": n,
        "defaults": defaults,
        "mean_pd": mean_pd,
        "realised": realised,
        "calibration_in_the_large": mean_pd - realised,
    }
    out["true_pd"] = None if t is None else float(t.mean())
    return out


def _test(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    n, defaults = int(y.size), int(y.sum())
    p_value = binomial_p_value(defaults, n, float(np.clip(p.mean(), 0.0, 1.0)))
    low, high = jeffreys_interval(defaults, n)
    return {"jeffreys_low": low, "jeffreys_high": high, "p_value": p_value, "light": traffic_light(p_value)}


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return roc_auc(y, p) if 0 < y.sum() < y.size else None


def backtest_loans(
    model: RiskModel,
    training: pd.DataFrame,
    later: pd.DataFrame,
    *,
    true_pd: np.ndarray | None = None,
) -> dict[str, Any]:
    """Predicted against realised default rates of ``later`` loans, by issued month and by risk band.

    Parameters
    ----------
    model : RiskModel
    training : DataFrame
        The loans the model was trained on (raw columns): their PDs are the PSI's expected distribution.
    later : DataFrame
        The later loans with ``issued_at`` and their outcome ``defaulted`` (0/1).
    true_pd : ndarray, optional
        The true PD of each later loan (the demo bank's ground truth).

    Returns
    -------
    dict JSON-ready: ``overall``, ``months`` (one record per issued month), ``bands`` (every band with loans)
        and ``month_bands`` (per month and band), plus ``rule`` (the traffic lights).
    """
    if later.empty:
        raise ValueError("no later loans to back-test")
    if true_pd is not None and len(true_pd) != len(later):
        raise ValueError(f"true_pd has {len(true_pd)} values for {len(later)} later loans")
    y = later[TARGET].to_numpy(dtype=np.int64)
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"the later loans' {TARGET} must be 0/1")
    p_train = model.predict_pd(training)
    p = model.predict_pd(later)
    t = None if true_pd is None else np.asarray(true_pd, dtype=np.float64)
    month = later["issued_at"].dt.to_period("M").astype(str).to_numpy()
    band = np.asarray(risk_band(p), dtype=str)
    overall = _rates(y, p, t) | {"roc_auc": _auc(y, p), "psi": psi(p_train, p)}
    overall["psi_status"] = status(overall["psi"])

    months = []
    for m in sorted(set(month)):
        i = month == m
        value = psi(p_train, p[i])
        months.append(
            {
                "month": m,
                **_rates(y[i], p[i], None if t is None else t[i]),
                "roc_auc": _auc(y[i], p[i]),
                "psi": value,
                "psi_status": status(value),
            }
        )
    bands, month_bands = [], []
    for b in BANDS:
        i = band == b
        if i.any():
            bands.append({"band": b, **_rates(y[i], p[i], None if t is None else t[i]), **_test(y[i], p[i])})
        for m in sorted(set(month[i])):
            j = i & (month == m)
            month_bands.append(
                {
                    "month": m,
                    "band": b,
                    **_rates(y[j], p[j], None if t is None else t[j]),
                    **_test(y[j], p[j]),
                }
            )
    return {
        "overall": overall,
        "months": months,
        "bands": bands,
        "month_bands": month_bands,
        "training_mean_pd": float(p_train.mean()),
        "has_true_pd": t is not None,
        "rule": RULE,
        "thresholds": {"green": GREEN_P, "red": RED_P, "level": LEVEL},
    }


def backtest_version(
    artifact: Artifact,
    loans: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    truth: pd.DataFrame | None = None,
    bank_id: str | None = None,
) -> dict[str, Any]:
    """The back-test of a saved version on the bank's loans issued after those it was trained on.

    Parameters
    ----------
    artifact : Artifact
        A risk version.
    loans, customers : DataFrame
        The bank's tables (loans in insertion order).
    truth : DataFrame, optional
        ``loan_id, true_pd`` (the demo bank's ``truth_loan_pd``); the mean true PD is reported where it covers
        every later loan.
    bank_id : str, optional
        The bank's id, to recognise a version trained on it when the fingerprint cannot tell.

    Raises
    ------
    ValueError
        The version was not trained on this bank, or no loan was issued after those it was trained on (the
        message says how to get later loans).
    """
    frame = join_customers(loans, customers)
    window = training_window(artifact, frame, bank_id)
    after = frame.loc[~window.trained]
    later = after.loc[after["issued_at"] > window.last_issued_at].reset_index(drop=True)
    last = window.last_issued_at.strftime("%Y-%m-%d")
    if later.empty:
        raise ValueError(NO_LATER_LOANS.format(last=last, model=artifact.model, version=artifact.version))
    true_pd = None
    if truth is not None and not truth.empty:
        values = later["loan_id"].map(truth.set_index("loan_id")["true_pd"])
        true_pd = None if values.isna().any() else values.to_numpy(dtype=np.float64)
    report = backtest_loans(RiskModel.load(artifact), frame.loc[window.trained], later, true_pd=true_pd)
    report = {
        "model": artifact.model,
        "version": artifact.version,
        "trained_through": last,
        "training_loans": window.rows,
        "window_found_by": window.how,
        "later_loans": len(later),
        "skipped": int(len(after) - len(later)),
        "first_month": report["months"][0]["month"],
        "last_month": report["months"][-1]["month"],
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **report,
    }
    return _clean(report)


def _clean(value: Any) -> Any:
    """The report with NaN and infinities as None (valid JSON)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return _none(value)
    return value
