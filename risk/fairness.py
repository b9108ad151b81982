"""Fairness of the approve/decline decision by protected group (gender, age band) at a cut-off.

An applicant is declined when the calibrated PD is at or above the threshold (as in :mod:`risk.cutoff`). Per group:
approval rate, observed default rate, true-positive rate (share of defaults declined) and false-positive rate (share
of good loans declined). Against a reference group (by default the most favoured: the highest approval rate among
groups of at least 30 rows): the
disparate-impact ratio (approval rate of the group / of the reference; below 0.8 is flagged, the "four-fifths rule")
and the equal-opportunity gap (TPR of the group minus TPR of the reference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bankdata import Artifact, fingerprint
from risk.features import is_protected, name_tokens
from risk.loanbook import target_vector
from risk.scoring import RiskModel

#: lower edges of the age bands (the last band is open)
AGE_EDGES: tuple[int, ...] = (18, 25, 35, 50, 65)
DI_FLAG = 0.8
MAX_GROUPS = 12
MIN_REFERENCE_ROWS = 30
COLUMNS = ("group", "n", "approval_rate", "default_rate", "tpr", "fpr", "di_ratio", "eo_gap", "flag")


def age_band(ages: np.ndarray | pd.Series) -> np.ndarray:
    """Age bands as text: ``<25``, ``25-34``, ``35-49``, ``50-64``, ``65+`` (missing ages: ``unknown``)."""
    values = pd.to_numeric(pd.Series(np.asarray(ages)), errors="coerce").to_numpy(dtype=np.float64)
    labels = [
        "<25",
        *(f"{lo}-{hi - 1}" for lo, hi in zip(AGE_EDGES[1:-1], AGE_EDGES[2:], strict=True)),
        f"{AGE_EDGES[-1]}+",
    ]
    codes = np.searchsorted(np.asarray(AGE_EDGES[1:]), values, side="right")
    out = np.asarray(labels, dtype=object)[np.minimum(codes, len(labels) - 1)]
    out[np.isnan(values)] = "unknown"
    return out.astype(str)


def check_protected_excluded(features: Sequence[str], protected: Sequence[str] = ()) -> None:
    """Raise ``ValueError`` naming any protected attribute (age, gender, ... or one in ``protected``) among the features."""
    leaked = [f for f in features if is_protected(f, tuple(protected))]
    if leaked:
        raise ValueError(f"protected attribute(s) used as model features: {', '.join(leaked)}")


def _rates(y: np.ndarray, declined: np.ndarray) -> dict[str, float]:
    n_bad = int(y.sum())
    n_good = int(y.size - n_bad)
    return {
        "n": int(y.size),
        "approval_rate": float(1.0 - declined.mean()),
        "default_rate": float(y.mean()),
        "tpr": float(declined[y].sum() / n_bad) if n_bad else float("nan"),
        "fpr": float(declined[~y].sum() / n_good) if n_good else float("nan"),
    }


def group_table(
    y: np.ndarray,
    p: np.ndarray,
    groups: np.ndarray | pd.Series,
    threshold: float,
    reference: str | None = None,
) -> tuple[pd.DataFrame, str]:
    """Per-group rates at ``threshold`` and the comparison with a reference group.

    Parameters
    ----------
    y : ndarray
        1 = default, 0 = repaid.
    p : ndarray
        Calibrated PDs.
    groups : array-like
        Group label of each row.
    threshold : float
        Decline when ``p >= threshold``.
    reference : str, optional
        The group the others are compared with; default the group with the highest approval rate among those with at
        least :data:`MIN_REFERENCE_ROWS` rows (the largest group when none has that many).

    Returns
    -------
    (DataFrame, str)
        Columns :data:`COLUMNS`, one row per group (largest first), and the reference group used.
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    g = np.asarray(groups).astype(str)
    if not (y.size == p.size == g.size) or y.size == 0:
        raise ValueError(
            f"need equally long, non-empty labels, scores and groups (got {y.size}, {p.size}, {g.size})"
        )
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    declined = p >= threshold
    labels, counts = np.unique(g, return_counts=True)
    if labels.size > MAX_GROUPS:
        raise ValueError(
            f"{labels.size} groups: fairness is reported for at most {MAX_GROUPS} (band the attribute)"
        )
    rows = [
        {"group": str(lab), **_rates(y[g == lab], declined[g == lab])}
        for lab in labels[np.argsort(-counts, kind="stable")]
    ]
    table = pd.DataFrame(rows)
    if reference is None:
        big = table[table["n"] >= MIN_REFERENCE_ROWS]
        reference = (
            str(big.loc[big["approval_rate"].idxmax(), "group"]) if len(big) else str(table["group"].iloc[0])
        )
    if reference not in set(table["group"]):
        raise ValueError(f"reference group {reference!r} is not among {', '.join(table['group'])}")
    ref = table.set_index("group").loc[reference]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["di_ratio"] = (
            table["approval_rate"] / ref["approval_rate"] if ref["approval_rate"] > 0 else np.nan
        )
    table["eo_gap"] = table["tpr"] - ref["tpr"]
    table["flag"] = table["di_ratio"] < DI_FLAG
    return table.loc[:, list(COLUMNS)], reference


def protected_groups(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """The group of each row for each protected column: age-like numbers in bands, other columns as text."""
    out: dict[str, np.ndarray] = {}
    for col in columns:
        if col not in frame.columns:
            raise ValueError(
                f"no protected column {col!r} in the data (columns: {', '.join(map(str, frame.columns))})"
            )
        values = frame[col]
        if "age" in name_tokens(col) and pd.api.types.is_numeric_dtype(values):
            out[f"{col}_band"] = age_band(values)
        else:
            out[col] = values.astype("str").fillna("unknown").to_numpy()
    return out


def fairness_report(
    y: np.ndarray,
    p: np.ndarray,
    groups: Mapping[str, np.ndarray],
    threshold: float,
    references: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """JSON-ready fairness of the decision for every attribute in ``groups``.

    Returns
    -------
    dict
        ``threshold``, ``di_flag`` (0.8) and per attribute: ``reference``, ``groups`` (rows of :func:`group_table`),
        ``min_di_ratio``, ``max_abs_eo_gap`` and ``flagged`` (groups with a ratio below 0.8).
    """
    references = references or {}
    attributes: dict[str, Any] = {}
    for name, labels in groups.items():
        table, ref = group_table(y, p, labels, threshold, references.get(name))
        rows = [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in table.astype(object).to_dict("records")
        ]
        attributes[name] = {
            "reference": ref,
            "groups": rows,
            "min_di_ratio": float(np.nanmin(table["di_ratio"])) if table["di_ratio"].notna().any() else None,
            "max_abs_eo_gap": float(np.nanmax(np.abs(table["eo_gap"])))
            if table["eo_gap"].notna().any()
            else None,
            "flagged": table.loc[table["flag"], "group"].tolist(),
        }
    return {"threshold": float(threshold), "di_flag": DI_FLAG, "attributes": attributes}


def scored_book(
    artifact: Artifact, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None]:
    """Labels and PDs of a risk artifact's loan book: the stored out-of-fold PDs when ``frame`` is the training data
    (same fingerprint), else the model's PDs on ``frame`` (in-sample when it overlaps the training data).

    Returns
    -------
    (y, p, source, rows)
        ``source`` is ``"out-of-fold"`` or ``"model scores"``; ``rows`` are the positions in ``frame`` that ``y``
        and ``p`` describe (the cross-validation sample of a large book), None when they describe every row.
    """
    frame = frame.reset_index(drop=True)
    target = artifact.metadata.get("extra", {}).get("target", "defaulted")
    positive = artifact.metadata.get("extra", {}).get("positive")
    if fingerprint(frame) == artifact.metadata.get("data_fingerprint"):
        evaluation = artifact.load_npz("evaluation.npz")
        champion = artifact.load_json("report.json")["champion"]
        rows = evaluation.get("rows")
        return evaluation["y"].astype(int), evaluation[f"cal__{champion}"], "out-of-fold", rows
    y = target_vector(frame, target, positive, source="loan book")
    return y, RiskModel.load(artifact).predict_pd(frame), "model scores", None


def model_fairness(artifact: Artifact, frame: pd.DataFrame, threshold: float | None = None) -> dict[str, Any]:
    """:func:`fairness_report` of a risk artifact on a loan book with its protected columns.

    Parameters
    ----------
    artifact : Artifact
        A saved risk model (``risk.save_trained``).
    frame : DataFrame
        The loan book: target, features and the protected columns the model's spec names.
    threshold : float, optional
        The cut-off; default the one chosen at training (cost-based, in ``report.json``).
    """
    return model_fairness_grid(artifact, frame, [threshold])[0]


def model_fairness_grid(
    artifact: Artifact, frame: pd.DataFrame, thresholds: Sequence[float | None]
) -> list[dict[str, Any]]:
    """:func:`model_fairness` at each of ``thresholds`` (None: the training cut-off), scoring the book once."""
    report = artifact.load_json("report.json")
    protected = [c for c in report.get("protected", []) if c in frame.columns]
    if not protected:
        raise ValueError(
            f"{artifact.model}/{artifact.version}: the data holds none of the protected columns "
            f"({', '.join(report.get('protected', [])) or 'none recorded'}) to check fairness on"
        )
    check_protected_excluded(report["features"], report.get("protected", []))
    y, p, source, rows = scored_book(artifact, frame)
    book = frame.reset_index(drop=True)
    groups = protected_groups(book if rows is None else book.iloc[rows].reset_index(drop=True), protected)
    out = []
    for threshold in thresholds:
        cut = float(report["threshold"] if threshold is None else threshold)
        out.append(
            {
                "model": artifact.model,
                "version": artifact.version,
                "scores": source,
                "rows": int(len(y)),
                "protected_excluded_from_features": True,
                **fairness_report(y, p, groups, cut),
            }
        )
    return out
