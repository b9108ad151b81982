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


def customer_side_features(customers: pd.DataFrame) -> pd.DataFrame:
    """Age band, income band (quintiles) and, when present, region, employment and segment, indexed by customer_id."""
    missing = {"customer_id", "age", "income"} - set(customers.columns)
    if missing:
        raise ValueError(f"customers: missing column(s) {sorted(missing)} needed for side features")
    out = pd.DataFrame(index=pd.Index(id_array(customers["customer_id"]), name="customer_id"))
    out["age_band"] = pd.cut(customers["age"].to_numpy(), AGE_EDGES, labels=AGE_LABELS, right=False).astype(
        "str"
    )
    income = pd.to_numeric(customers["income"], errors="coerce")
    quintile = np.minimum((income.rank(method="first", pct=True).fillna(0).to_numpy() * 5).astype(int), 4)
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
