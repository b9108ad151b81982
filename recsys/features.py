"""Customer side features for cold start: coarse, categorical, and free of ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.interactions import id_array

AGE_EDGES = (0, 25, 35, 45, 55, 65, 200)
AGE_LABELS = ("<25", "25-34", "35-44", "45-54", "55-64", "65+")
INCOME_LABELS = ("low", "lower-middle", "middle", "upper-middle", "high")
OPTIONAL = ("region", "employment", "segment")
UNKNOWN = "unknown"
"""The band or category of a customer whose value is missing (its own level, so the model can learn from it)."""


def income_edges(incomes: np.ndarray | pd.Series) -> np.ndarray:
    """The four income quintile boundaries of a population (missing incomes left out), for
    :func:`customer_side_features` of a few of its customers."""
    values = (
        pd.to_numeric(pd.Series(np.asarray(incomes)), errors="coerce").dropna().to_numpy(dtype=np.float64)
    )
    return np.quantile(values, [0.2, 0.4, 0.6, 0.8]) if len(values) else np.zeros(4)


def customer_side_features(customers: pd.DataFrame, income_edges: np.ndarray | None = None) -> pd.DataFrame:
    """Age band, income band (quintiles) and, when present, region, employment and segment, indexed by customer_id.

    The quintiles are those of ``customers`` unless ``income_edges`` (:func:`income_edges` of the whole bank) are
    given: then a few customers get the bands the whole bank would give them (ties at a boundary aside).
    """
    missing = {"customer_id", "age", "income"} - set(customers.columns)
    if missing:
        raise ValueError(f"customers: missing column(s) {sorted(missing)} needed for side features")
    out = pd.DataFrame(index=pd.Index(id_array(customers["customer_id"]), name="customer_id"))
    out["age_band"] = pd.cut(customers["age"].to_numpy(), AGE_EDGES, labels=AGE_LABELS, right=False).astype(
        "str"
    )
    income = pd.to_numeric(customers["income"], errors="coerce")
    if income_edges is None:
        quintile = np.minimum((income.rank(method="first", pct=True).fillna(0).to_numpy() * 5).astype(int), 4)
    else:
        quintile = np.searchsorted(
            np.asarray(income_edges, dtype=np.float64), income.fillna(0).to_numpy(), "right"
        )
    out["income_band"] = np.where(income.isna(), UNKNOWN, np.asarray(INCOME_LABELS)[quintile])
    for col in OPTIONAL:
        if col in customers.columns:
            out[col] = customers[col].astype("str").where(customers[col].notna(), UNKNOWN).to_numpy()
    return out


def side_feature_imputation(customers: pd.DataFrame) -> dict[str, dict[str, object]]:
    """How many customers had no value in each column the side features read, and what stands in for it."""
    record: dict[str, dict[str, object]] = {}
    for col in ("income", *OPTIONAL):
        if col in customers.columns and (n := int(customers[col].isna().sum())):
            record[col] = {"missing": n, "filled_with": f"category '{UNKNOWN}'"}
    return record
