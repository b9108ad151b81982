"""Recourse for a declined applicant: the smallest changes to actionable features that bring the PD under the cut-off.

Only features the applicant can change are searched (loan amount, term, debt-to-income ratio, account balance by
default); age, gender, credit history and prior delinquencies never move. The search is a small grid: each
actionable feature gets a list of candidate values in its allowed direction, every combination of up to
``max_changes`` features is scored in one batch by the model, and the cheapest combination under the cut-off wins.
The cost of a change is its size relative to the applicant's value (or the typical value when that is larger), summed
over the changed features.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from risk.features import is_protected
from risk.scoring import RiskModel

#: feature -> allowed direction: ``decrease``, ``increase`` or ``any`` (a list of standard values)
ACTIONABLE: dict[str, str] = {
    "amount": "decrease",
    "term_months": "any",
    "dti": "decrease",
    "balance": "increase",
}
#: never changed, whatever the caller asks (history and who the applicant is)
IMMUTABLE_TOKENS = frozenset({"delinquencies", "delinquency", "history", "tenure", "score"})
STEPS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75)
TERMS = (6.0, 12.0, 24.0, 36.0, 48.0, 60.0, 72.0, 84.0)
MAX_ROWS = 6_000


@dataclass(frozen=True)
class Change:
    """One feature moved from ``before`` to ``after``."""

    feature: str
    before: float
    after: float

    @property
    def relative(self) -> float:
        """``after / before - 1`` (0 when ``before`` is 0)."""
        return self.after / self.before - 1.0 if self.before else 0.0


@dataclass(frozen=True)
class Recourse:
    """The answer for one applicant.

    Attributes
    ----------
    pd_before, pd_after : float
        Calibrated PD now and with the changes.
    threshold : float
        Decline when PD >= threshold.
    changes : list of Change
        Empty when the applicant is already approved or nothing helps.
    feasible : bool
        Whether the changes bring the PD under the threshold (False: ``changes`` is the best found).
    cost : float
        Sum of relative change sizes.
    evaluated : int
        Candidate rows scored.
    """

    pd_before: float
    pd_after: float
    threshold: float
    changes: list[Change] = field(default_factory=list)
    feasible: bool = True
    cost: float = 0.0
    evaluated: int = 0

    @property
    def approved_already(self) -> bool:
        """The applicant is under the cut-off without any change."""
        return self.pd_before < self.threshold

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and ``dcc.Store``."""
        return {
            "pd_before": self.pd_before,
            "pd_after": self.pd_after,
            "threshold": self.threshold,
            "feasible": self.feasible,
            "cost": self.cost,
            "evaluated": self.evaluated,
            "changes": [{"feature": c.feature, "before": c.before, "after": c.after} for c in self.changes],
        }


def _is_immutable(feature: str) -> bool:
    tokens = set(feature.lower().replace("-", "_").split("_"))
    return is_protected(feature) or bool(tokens & IMMUTABLE_TOKENS)


def candidate_values(before: float, direction: str, typical: float) -> np.ndarray:
    """The values a feature may take, in its allowed direction (``before`` excluded)."""
    scale = max(abs(before), abs(typical), 1e-9)
    steps = np.asarray(STEPS)
    if direction == "decrease":
        values = before - steps * max(abs(before), 1e-9)
        values = values[values >= 0] if before >= 0 else values
    elif direction == "increase":
        values = before + steps * scale
    elif direction == "any":
        values = np.asarray([t for t in TERMS if t != before])
    else:
        raise ValueError(f"direction must be decrease, increase or any, got {direction!r}")
    return np.unique(np.round(values, 6))


def _cost(before: float, after: float, typical: float) -> float:
    return abs(after - before) / max(abs(before), abs(typical), 1e-9)


def find_recourse(
    model: RiskModel,
    applicant: Mapping[str, Any] | pd.DataFrame,
    threshold: float,
    *,
    actionable: Mapping[str, str] | None = None,
    max_changes: int = 2,
) -> Recourse:
    """The cheapest changes to actionable features that bring the applicant's PD under ``threshold``.

    Parameters
    ----------
    model : RiskModel
    applicant : mapping or one-row DataFrame
        The applicant's feature values.
    threshold : float
        Decline when PD >= threshold.
    actionable : mapping, optional
        ``{feature: direction}``; default :data:`ACTIONABLE` (features the model lacks are skipped). Protected
        attributes and history (delinquencies, tenure, credit score) are refused; one the applicant left missing
        is not moved.
    max_changes : int
        Change at most this many features at once (1-3).

    Raises
    ------
    ValueError
        A bad threshold, ``max_changes``, an immutable or categorical feature in ``actionable``, or no actionable
        feature the model uses.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    if not 1 <= max_changes <= 3:
        raise ValueError(f"max_changes must be 1, 2 or 3, got {max_changes}")
    row = (
        pd.DataFrame([dict(applicant)])
        if not isinstance(applicant, pd.DataFrame)
        else applicant.reset_index(drop=True)
    )
    if len(row) != 1:
        raise ValueError(f"recourse takes one applicant, got {len(row)} rows")
    wanted = dict(ACTIONABLE if actionable is None else actionable)
    refused = [f for f in wanted if _is_immutable(f) or f in model.spec.categorical]
    if refused:
        raise ValueError(f"not actionable (protected, history or categorical): {', '.join(refused)}")
    x0 = model.encode(row, source="applicant")
    pd_before = float(model.predict_encoded(x0)[0])
    if pd_before < threshold:
        return Recourse(pd_before, pd_before, threshold)
    usable = [f for f in wanted if f in model.spec.numeric]
    if not usable:
        raise ValueError(f"none of the actionable features ({', '.join(wanted)}) is a model feature")
    index = {f: model.spec.features.index(f) for f in usable}
    before = {f: float(x0[0, index[f]]) for f in usable}
    usable = [
        f for f in usable if not np.isnan(before[f])
    ]  # a missing value (kept NaN) has nothing to move from
    if not usable:
        return Recourse(pd_before, pd_before, threshold, feasible=False)
    grid = {f: candidate_values(before[f], wanted[f], model.spec.fill[f]) for f in usable}
    combos = [c for k in range(1, max_changes + 1) for c in itertools.combinations(usable, k)]
    rows, changes = [], []
    for combo in combos:
        lists = [grid[f] for f in combo]
        product = list(itertools.product(*lists))
        if len(product) > MAX_ROWS // len(combos):  # coarsen long grids to keep the batch small
            product = product[:: int(np.ceil(len(product) / (MAX_ROWS // len(combos))))]
        for values in product:
            x = x0[0].copy()
            for f, v in zip(combo, values, strict=True):
                x[index[f]] = v
            rows.append(x)
            changes.append(tuple(zip(combo, values, strict=True)))
    p = model.predict_encoded(np.vstack(rows))
    cost = np.array([sum(_cost(before[f], v, model.spec.fill[f]) for f, v in ch) for ch in changes])
    ok = np.flatnonzero(p < threshold)
    feasible = ok.size > 0
    best = ok[np.lexsort((p[ok], cost[ok]))[0]] if feasible else int(np.argmin(p))
    chosen = (
        [Change(f, before[f], float(v)) for f, v in changes[best]] if feasible or p[best] < pd_before else []
    )
    return Recourse(
        pd_before,
        float(p[best]) if chosen else pd_before,
        threshold,
        chosen,
        feasible,
        float(cost[best]) if chosen else 0.0,
        len(rows),
    )
