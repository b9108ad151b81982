"""Simulate a marketing campaign on the demo bank from its ground truth, so every customer's true uplift is known.

A customer's *baseline* is the chance of taking the product up within the campaign window without being contacted:
the bank's true affinity (a probability over its 12-month window) scaled to the window,
``1 - (1 - affinity) ** (months / 12)``. Contact adds a *true effect* (in probability points) that varies by persona
and product and by observable features, so a model can learn it:

- persona x product family sets the effect's size and sign (``EFFECTS``), each product scales it (``PRODUCT_SCALE``);
- new customers are more receptive than long-standing ones (``0.5 + exp(-tenure / 36)``), younger ones a little more;
- *sure things*: a positive effect fades as the baseline grows (``exp(-baseline / 0.1)``), so customers who would buy
  anyway gain almost nothing from contact;
- *do-not-disturb*: some persona x family effects are negative, and a few customers (3%, 13% from age 65) are put off
  by any contact (their take-up halves);
- a customer's own lognormal receptivity (sd 0.3 on the log scale) is drawn from a stream of the truth seed.

Responses are drawn from ``baseline`` (control) or ``baseline + uplift`` (treated) with one uniform per customer,
from a stream of the campaign seed. Both are deterministic by seed and use no other table's stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata._bank import Bank
from bankdata._catalogue import FAMILIES, PRODUCTS
from bankdata._personas import PERSONA_NAMES

CAMPAIGN_MONTHS = 3
BANK_MONTHS = 12  # the window the demo bank's true affinity refers to
SURE_THING_SCALE = 0.1  # a positive effect is multiplied by exp(-baseline / SURE_THING_SCALE)
RECEPTIVITY_SD = 0.3

# True effect (probability points) at a low baseline, for a mid-tenure customer: rows follow PERSONA_NAMES, columns
# FAMILIES (deposit, card, loan, investment, insurance).
EFFECTS: dict[str, tuple[float, float, float, float, float]] = {
    "young_digital": (0.12, 0.18, 0.06, 0.04, 0.04),
    "family_mainstream": (0.08, 0.10, 0.12, 0.06, 0.12),
    "affluent_investor": (0.04, 0.04, 0.02, 0.16, 0.06),
    "retired_saver": (0.10, -0.06, -0.08, 0.08, 0.08),
    "struggling_borrower": (0.04, 0.12, -0.06, -0.04, 0.02),
    "small_business": (0.06, 0.10, 0.12, 0.06, 0.04),
}
PRODUCT_SCALE: dict[str, float] = {
    "Current account": 0.6,
    "Savings account": 1.2,
    "Term deposit": 0.9,
    "Credit card": 1.0,
    "Premium travel card": 1.3,
    "Personal loan": 1.1,
    "Car loan": 0.8,
    "Mortgage": 0.7,
    "Investment fund": 1.2,
    "Pension plan": 0.9,
    "Home insurance": 1.0,
    "Life insurance": 1.1,
}


def product_names() -> tuple[str, ...]:
    """The demo catalogue's product names, in product_id order."""
    return tuple(name for name, _ in PRODUCTS)


def true_uplift(bank: Bank, product: str, *, months: int = CAMPAIGN_MONTHS, seed: int = 0) -> pd.DataFrame:
    """Each customer's baseline take-up and true uplift from contact, for a campaign on one product.

    Parameters
    ----------
    bank : Bank
        A demo bank with its ground truth (``bank.truth``).
    product : str
        Product name from the demo catalogue (e.g. ``"Credit card"``).
    months : int
        Campaign window in months (1 to 12).
    seed : int
        Seed of the customers' own receptivity; keep it fixed across campaigns on one bank.

    Returns
    -------
    DataFrame
        customer_id, persona, baseline (take-up if not contacted), uplift (true effect of contact, in probability
        points; ``baseline + uplift`` is the take-up if contacted, within [0, 1]).
    """
    j = _product_index(product)
    if bank.truth is None:
        raise ValueError("true_uplift needs a demo bank with its ground truth (bank.truth is None)")
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or not 1 <= months <= BANK_MONTHS:
        raise ValueError(f"true_uplift: months must be an integer from 1 to {BANK_MONTHS}, got {months!r}")
    customers = bank.customers[["customer_id", "age", "tenure_months"]]
    aff = bank.truth.affinity
    aff = aff.loc[aff["product_id"] == j + 1, ["customer_id", "affinity"]]
    frame = customers.merge(aff, on="customer_id", how="left").merge(
        bank.truth.personas, on="customer_id", how="left"
    )
    if frame["affinity"].isna().any() or frame["persona"].isna().any():
        raise ValueError("true_uplift: the bank's ground truth does not cover every customer")
    affinity = frame["affinity"].to_numpy(dtype=float)
    baseline = 1.0 - (1.0 - affinity) ** (months / BANK_MONTHS)

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), j, 13]))
    receptivity = np.exp(RECEPTIVITY_SD * rng.standard_normal(len(frame)) - RECEPTIVITY_SD**2 / 2)
    put_off_rate = np.where(frame["age"].to_numpy() >= 65, 0.13, 0.03)
    put_off = rng.random(len(frame)) < put_off_rate

    family = FAMILIES.index(PRODUCTS[j][1])
    persona_effect = {name: EFFECTS[name][family] for name in PERSONA_NAMES}
    raw = frame["persona"].map(persona_effect).to_numpy(dtype=float) * PRODUCT_SCALE.get(PRODUCTS[j][0], 1.0)
    tenure = frame["tenure_months"].to_numpy(dtype=float)
    age = frame["age"].to_numpy(dtype=float)
    raw = raw * (0.5 + np.exp(-tenure / 36.0)) * (1.0 + 0.3 * np.tanh((40.0 - age) / 15.0)) * receptivity
    effect = np.where(raw > 0, raw * np.exp(-baseline / SURE_THING_SCALE), raw)
    effect = np.where(put_off, -0.5 * baseline, effect)
    treated_p = np.clip(baseline + effect, 0.0, 1.0)
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "persona": frame["persona"].astype("str"),
            "baseline": baseline,
            "uplift": treated_p - baseline,
        }
    )


def simulate_campaign(truth: pd.DataFrame, treated: np.ndarray, *, seed: int = 0) -> pd.DataFrame:
    """Draw one campaign's responses: take-up from ``baseline`` if held out, ``baseline + uplift`` if contacted.

    Parameters
    ----------
    truth : DataFrame
        Output of :func:`true_uplift` (customer_id, baseline, uplift), or a subset of its rows.
    treated : array of bool
        Whether each row of ``truth`` was contacted.
    seed : int
        Seed of this campaign's draws; a new campaign on the same customers uses a new seed.

    Returns
    -------
    DataFrame
        customer_id, treated, responded (bool).
    """
    treated = np.asarray(treated)
    if treated.dtype != bool or treated.shape != (len(truth),):
        raise ValueError(
            f"simulate_campaign: treated must be {len(truth)} booleans, got {treated.dtype} {treated.shape}"
        )
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 17]))
    baseline = truth["baseline"].to_numpy(dtype=float)
    p = np.where(treated, baseline + truth["uplift"].to_numpy(dtype=float), baseline)
    return pd.DataFrame(
        {
            "customer_id": truth["customer_id"].to_numpy(),
            "treated": treated,
            "responded": rng.random(len(p)) < p,
        }
    )


def _product_index(product: str) -> int:
    names = product_names()
    if product not in names:
        raise ValueError(f"unknown product {product!r}; expected one of: {', '.join(names)}")
    return names.index(product)
