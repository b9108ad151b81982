"""Customer side features for cold start: coarse, categorical, and free of ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

AGE_EDGES = (0, 25, 35, 45, 55, 65, 200)
AGE_LABELS = ("<25", "25-34", "35-44", "45-54", "55-64", "65+")
INCOME_LABELS = ("low", "lower-middle", "middle", "upper-middle", "high")
OPTIONAL = ("region", "employment", "segment")


def customer_side_features(customers: pd.DataFrame) -> pd.DataFrame:
    """Age band, income band (quintiles) and, when present, region, employment and segment, indexed by customer_id."""
    missing = {"customer_id", "age", "income"} - set(customers.columns)
    if missing:
        raise ValueError(f"customers: missing column(s) {sorted(missing)} needed for side features")
    out = pd.DataFrame(index=pd.Index(customers["customer_id"].to_numpy(dtype=np.int64), name="customer_id"))
    out["age_band"] = pd.cut(customers["age"].to_numpy(), AGE_EDGES, labels=AGE_LABELS, right=False).astype(
        "str"
    )
    income = customers["income"].rank(method="first", pct=True).to_numpy()
    out["income_band"] = np.asarray(INCOME_LABELS)[np.minimum((income * 5).astype(int), 4)]
    for col in OPTIONAL:
        if col in customers.columns:
            out[col] = customers[col].astype("str").to_numpy()
    return out
