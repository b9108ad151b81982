"""Learning from stored campaigns: an uplift model per product, fitted on the treated and control members of every
stored campaign of that product with recorded responses, saved as the ``uplift`` artifact and published.

Features (:func:`campaigns.customer_features`) are those of the bank as it was when each campaign was created (its
interactions and transactions before then), so a response stored later as a purchase never leaks into what the
model learns from; the published ranking scores every customer on the bank as it is now.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankdata import (
    Artifact,
    ArtifactStore,
    Bank,
    campaign_outcomes,
    fingerprint,
    population_of_bank,
    read_campaigns,
)
from campaigns.features import customer_features
from campaigns.publishing import UPLIFT_MODEL, publish_uplift, uplift_rows
from campaigns.uplift import TwoModelUplift

MIN_TRAIN_ARM = 100
"""Fewest treated and fewest control members an uplift model is fitted on (per product, all campaigns pooled)."""
MIN_TRAIN_RESPONDERS = 10
"""Fewest responders in each arm."""
MAX_CAMPAIGNS = 10_000


@dataclass(frozen=True)
class UpliftData:
    """The pooled members of one product's campaigns: features, arm and response."""

    product_id: int
    campaigns: list[int]
    customer_ids: np.ndarray
    X: pd.DataFrame
    treated: np.ndarray
    responded: np.ndarray
    product_name: str = ""

    def counts(self) -> dict[str, int]:
        """Members and responders of each arm."""
        t, r = self.treated, self.responded
        return {"n_treated": int(t.sum()), "n_control": int((~t).sum()), "responders_treated": int((t & r).sum()),
                "responders_control": int((~t & r).sum())}  # fmt: skip

    def problem(self) -> str | None:
        """Why a model should not be fitted on these rows (with the numbers), or None."""
        c = self.counts()
        short = [f"{c[k]:,} {what} (at least {need:,} needed)" for k, what, need in (
            ("n_treated", "treated", MIN_TRAIN_ARM), ("n_control", "controls", MIN_TRAIN_ARM),
            ("responders_treated", "treated responders", MIN_TRAIN_RESPONDERS),
            ("responders_control", "control responders", MIN_TRAIN_RESPONDERS)) if c[k] < need]  # fmt: skip
        if not short:
            return None
        used = (
            f"campaign(s) {', '.join(map(str, self.campaigns))}"
            if self.campaigns
            else "no campaign with responses"
        )
        product = self.product_name or f"product {self.product_id}"
        return f"{product}: too little to learn an uplift from ({used}): {'; '.join(short)}"


def bank_as_of(bank: Bank, moment: Any) -> Bank:
    """The bank with only the interactions and transactions before ``moment`` (what was known then)."""
    t = pd.Timestamp(moment)
    return dataclasses.replace(bank, interactions=bank.interactions[bank.interactions["ts"] < t],
                               transactions=bank.transactions[bank.transactions["ts"] < t])  # fmt: skip


def uplift_training_data(product_id: int, bank: Bank, url: str | None = None) -> UpliftData:
    """Every member of the product's stored campaigns that have at least one recorded response, pooled."""
    parts, used = [], []
    names = dict(
        zip(bank.products["product_id"].astype("int64"), bank.products["name"].astype("str"), strict=True)
    )
    name = names.get(int(product_id), "")
    for campaign in sorted(read_campaigns(url, limit=MAX_CAMPAIGNS, product_id=int(product_id)),
                           key=lambda c: c.campaign_id):  # fmt: skip
        outcomes = campaign_outcomes(campaign.campaign_id, url)
        if not outcomes["responded"].any():
            continue
        features = customer_features(bank_as_of(bank, campaign.created_at), int(product_id))
        outcomes = outcomes[outcomes["customer_id"].isin(features.index)]
        parts.append((outcomes, features.loc[outcomes["customer_id"].to_numpy()]))
        used.append(campaign.campaign_id)
    if not parts:
        empty = customer_features(bank, int(product_id)).iloc[:0]
        return UpliftData(int(product_id), [], np.array([], dtype=np.int64), empty, np.array([], dtype=bool),
                          np.array([], dtype=bool), name)  # fmt: skip
    outcomes = pd.concat([o for o, _ in parts], ignore_index=True)
    X = pd.concat([f for _, f in parts]).reset_index(drop=True)
    return UpliftData(
        int(product_id),
        used,
        outcomes["customer_id"].to_numpy(dtype=np.int64),
        X,
        outcomes["treated"].to_numpy(dtype=bool),
        outcomes["responded"].to_numpy(dtype=bool),
        name,
    )


def campaign_products(url: str | None = None) -> list[int]:
    """Products of the stored campaigns, by id."""
    return sorted({c.product_id for c in read_campaigns(url, limit=MAX_CAMPAIGNS)})


def _model_for(data: UpliftData, seed: int) -> TwoModelUplift:
    smallest = min(int(data.treated.sum()), int((~data.treated).sum()))
    return TwoModelUplift(min_child_samples=int(min(300, max(20, smallest // 5))), random_state=seed)


def train_uplift(bank: Bank, product_ids: list[int] | None = None, *, url: str | None = None,
                 store: ArtifactStore | None = None, seed: int = 0) -> tuple[Artifact, int]:  # fmt: skip
    """Fit, save and publish an uplift model per product; returns the artifact (served at once) and the rows
    published.

    Parameters
    ----------
    bank : Bank
        The bank in the database (features of its customers; every customer is ranked).
    product_ids : list of int, optional
        Products to learn (each must have enough stored responses); default every product of the stored campaigns
        that has enough, the others left out.

    Raises
    ------
    ValueError
        Too few controls or responders (the numbers are named), or no stored campaign at all.
    """
    store = store or ArtifactStore()
    candidates = product_ids if product_ids is not None else campaign_products(url)
    if not candidates:
        raise ValueError("no stored campaign to learn from: create one with `ledgerlight campaigns create` and "
                         "load its responses (`ledgerlight load responses FILE --campaign ID`)")  # fmt: skip
    data = [uplift_training_data(p, bank, url) for p in candidates]
    problems = [d.problem() for d in data if d.problem()]
    if (product_ids is not None and problems) or len(problems) == len(data):
        raise ValueError("; ".join(p for p in problems if p))
    usable = [d for d in data if d.problem() is None]
    models = {d.product_id: _model_for(d, seed).fit(d.X, d.treated, d.responded) for d in usable}
    everyone = customer_features(bank, usable[0].product_id)
    ids = everyone.index.to_numpy(dtype=np.int64)
    rows = []
    for d in usable:
        X = customer_features(bank, d.product_id) if d.product_id != usable[0].product_id else everyone
        rows.append(uplift_rows(d.product_id, ids, models[d.product_id].predict(X.loc[ids])))

    def write(folder: Path) -> None:
        for product_id, model in models.items():
            model.save(folder / f"product_{product_id}")

    pooled = pd.concat(
        [d.X.assign(treated=d.treated, responded=d.responded) for d in usable], ignore_index=True
    )
    artifact = store.save(
        UPLIFT_MODEL, write,
        params={"model": "two_model_uplift", **{str(p): m.get_params() for p, m in models.items()}},
        metrics={str(d.product_id): d.counts() for d in usable},
        features={str(c): "float64" for c in usable[0].X.columns},
        data_fingerprint=fingerprint(pooled), row_count=len(pooled),
        extra={"products": [d.product_id for d in usable],
               "campaigns": {str(d.product_id): d.campaigns for d in usable},
               "counts": {str(d.product_id): d.counts() for d in usable},
               "left_out": [p for p in problems if p], "population": population_of_bank(bank)},
        promote=True,
    )  # fmt: skip
    written = publish_uplift(artifact.version, pd.concat(rows, ignore_index=True), url)
    return artifact, written


def load_uplift(artifact: Artifact) -> dict[int, TwoModelUplift]:
    """The fitted model of each product of an ``uplift`` artifact."""
    return {
        int(p): TwoModelUplift.load(artifact.path / f"product_{p}")
        for p in artifact.metadata["extra"]["products"]
    }
