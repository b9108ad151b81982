"""Take-up: ``truth.affinity`` is the probability each purchase was drawn with, held anchors included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankdata import Bank
from bankdata._catalogue import PRODUCTS
from bankdata._gen_interactions import ANCHORS, HELD_EFFECT, LIFE_STAGES, life_stage

PRODUCT_ID = {name: j + 1 for j, (name, _) in enumerate(PRODUCTS)}


def _held(bank: Bank) -> pd.DataFrame:
    """customers x products: true affinity and whether a purchase happened."""
    held = bank.held_products().assign(held=True)
    out = bank.truth.affinity.merge(held, how="left", on=["customer_id", "product_id"])
    return out.assign(held=out["held"].fillna(False).astype(bool))


@pytest.mark.parametrize("anchor", ANCHORS)
def test_purchases_follow_the_affinity_given_the_anchor_held(small_bank: Bank, anchor: str) -> None:
    """Within holders and non-holders of each anchor, every related product's purchase rate is its mean affinity."""
    pairs = _held(small_bank)
    holders = set(pairs.loc[pairs["held"] & (pairs["product_id"] == PRODUCT_ID[anchor]), "customer_id"])
    pairs = pairs.assign(holder=pairs["customer_id"].isin(holders))
    for product, effect in HELD_EFFECT[anchor].items():
        rows = pairs[pairs["product_id"] == PRODUCT_ID[product]]
        by = rows.groupby("holder").agg(
            rate=("held", "mean"), affinity=("affinity", "mean"), n=("held", "size")
        )
        se = np.sqrt(by["affinity"] * (1 - by["affinity"]) / by["n"])
        assert (np.abs(by["rate"] - by["affinity"]) < 4 * se + 0.005).all(), (anchor, product, by)
        # holding the anchor moves the product's affinity the way the story says
        moved = by.loc[True, "affinity"] - by.loc[False, "affinity"]
        assert np.sign(moved) == np.sign(effect), (anchor, product)


def test_purchase_rate_is_calibrated_to_affinity_overall(small_bank: Bank) -> None:
    pairs = _held(small_bank)
    bins = pd.qcut(pairs["affinity"], 10, labels=False)
    by = pairs.groupby(bins).agg(rate=("held", "mean"), affinity=("affinity", "mean"), n=("held", "size"))
    se = np.sqrt(by["affinity"] * (1 - by["affinity"]) / by["n"])
    assert (np.abs(by["rate"] - by["affinity"]) < 4 * se + 0.005).all(), by


def test_life_stage_shapes_take_up(small_bank: Bank) -> None:
    customers = small_bank.customers
    stage = pd.Series(
        np.asarray(LIFE_STAGES)[
            life_stage(customers["age"].to_numpy(), customers["employment"].astype("str"))
        ],
        index=customers["customer_id"].to_numpy(),
    )
    aff = small_bank.truth.affinity.assign(stage=lambda d: stage.loc[d["customer_id"]].to_numpy())
    mortgage = aff[aff["product_id"] == PRODUCT_ID["Mortgage"]].groupby("stage")["affinity"].mean()
    assert mortgage["family"] > 2 * max(mortgage["student"], mortgage["retired"])
    assert life_stage(np.array([20, 25, 40, 55, 70, 40]), np.array(["student", "employed", "employed", "employed",
                                                                    "employed", "retired"])).tolist() == [0, 1, 2, 3, 4, 4]  # fmt: skip
