"""Observable customer features for campaign models: profile, activity and the product's funnel (never the truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata import Bank


def customer_features(bank: Bank, product_id: int) -> pd.DataFrame:
    """One numeric row per customer (in ``bank.customers`` order), indexed by customer_id.

    Columns: age, log income, tenure, credit score, log balance, employment and region codes, gender, transactions
    and spend, products held, whether the product is held, and the customer's views and clicks of the product.
    """
    c = bank.customers.set_index("customer_id")
    out = pd.DataFrame(index=c.index)
    out["age"] = c["age"].astype(float)
    out["log_income"] = np.log1p(c["income"].astype(float).clip(lower=0))
    out["tenure_months"] = c["tenure_months"].astype(float)
    out["credit_score"] = c["credit_score"].astype(float)
    out["log_balance"] = np.log1p(c["balance"].astype(float).clip(lower=0))
    for col in ("employment", "region", "gender"):
        out[col] = pd.Series(pd.factorize(c[col], sort=True)[0], index=c.index).astype(float)
    tx = bank.transactions
    out["n_transactions"] = tx.groupby("customer_id").size().reindex(c.index, fill_value=0).astype(float)
    out["log_spend"] = np.log1p(
        tx["amount"].abs().groupby(tx["customer_id"]).sum().reindex(c.index, fill_value=0)
    )
    held = bank.held_products()
    out["n_held"] = held.groupby("customer_id").size().reindex(c.index, fill_value=0).astype(float)
    holds = held.loc[held["product_id"] == product_id, "customer_id"]
    out["holds_product"] = c.index.isin(holds).astype(float)
    ev = bank.interactions.loc[bank.interactions["product_id"] == product_id]
    for event in ("view", "click"):
        counts = ev.loc[ev["event"] == event].groupby("customer_id").size()
        out[f"{event}s"] = counts.reindex(c.index, fill_value=0).astype(float)
    return out
