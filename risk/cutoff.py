"""Cost-based cut-off: the approval threshold that minimises expected cost, and what any threshold implies.

An applicant is declined when the predicted default probability is at or above the threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class CutoffSummary:
    """What approving every applicant below ``threshold`` means on a scored portfolio.

    ``tp`` are declined defaults, ``fp`` declined good loans, ``fn`` approved defaults (missed), ``tn`` approved good
    loans. ``expected_loss`` is the cost of the errors: ``fn * cost_missed_default + fp * cost_rejected_good``; with
    exposures given, missed defaults cost ``cost_missed_default`` per unit of exposure instead.
    """

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int
    approval_rate: float
    default_rate_approved: float
    expected_loss: float
    cost_per_applicant: float

    def to_dict(self) -> dict[str, float]:
        """Plain data for JSON and ``dcc.Store``."""
        return asdict(self)


def _check_costs(cost_missed_default: float, cost_rejected_good: float) -> None:
    if cost_missed_default < 0 or cost_rejected_good < 0 or cost_missed_default + cost_rejected_good == 0:
        raise ValueError(
            f"costs must be >= 0 and not both 0 (missed default {cost_missed_default}, rejected good {cost_rejected_good})"
        )


def bayes_threshold(cost_missed_default: float, cost_rejected_good: float) -> float:
    """The cost-optimal threshold for *calibrated* probabilities: decline when p >= c_good / (c_good + c_default)."""
    _check_costs(cost_missed_default, cost_rejected_good)
    return cost_rejected_good / (cost_rejected_good + cost_missed_default)


def summarize_cutoff(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    cost_missed_default: float = 5.0,
    cost_rejected_good: float = 1.0,
    exposure: np.ndarray | None = None,
) -> CutoffSummary:
    """Confusion matrix, approval rate and expected loss of declining ``p >= threshold``."""
    _check_costs(cost_missed_default, cost_rejected_good)
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    if y.size == 0 or y.size != p.size:
        raise ValueError(f"need equally long, non-empty labels and scores (got {y.size} and {p.size})")
    decline = p >= threshold
    tp = int(np.sum(decline & y))
    fp = int(np.sum(decline & ~y))
    fn = int(np.sum(~decline & y))
    tn = int(np.sum(~decline & ~y))
    missed = (~decline & y).astype(float) if exposure is None else np.where(~decline & y, exposure, 0.0)
    loss = float(missed.sum() * cost_missed_default + fp * cost_rejected_good)
    approved = fn + tn
    return CutoffSummary(
        threshold=float(threshold),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        approval_rate=approved / y.size,
        default_rate_approved=fn / approved if approved else 0.0,
        expected_loss=loss,
        cost_per_applicant=loss / y.size,
    )


def cost_curve(
    y: np.ndarray, p: np.ndarray, cost_missed_default: float = 5.0, cost_rejected_good: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct useful threshold and the expected cost of the errors at it (vectorised).

    The candidate thresholds are the distinct scores plus one above the maximum (approve everyone).
    """
    _check_costs(cost_missed_default, cost_rejected_good)
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    thresholds = np.r_[np.unique(p), np.inf]
    order = np.argsort(p, kind="mergesort")
    sorted_p, sorted_y = p[order], y[order]
    # approved at threshold t: rows with p < t
    n_approved = np.searchsorted(sorted_p, thresholds, side="left")
    missed = np.r_[0, np.cumsum(sorted_y)][n_approved]
    good_approved = n_approved - missed
    rejected_good = (~y).sum() - good_approved
    return thresholds, missed * cost_missed_default + rejected_good * cost_rejected_good


def optimal_threshold(
    y: np.ndarray, p: np.ndarray, cost_missed_default: float = 5.0, cost_rejected_good: float = 1.0
) -> float:
    """The threshold with the lowest expected cost on labelled scores (ties: the highest such threshold).

    Approving everyone is a candidate (returned as 1.0 when it is cheapest).
    """
    thresholds, costs = cost_curve(y, p, cost_missed_default, cost_rejected_good)
    best = np.flatnonzero(costs == costs.min())[-1]
    return float(min(thresholds[best], 1.0))
