"""Generate the loan book and each loan's true probability of default."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bankdata._catalogue import EMPLOYMENTS, PURPOSE_AMOUNT, PURPOSE_RATE, PURPOSE_TERM, PURPOSES, TERMS
from bankdata._gen_calendar import Window
from bankdata._gen_common import expand, sample_by_group, sigmoid, text_column
from bankdata._gen_customers import Population
from bankdata._personas import persona_param

# Log-odds of default: the documented ground truth (docs/demo-bank.md). Age and gender have no term here.
PD_INTERCEPT = -3.57
PD_SCORE = -0.0065  # per credit-score point above 680
PD_DTI = 1.0  # per unit of debt-to-income above 0.3
PD_DELINQUENCY = 0.15  # per prior delinquency
PD_RATE = 0.04  # per interest-rate point above 10%
PD_INCOME = -0.20  # per log-unit of income over 40k
PD_TERM = 0.012  # per month of term above 36
PD_NOISE = 0.70  # sd of the unobserved per-customer creditworthiness
BORROWING_TRAIT, BORROWING_EFFECT = 2, 0.5  # column of Population.traits; log-rate of loans per sd
PD_EMPLOYMENT = dict(employed=0.0, self_employed=0.25, student=0.30, retired=-0.10, unemployed=0.70)
PD_PURPOSE = dict(
    car=-0.25, home_improvement=-0.20, debt_consolidation=0.25, education=0.10, business=0.35, personal=0.10
)


@dataclass(frozen=True)
class LoanBook:
    """The public loans table and the true default probability of each loan."""

    loans: pd.DataFrame
    true_pd: np.ndarray


def generate_loans(
    rng: np.random.Generator, pop: Population, window: Window, months: int, shift: float = 0.0
) -> LoanBook:
    """Draw about 0.8 loans per customer over 12 months with outcomes from the true PD.

    ``shift`` adds to every loan's log-odds of default (concept drift, for monitoring tests).
    """
    c = pop.customers
    rate = persona_param("loans_rate")[pop.persona] * months / 12.0 * window.active_share(pop.first_day)
    # The hidden borrowing taste that raises credit-product affinity also raises the number of loans (mean kept).
    rate = rate * np.exp(BORROWING_EFFECT * pop.traits[:, BORROWING_TRAIT] - BORROWING_EFFECT**2 / 2)
    owner = expand(rng.poisson(rate))
    m = len(owner)
    persona = pop.persona[owner]
    score = c["credit_score"].to_numpy()[owner].astype(np.float64)
    income = c["income"].to_numpy()[owner]
    employment = pd.Categorical(c["employment"].to_numpy()[owner], categories=EMPLOYMENTS).codes

    purpose = sample_by_group(rng, persona_param("purposes"), persona)
    term = TERMS[sample_by_group(rng, PURPOSE_TERM, purpose)]
    amount = PURPOSE_AMOUNT[purpose] * np.sqrt(income / 40_000.0) * np.exp(0.5 * rng.standard_normal(m))
    amount = np.clip(np.round(amount, -1), 500.0, 500_000.0)
    interest = (
        4.5
        + 14.0 * sigmoid((660.0 - score) / 55.0)
        + 0.6 * (term - 36) / 12.0
        + PURPOSE_RATE[purpose]
        + 0.8 * rng.standard_normal(m)
    )
    interest = np.round(np.clip(interest, 2.5, 35.0), 2)

    debt_mean = persona_param("other_debt")[persona]
    other_debt = rng.beta(debt_mean * 8.0, (1.0 - debt_mean) * 8.0)
    dti = np.round(np.clip(other_debt + 12.0 * _annuity(amount, interest, term) / income, 0.0, 3.0), 4)
    delinquency_rate = persona_param("delinquency_rate")[persona] * np.exp(-0.006 * (score - 680.0))
    delinquencies = rng.poisson(delinquency_rate)

    logit = (
        PD_INTERCEPT
        + PD_SCORE * (score - 680.0)
        + PD_DTI * (dti - 0.3)
        + PD_DELINQUENCY * delinquencies
        + PD_RATE * (interest - 10.0)
        + PD_INCOME * np.log(income / 40_000.0)
        + np.array([PD_EMPLOYMENT[e] for e in EMPLOYMENTS])[employment]
        + PD_TERM * (term - 36)
        + np.array([PD_PURPOSE[p] for p in PURPOSES])[purpose]
        + persona_param("pd_effect")[persona]
        + PD_NOISE * pop.risk_noise[owner]
        + shift
    )
    true_pd = sigmoid(logit)
    issued = window.sample_seconds(rng, np.ones(window.n_days), pop.first_day[owner])
    order = np.lexsort((issued, owner))

    loans = pd.DataFrame(
        {
            "loan_id": np.arange(1, m + 1, dtype=np.int64),
            "customer_id": (owner + 1)[order],
            "issued_at": window.to_datetime(issued[order]),
            "amount": amount[order],
            "term_months": term[order].astype(np.int64),
            "interest_rate": interest[order],
            "purpose": text_column(purpose[order], PURPOSES),
            "dti": dti[order],
            "prior_delinquencies": delinquencies[order].astype(np.int64),
            "defaulted": (rng.random(m) < true_pd[order]).astype(np.int64),
        },
        copy=False,
    )
    return LoanBook(loans=loans, true_pd=true_pd[order])


def _annuity(amount: np.ndarray, rate_percent: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Monthly payment of an amortising loan."""
    r = rate_percent / 1200.0
    return amount * r / (1.0 - (1.0 + r) ** (-term))
