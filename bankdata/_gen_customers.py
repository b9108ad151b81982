"""Generate the demo bank's customers and the hidden traits that drive everything else."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bankdata._catalogue import EMPLOYMENTS, GENDERS, REGION_SHARES, REGIONS
from bankdata._gen_calendar import Window
from bankdata._gen_common import sample_by_group, text_column
from bankdata._personas import PERSONA_INDEX, PERSONAS, persona_param

DAYS_PER_MONTH = 30.4375
N_TRAITS = 3
# Income multiplier by employment (order of EMPLOYMENTS): students and the unemployed earn far less.
EMPLOYMENT_INCOME = np.array([1.0, 1.0, 0.4, 1.0, 0.5])


@dataclass(frozen=True)
class Population:
    """Customers plus what the generator knows about them and never publishes.

    Attributes
    ----------
    customers : DataFrame
        The public customers table.
    persona : ndarray of int8
        Index into ``PERSONAS`` per customer.
    first_day : ndarray of int64
        First day of the window on which the customer is a customer (0 unless they signed up inside it).
    risk_noise : ndarray
        Standard-normal unobserved creditworthiness (adds to the log-odds of default).
    traits : ndarray of shape (n, 3)
        Latent tastes that, with the product loadings, make product affinity low-rank.
    """

    customers: pd.DataFrame
    persona: np.ndarray
    first_day: np.ndarray
    risk_noise: np.ndarray
    traits: np.ndarray


def generate_customers(rng: np.random.Generator, n: int, window: Window, shift: float = 0.0) -> Population:
    """Draw ``n`` customers; ``shift`` (0 = none) tilts the persona mix towards the riskier personas."""
    shares = persona_param("share")
    if shift:
        shares = shares * np.exp(shift * persona_param("pd_effect") * 3.0)
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum()).astype(np.int8)

    age_mean, age_sd = persona_param("age").T
    age = np.clip(np.rint(rng.normal(age_mean[persona], age_sd[persona])), 18, 95).astype(np.int64)
    employment = _fit_employment_to_age(sample_by_group(rng, persona_param("employment"), persona), age)
    income = np.round(
        persona_param("income_median")[persona]
        * EMPLOYMENT_INCOME[employment]
        * np.exp(rng.normal(0.0, 1.0, n) * persona_param("income_sigma")[persona]),
        -1,
    )

    tenure_mean = persona_param("tenure_mean")[persona]
    tenure = np.minimum(np.floor(rng.gamma(2.0, tenure_mean / 2.0)), (age - 18) * 12).astype(np.int64)
    days_before_end = np.floor((tenure + rng.uniform(0.05, 0.95, n)) * DAYS_PER_MONTH).astype(np.int64)
    first_day = np.maximum(window.n_days - days_before_end, 0)
    signup = window.to_datetime((window.n_days - days_before_end) * 86_400)

    score_mean, score_sd = persona_param("credit_score").T
    score = (
        rng.normal(score_mean[persona], score_sd[persona])
        + 15.0 * np.log(income / 40_000.0)
        + 0.05 * np.minimum(tenure, 240)
        - 5.0
    )
    balance = income * persona_param("balance_ratio")[persona] * np.exp(rng.normal(0.0, 0.9, n))
    overdrawn = rng.random(n) < np.where(persona == PERSONA_INDEX["struggling_borrower"], 0.25, 0.03)
    balance = np.where(overdrawn, -np.minimum(balance, 2_000.0), balance)

    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "age": age,
            "gender": text_column(rng.integers(0, 2, n, dtype=np.int8), GENDERS),
            "region": text_column(rng.choice(len(REGIONS), size=n, p=REGION_SHARES).astype(np.int8), REGIONS),
            "income": income.astype(np.float64),
            "employment": text_column(employment, EMPLOYMENTS),
            "tenure_months": tenure,
            "credit_score": np.clip(np.rint(score), 300, 850).astype(np.int64),
            "balance": np.round(balance, 2),
            "signup_date": signup,
        },
        copy=False,
    )
    return Population(
        customers=customers,
        persona=persona,
        first_day=first_day,
        risk_noise=rng.standard_normal(n),
        traits=rng.standard_normal((n, N_TRAITS)),
    )


def _fit_employment_to_age(employment: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Students over 35 become employed; the retired under 55 become unemployed; everyone over 75 is retired."""
    out = employment.copy()
    out[(out == EMPLOYMENTS.index("student")) & (age > 35)] = EMPLOYMENTS.index("employed")
    out[(out == EMPLOYMENTS.index("retired")) & (age < 55)] = EMPLOYMENTS.index("unemployed")
    out[age > 75] = EMPLOYMENTS.index("retired")
    return out
