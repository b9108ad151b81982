"""One label map for every feature, column and category the app shows: names in words, numbers by their meaning.

Code keys on raw column names and stored values (``dti``, ``debt_consolidation``); only the last step, what a person
reads (a reason text, a grid header or cell, a figure axis, an export header), goes through this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

Kind = Literal["money", "years", "months", "days", "percent", "share", "ratio", "count", "score", "number"]

#: feature and column names -> words (other names: see :func:`feature_label`)
FEATURE_LABELS: dict[str, str] = {
    "customer_id": "Customer id",
    "loan_id": "Loan id",
    "product_id": "Product id",
    "pd": "Probability of default",
    "band": "Risk band",
    "reasons": "Reasons",
    "amount": "Loan amount",
    "term_months": "Loan term",
    "interest_rate": "Interest rate",
    "purpose": "Loan purpose",
    "dti": "Debt-to-income ratio",
    "prior_delinquencies": "Past delinquencies",
    "defaulted": "Defaulted",
    "issued_at": "Issued on",
    "income": "Income",
    "employment": "Employment",
    "tenure_months": "Months with the bank",
    "credit_score": "Credit score",
    "balance": "Account balance",
    "balance_trend": "Balance trend per month",
    "region": "Region",
    "age": "Age",
    "gender": "Gender",
    "recency_days": "Days since last spending",
    "frequency": "Spending transactions",
    "monetary": "Total spending",
    "avg_ticket": "Average transaction",
    "n_products": "Products held",
    "products": "Products",
    "segment": "Segment",
    "segment_name": "Segment name",
    "rank": "Rank",
    "score": "Score",
    "name": "Name",
    "family": "Product family",
    "ts": "Date",
    "category": "Category",
    "channel": "Channel",
    "direction": "Direction",
}

#: stored category values -> words (other values: see :func:`category_label`)
CATEGORY_LABELS: dict[str, str] = {
    "debt_consolidation": "Debt consolidation",
    "home_improvement": "Home improvement",
    "self_employed": "Self-employed",
    "atm": "ATM",
    "pos": "Card terminal (POS)",
    "M": "Male",
    "F": "Female",
}

#: what a number means, for :func:`format_value` (patterned names: see :func:`value_kind`)
FEATURE_KINDS: dict[str, Kind] = {
    "amount": "money",
    "income": "money",
    "balance": "money",
    "balance_trend": "money",
    "monetary": "money",
    "avg_ticket": "money",
    "age": "years",
    "term_months": "months",
    "tenure_months": "months",
    "recency_days": "days",
    "interest_rate": "percent",
    "pd": "percent",
    "dti": "ratio",
    "prior_delinquencies": "count",
    "frequency": "count",
    "n_products": "count",
    "customer_id": "count",
    "loan_id": "count",
    "rank": "count",
    "credit_score": "score",
}

_PATTERNS: dict[str, tuple[str, Kind]] = {
    "spend_": ("Share of spending on {}", "share"),
    "channel_": ("Share of spending by {}", "share"),
    "holds_": ("Holds {} product", "count"),
}


def _words(text: str) -> str:
    return " ".join(str(text).replace("_", " ").split())


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def category_label(value: Any) -> str:
    """A stored category value in words: ``"debt_consolidation"`` -> ``"Debt consolidation"``.

    Parameters
    ----------
    value : object
        The stored value; an unknown one has its underscores turned to spaces and its first letter capitalised.

    Returns
    -------
    str
        The label (``""`` for a missing value).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return CATEGORY_LABELS.get(text, _capital(_words(text)))


def feature_label(name: str) -> str:
    """A feature or column name in words: ``"dti"`` -> ``"Debt-to-income ratio"``.

    Parameters
    ----------
    name : str
        The raw column name; ``spend_<category>``, ``channel_<channel>`` and ``holds_<family>`` are spelled out, any
        other unknown name has its underscores turned to spaces and its first letter capitalised.

    Returns
    -------
    str
        The label.
    """
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    for prefix, (template, _kind) in _PATTERNS.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            rest = name[len(prefix) :]
            words = CATEGORY_LABELS.get(rest, _words(rest))
            if prefix == "holds_":
                words = ("an " if words[:1].lower() in "aeiou" else "a ") + words
            return template.format(words)
    return _capital(_words(name))


def value_kind(name: str) -> Kind:
    """What a feature's numbers mean (``money``, ``years``, ``months``, ``days``, ``percent`` (stored as 0-1 or as a
    percentage for ``interest_rate``), ``share`` (0-1), ``ratio``, ``count``, ``score``), ``number`` when unknown."""
    if name in FEATURE_KINDS:
        return FEATURE_KINDS[name]
    for prefix, (_template, kind) in _PATTERNS.items():
        if name.startswith(prefix):
            return kind
    return "number"


def _plural(value: float, unit: str) -> str:
    shown = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 10 else f"{value:,.1f}"
    return f"{shown} {unit}" if shown == "1" else f"{shown} {unit}s"


def format_number(value: Any, kind: Kind = "number") -> str:
    """A number by its meaning: money ``12,345`` (no currency), years ``46 years``, months ``18 months``, days
    ``3 days``, percent and share ``12.5%``, ratio ``0.35``, count and score ``3``.

    Parameters
    ----------
    value : object
        A number (``None`` or NaN give ``""``; anything else is shown as text).
    kind : str
        One of :data:`Kind`.

    Returns
    -------
    str
        The formatted number.
    """
    if value is None or isinstance(value, bool):
        return "" if value is None else ("Yes" if value else "No")
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    if kind == "money":
        return f"{x:,.0f}" if abs(x) >= 100 or x.is_integer() else f"{x:,.2f}"
    if kind == "years":
        return _plural(round(x), "year")
    if kind == "months":
        return _plural(round(x), "month")
    if kind == "days":
        return _plural(round(x), "day")
    if kind in ("percent", "share"):
        return f"{x:.1%}"
    if kind == "ratio":
        return f"{x:.2f}"
    if kind in ("count", "score"):
        return f"{x:,.0f}"
    if x.is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3g}"


def format_value(name: str, value: Any) -> str:
    """A feature's value as a person reads it: a number by :func:`value_kind`, a category by :func:`category_label`.

    ``interest_rate`` is stored as a percentage (``7.5``) and shown as ``7.5%``; ``holds_<family>`` as Yes / No. A
    number written as text (``"12.44"``, as an explanation carries its values) is formatted as the number.
    """
    if isinstance(value, str):
        try:
            value = float(value.replace(",", ""))
        except ValueError:
            return category_label(value)
        if math.isnan(value):
            return ""
    kind = value_kind(name)
    if name == "interest_rate" and value is not None:
        try:
            return f"{float(value):.1f}%"
        except (TypeError, ValueError):
            return str(value)
    if name.startswith("holds_") and value is not None:
        try:
            return "Yes" if float(value) >= 0.5 else "No"
        except (TypeError, ValueError):
            return str(value)
    return format_number(value, kind)


def header_labels(columns: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{column: label}`` for renaming a frame's headers at the last step (a grid, a table, an export).

    Two columns that would get the same label keep their raw names, so a renamed frame never has duplicate headers.
    """
    columns = [str(c) for c in columns]
    labels = {c: (overrides or {}).get(c, feature_label(c)) for c in columns}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {c: (label if seen[label] == 1 else c) for c, label in labels.items()}
