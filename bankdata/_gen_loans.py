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

# Log-odds of default: the documented ground truth (docs/demo-bank.md). Every term reads a published column (the
# loan's, or its customer's income, employment, tenure, credit score and balance); only the persona's pd_effect and
# one noise per customer stay hidden. Real books are not additive, so neither is this: the score saturates, DTI has
# a cliff, the first delinquency is what counts, and fragile income, long terms and overdrafts compound. Age and
# gender have no term here.
PD_INTERCEPT = -3.55
PD_SCORE = -0.0025  # per credit-score point above 680, counted only between SCORE_FLOOR and SCORE_CAP
SCORE_FLOOR, SCORE_CAP = 580.0, 720.0
PD_SUBPRIME, SUBPRIME_BELOW = 0.65, 600  # step for a credit score below 600
PD_DTI_CLIFF, DTI_CLIFF = 0.6, 0.43  # step for debt-to-income above 0.43 (the affordability rule)
PD_DTI_SLOPE, DTI_SATURATES = 0.8, 0.3  # per unit of DTI above the cliff, flat from 0.3 above it
PD_DELINQUENCY = 0.5  # step for any prior delinquency: the first one is the signal, more add nothing
PD_INCOME = -0.15  # per log-unit of income over 40k
PD_EMPLOYMENT = dict(employed=0.0, self_employed=0.0, student=0.0, retired=-0.10, unemployed=0.25)
FRAGILE = ("self_employed", "student", "unemployed")  # incomes that one shock can stop
PD_FRAGILE_DTI, FRAGILE_DTI_FROM = 3.5, 0.3  # per unit of DTI above 0.3, for fragile incomes only
PD_PURPOSE = dict(
    car=-0.05, home_improvement=-0.05, debt_consolidation=0.05, education=0.0, business=0.10, personal=0.0
)
# per month of term above 36, by purpose: a long business, consolidation or personal loan outlives the plan that
# it funds; a car or a house secures a long one
PD_TERM = dict(
    car=-0.04, home_improvement=-0.02, debt_consolidation=0.04, education=0.0, business=0.06, personal=0.05
)
PD_OVERDRAWN_NEW, PD_OVERDRAWN_KNOWN, KNOWN_AFTER = 2.0, 0.2, 24  # overdrawn balance: new or known (months)
PD_BUFFER, BUFFER_CAP = -0.9, 1.0  # savings buffer: full effect once the balance holds a month of income
PD_NOISE = 0.45  # sd of the unobserved per-customer creditworthiness
BORROWING_TRAIT, BORROWING_EFFECT = 2, 0.5  # column of Population.traits; log-rate of loans per sd


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

    tenure = c["tenure_months"].to_numpy()[owner]
    balance = c["balance"].to_numpy()[owner]
    logit = (
        observed_log_odds(
            credit_score=score,
            dti=dti,
            prior_delinquencies=delinquencies,
            income=income,
            employment=np.asarray(EMPLOYMENTS)[employment],
            term_months=term,
            purpose=np.asarray(PURPOSES)[purpose],
            tenure_months=tenure,
            balance=balance,
        )  # fmt: skip
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


def observed_log_odds(
    *,
    credit_score: np.ndarray,
    dti: np.ndarray,
    prior_delinquencies: np.ndarray,
    income: np.ndarray,
    employment: np.ndarray,
    term_months: np.ndarray,
    purpose: np.ndarray,
    tenure_months: np.ndarray,
    balance: np.ndarray,
) -> np.ndarray:
    """The part of a loan's true log-odds of default that the published columns determine (docs/demo-bank.md).

    Parameters
    ----------
    credit_score, dti, prior_delinquencies, term_months : ndarray
        The loan's published columns and the customer's credit score (the interest rate has no term of its own:
        it is priced from the score, the term and the purpose).
    income, tenure_months, balance : ndarray
        The customer's published columns.
    employment, purpose : ndarray of str
        Category labels (``EMPLOYMENTS``, ``PURPOSES``).

    Returns
    -------
    ndarray
        The log-odds before the hidden terms: add the persona's ``pd_effect``, ``PD_NOISE`` times the customer's
        noise and any drift ``shift`` to get the true log-odds.
    """
    score = np.asarray(credit_score, dtype=np.float64)
    dti = np.asarray(dti, dtype=np.float64)
    delinquencies = np.asarray(prior_delinquencies, dtype=np.float64)
    fragile = np.isin(employment, FRAGILE)
    income = np.asarray(income, dtype=np.float64)
    overdrawn = np.asarray(balance) < 0
    known = np.asarray(tenure_months) >= KNOWN_AFTER
    return (
        PD_INTERCEPT
        + PD_SCORE * (np.clip(score, SCORE_FLOOR, SCORE_CAP) - 680.0)
        + PD_SUBPRIME * (score < SUBPRIME_BELOW)
        + PD_DTI_CLIFF * (dti > DTI_CLIFF)
        + PD_DTI_SLOPE * np.clip(dti - DTI_CLIFF, 0.0, DTI_SATURATES)
        + PD_DELINQUENCY * (delinquencies >= 1)
        + PD_INCOME * np.log(income / 40_000.0)
        + _lookup(PD_EMPLOYMENT, employment)
        + PD_FRAGILE_DTI * fragile * np.maximum(dti - FRAGILE_DTI_FROM, 0.0)
        + _lookup(PD_PURPOSE, purpose)
        + _lookup(PD_TERM, purpose) * (np.asarray(term_months, dtype=np.float64) - 36.0)
        + overdrawn * np.where(known, PD_OVERDRAWN_KNOWN, PD_OVERDRAWN_NEW)
        + PD_BUFFER * np.clip(12.0 * np.asarray(balance) / income, 0.0, BUFFER_CAP) / BUFFER_CAP
    )


def _lookup(table: dict[str, float], labels: np.ndarray) -> np.ndarray:
    """``table[label]`` for each label."""
    keys = list(table)
    codes = pd.Categorical(labels, categories=keys).codes
    if (codes < 0).any():
        raise ValueError(f"unknown label(s) {sorted(set(np.asarray(labels)[codes < 0]))}; known: {keys}")
    return np.array([table[k] for k in keys])[codes]


def _annuity(amount: np.ndarray, rate_percent: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Monthly payment of an amortising loan."""
    r = rate_percent / 1200.0
    return amount * r / (1.0 - (1.0 + r) ** (-term))
