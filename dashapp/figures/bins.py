"""Readable bin labels for the monitoring charts: ``(1.055e+04, 1.289e+04]`` becomes ``10,550–12,890``.

The risk package labels numeric bins as intervals with four significant digits (``(lo, hi]``, open ends ``-inf`` and
``inf``), and those labels are stored with each published report; this module rewrites them for display by what
the feature means (money, a count, a rate in percent, a ratio, a probability), and leaves category names alone.
"""

from __future__ import annotations

import math
import re

#: what the demo bank's numeric risk features measure (a loan book of your own falls back to :func:`plain_number`)
FEATURE_KINDS: dict[str, str] = {
    "amount": "money",
    "income": "money",
    "balance": "money",
    "credit_score": "count",
    "tenure_months": "count",
    "term_months": "count",
    "prior_delinquencies": "count",
    "interest_rate": "percent_points",
    "dti": "ratio",
}

_INTERVAL = re.compile(r"^\(\s*([^,\s]+)\s*,\s*([^\]\s]+)\s*\]$")


def plain_number(value: float) -> str:
    """A number without exponent or SI prefix: thousands separated, decimals only where they matter."""
    size = abs(value)
    if size >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    decimals = 1 - math.floor(math.log10(size))  # two significant digits, written out in full
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def format_edge(value: float, kind: str | None = None) -> str:
    """One bin edge as ``kind`` reads: ``money`` and ``count`` whole, ``percent_points`` and ``probability`` with
    a % sign, ``ratio`` with two decimals; anything else by :func:`plain_number`."""
    if kind in ("money", "count"):
        return f"{value:,.0f}"
    if kind == "percent_points":
        return f"{value:.2f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "probability":
        pct = value * 100
        return f"{pct:.2g}%" if abs(pct) < 10 else f"{pct:.0f}%"
    return plain_number(value)


def bin_label(label: str, kind: str | None = None) -> str:
    """A stored bin label for display: ``(-inf, a]`` as ``≤ a``, ``(a, inf]`` as ``> a``, ``(a, b]`` as ``a–b``.

    Parameters
    ----------
    label : str
        A label of :func:`risk.psi_bins`; a category name or ``missing`` comes back unchanged.
    kind : str, optional
        What the values measure (see :func:`format_edge`); for ``count`` a bin of whole numbers names its first
        member (``(16, 25]`` is ``17–25``, ``(0, 1]`` is ``1``).
    """
    match = _INTERVAL.match(str(label).strip())
    if match is None:
        return str(label)
    try:
        lo, hi = float(match.group(1)), float(match.group(2))
    except ValueError:
        return str(label)
    if math.isinf(lo) and math.isinf(hi):
        return "all"
    if math.isinf(lo):
        return f"≤ {format_edge(hi, kind)}"
    if math.isinf(hi):
        return f"> {format_edge(lo, kind)}"
    if kind == "count" and lo.is_integer() and hi.is_integer():
        first = lo + 1
        return format_edge(hi, kind) if first == hi else f"{format_edge(first, kind)}–{format_edge(hi, kind)}"
    return f"{format_edge(lo, kind)}–{format_edge(hi, kind)}"


def feature_bin_labels(labels: list[str], feature: str) -> list[str]:
    """Display labels of one feature's bins (its kind from :data:`FEATURE_KINDS`)."""
    return [bin_label(label, FEATURE_KINDS.get(feature)) for label in labels]
