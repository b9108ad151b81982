"""One applicant's values checked against what the model knows, before it scores them.

A model is only trusted near the data it was trained on: a numeric value must be a finite number within the
training range widened by a margin (and whole where training was whole, never negative where training never was),
a category must be one the model has seen. Every problem is reported, each naming its field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from risk.features import FeatureSpec

#: how far beyond the training range a value may lie, as a share of that range
RANGE_MARGIN = 0.1


class InvalidApplicant(ValueError):
    """Values a model cannot score: ``problems`` maps each bad field to why."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{field}: {why}" for field, why in self.problems.items()))


def allowed_range(seen: Mapping[str, Any], margin: float = RANGE_MARGIN) -> tuple[float, float]:
    """The values a model accepts for a column whose training values spanned ``seen["min"]..seen["max"]``."""
    low, high = float(seen["min"]), float(seen["max"])
    widen = margin * (high - low)
    lower = low - widen
    if low >= 0:  # never negative in training: amounts, counts, ratios
        lower = max(lower, 0.0) if low == 0 else max(lower, low / 2)
    return lower, high + widen


def _numeric_problem(value: Any, seen: Mapping[str, Any] | None) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {str(value)[:30]!r}"
    if not math.isfinite(value):
        return "must be a finite number"
    if seen is None:
        return None
    lower, upper = allowed_range(seen)
    if value < lower:
        return f"{value:,.6g} is below {lower:,.6g}, the lowest value this model accepts (training minimum {seen['min']:,.6g})"
    if value > upper:
        return f"{value:,.6g} is above {upper:,.6g}, the highest value this model accepts (training maximum {seen['max']:,.6g})"
    if seen.get("integer") and not float(value).is_integer():
        return f"must be a whole number, got {value:g}"
    return None


def check_applicant(spec: FeatureSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The applicant's feature values in model order, after checking each one.

    Raises
    ------
    InvalidApplicant
        Naming every field that is missing, unknown, not a finite number, outside what the model accepts, or a
        category the model has not seen.
    """
    problems: dict[str, str] = {}
    for name in values:
        if name not in spec.features:
            problems[str(name)[:60]] = "not a feature of this model"
    for col in spec.numeric:
        if values.get(col) is None:
            problems[col] = "a value is required"
        elif (why := _numeric_problem(values[col], spec.ranges.get(col))) is not None:
            problems[col] = why
    for col, categories in spec.categorical.items():
        value = values.get(col)
        if value is None:
            problems[col] = "a value is required"
        elif not isinstance(value, str) or value not in categories:
            problems[col] = f"{str(value)[:30]!r} is not one of {', '.join(categories[:12])}"
    if problems:
        raise InvalidApplicant(problems)
    return {col: values[col] for col in spec.features}
