"""Reason codes: the factors that raised one applicant's risk most, in plain words.

A protected attribute (age, gender, ...) is never a feature, and is filtered here again so that no reason can name one.
"""

from __future__ import annotations

import numpy as np

from bankdata import FEATURE_LABELS, category_label, feature_label, format_value
from risk.features import FeatureSpec, is_protected

#: the words of the demo bank's features, from the one label map (:data:`bankdata.FEATURE_LABELS`)
PLAIN_NAMES: dict[str, str] = FEATURE_LABELS


def plain_name(column: str) -> str:
    """A readable name for a feature column (:func:`bankdata.feature_label`): ``dti`` -> ``Debt-to-income ratio``."""
    return feature_label(column)


def describe(spec: FeatureSpec, column: str, code: float) -> str:
    """A feature's value in words, compared with the typical (median) applicant for numbers: labels and number
    formats from the one label map (``Loan purpose is Debt consolidation``, ``Income of 23,000 is lower than
    typical (45,000)``)."""
    name = plain_name(column)
    if column in spec.categorical:
        return f"{name} is {category_label(spec.decode_category(column, code))}"
    typical = spec.fill[column]
    if np.isnan(code):
        return f"{name} is missing"
    direction = "higher" if code > typical else "lower" if code < typical else "about"
    shown, usual = format_value(column, float(code)), format_value(column, float(typical))
    if direction == "about" or shown == usual:
        return f"{name} of {shown} (typical)"
    return f"{name} of {shown} is {direction} than typical ({usual})"


def reason_items(
    spec: FeatureSpec, x_row: np.ndarray, shap_row: np.ndarray, *, top: int = 4, min_effect: float = 1e-3
) -> list[tuple[str, str]]:
    """``(feature, plain words)`` for the features that raised this applicant's risk the most (strongest first):
    the reason codes and their texts (:func:`reason_codes` gives the texts)."""
    order = np.argsort(-np.asarray(shap_row), kind="mergesort")
    reasons: list[tuple[str, str]] = []
    for j in order:
        column = spec.features[j]
        if shap_row[j] <= min_effect or len(reasons) >= top:
            break
        if is_protected(column, tuple(spec.protected)):
            continue
        reasons.append((column, _capital(describe(spec, column, x_row[j]))))
    return reasons


def reason_codes(
    spec: FeatureSpec, x_row: np.ndarray, shap_row: np.ndarray, *, top: int = 4, min_effect: float = 1e-3
) -> list[str]:
    """Plain-word reasons for the features that raised this applicant's risk the most.

    Parameters
    ----------
    spec : FeatureSpec
    x_row : ndarray
        The applicant's encoded features.
    shap_row : ndarray
        The applicant's SHAP values (log-odds).
    top : int
        At most this many reasons.
    min_effect : float
        Ignore pushes smaller than this (log-odds).

    Returns
    -------
    list of str
        Strongest first; empty when nothing raised the risk.
    """
    return [text for _code, text in reason_items(spec, x_row, shap_row, top=top, min_effect=min_effect)]


def reason_texts(
    spec: FeatureSpec,
    x: np.ndarray,
    shap: np.ndarray,
    *,
    top: int = 4,
    min_effect: float = 1e-3,
    sep: str = " | ",
) -> list[str]:
    """:func:`reason_codes` of many rows at once, each row's reasons joined by ``sep`` (vectorised over rows).

    Each distinct (feature, value) pair is described once, so a population of hundreds of thousands of rows takes
    seconds, not minutes. Row ``i`` gives the same reasons, in the same order, as ``reason_codes(spec, x[i],
    shap[i])``.
    """
    x = np.asarray(x, dtype=np.float64)
    values = np.array(shap, dtype=np.float64)
    if x.shape != values.shape or x.ndim != 2:
        raise ValueError(
            f"need equally shaped 2-d features and SHAP values (got {x.shape} and {values.shape})"
        )
    n = len(values)
    if n == 0:
        return []
    for j, column in enumerate(spec.features):
        if is_protected(column, tuple(spec.protected)):
            values[:, j] = -np.inf
    k = min(top, values.shape[1])
    order = np.argsort(-values, axis=1, kind="mergesort")[:, :k]
    effect = np.take_along_axis(values, order, axis=1)
    keep = effect > min_effect  # reasons stop at the first push that is too small (the rest are smaller)
    slots = np.full((n, k), "", dtype=object)
    for j, column in enumerate(spec.features):
        rows, cols = np.nonzero((order == j) & keep)
        if rows.size == 0:
            continue
        unique, inverse = np.unique(x[rows, j], return_inverse=True)
        texts = np.array([_capital(describe(spec, column, v)) for v in unique], dtype=object)
        slots[rows, cols] = texts[inverse]
    counts = keep.sum(axis=1)
    return [sep.join(row[:c]) for row, c in zip(slots.tolist(), counts.tolist(), strict=True)]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
