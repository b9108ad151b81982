"""The latent personas of the demo bank and the parameters each one drives.

Every customer belongs to one persona; the persona is ground truth and never a column of a table.
Sequences follow the vocabularies in ``bankdata._catalogue`` (EMPLOYMENTS, SPEND_CATEGORIES, CHANNELS,
PURPOSES, PRODUCTS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Persona:
    """Parameters of one latent persona (see docs/demo-bank.md)."""

    name: str
    share: float
    age: tuple[float, float]  # mean, sd
    income_median: float
    income_sigma: float  # log-sd of the lognormal income
    employment: tuple[float, ...]  # over EMPLOYMENTS
    tenure_mean: float  # months, gamma(shape 2)
    credit_score: tuple[float, float]  # mean, sd
    balance_ratio: float  # median balance as a share of annual income
    spend_rate: float  # non-salary transactions per month
    salary_share: float  # share of earners whose salary or pension is paid into this bank
    categories: tuple[float, ...]  # over SPEND_CATEGORIES
    channels: tuple[float, ...]  # over CHANNELS
    loans_rate: float  # loans per customer over 12 months
    purposes: tuple[float, ...]  # over PURPOSES
    other_debt: float  # mean debt-to-income before the new loan
    delinquency_rate: float  # mean prior delinquencies at a credit score of 680
    pd_effect: float  # persona's own log-odds effect on default
    products: tuple[float, ...]  # base purchase probability of each product over PRODUCTS


PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="young_digital",
        share=0.22,
        age=(27, 5),
        income_median=38_000,
        income_sigma=0.35,
        employment=(0.7, 0.07, 0.2, 0.0, 0.03),
        tenure_mean=28,
        credit_score=(672, 55),
        balance_ratio=0.08,
        spend_rate=2.6,
        salary_share=0.75,
        categories=(14, 18, 6, 18, 6, 14, 3, 12, 9),
        channels=(45, 25, 1, 4, 25),
        loans_rate=0.65,
        purposes=(0.25, 0.03, 0.17, 0.25, 0.03, 0.27),
        other_debt=0.12,
        delinquency_rate=0.25,
        pd_effect=0.1,
        products=(0.85, 0.35, 0.03, 0.35, 0.2, 0.12, 0.06, 0.04, 0.08, 0.05, 0.05, 0.04),
    ),
    Persona(
        name="family_mainstream",
        share=0.27,
        age=(41, 8),
        income_median=46_000,
        income_sigma=0.35,
        employment=(0.85, 0.09, 0.0, 0.01, 0.05),
        tenure_mean=84,
        credit_score=(705, 50),
        balance_ratio=0.1,
        spend_rate=2.0,
        salary_share=0.85,
        categories=(26, 9, 4, 15, 12, 7, 7, 10, 10),
        channels=(25, 20, 5, 10, 40),
        loans_rate=0.95,
        purposes=(0.3, 0.25, 0.2, 0.05, 0.03, 0.17),
        other_debt=0.22,
        delinquency_rate=0.2,
        pd_effect=-0.1,
        products=(0.88, 0.45, 0.08, 0.4, 0.06, 0.12, 0.18, 0.22, 0.08, 0.15, 0.35, 0.3),
    ),
    Persona(
        name="affluent_investor",
        share=0.11,
        age=(50, 10),
        income_median=105_000,
        income_sigma=0.45,
        employment=(0.7, 0.25, 0.0, 0.05, 0.0),
        tenure_mean=130,
        credit_score=(760, 45),
        balance_ratio=0.45,
        spend_rate=2.1,
        salary_share=0.8,
        categories=(14, 14, 16, 15, 8, 8, 6, 6, 13),
        channels=(25, 30, 8, 5, 32),
        loans_rate=0.75,
        purposes=(0.25, 0.4, 0.05, 0.05, 0.1, 0.15),
        other_debt=0.15,
        delinquency_rate=0.08,
        pd_effect=-0.3,
        products=(0.85, 0.55, 0.3, 0.45, 0.45, 0.04, 0.08, 0.2, 0.55, 0.4, 0.35, 0.3),
    ),
    Persona(
        name="retired_saver",
        share=0.16,
        age=(70, 7),
        income_median=27_000,
        income_sigma=0.35,
        employment=(0.05, 0.03, 0.0, 0.92, 0.0),
        tenure_mean=220,
        credit_score=(730, 50),
        balance_ratio=0.6,
        spend_rate=1.2,
        salary_share=0.9,
        categories=(26, 8, 7, 8, 16, 4, 16, 5, 10),
        channels=(5, 10, 30, 20, 35),
        loans_rate=0.3,
        purposes=(0.2, 0.4, 0.1, 0.0, 0.0, 0.3),
        other_debt=0.08,
        delinquency_rate=0.1,
        pd_effect=-0.2,
        products=(0.8, 0.55, 0.35, 0.15, 0.08, 0.03, 0.03, 0.02, 0.2, 0.08, 0.3, 0.1),
    ),
    Persona(
        name="struggling_borrower",
        share=0.14,
        age=(36, 10),
        income_median=26_000,
        income_sigma=0.35,
        employment=(0.65, 0.08, 0.02, 0.0, 0.25),
        tenure_mean=48,
        credit_score=(592, 60),
        balance_ratio=0.02,
        spend_rate=1.9,
        salary_share=0.7,
        categories=(24, 8, 1, 12, 15, 6, 5, 9, 20),
        channels=(20, 10, 10, 30, 30),
        loans_rate=1.3,
        purposes=(0.15, 0.05, 0.5, 0.05, 0.02, 0.23),
        other_debt=0.35,
        delinquency_rate=0.9,
        pd_effect=0.45,
        products=(0.8, 0.12, 0.02, 0.35, 0.02, 0.3, 0.1, 0.03, 0.02, 0.04, 0.08, 0.06),
    ),
    Persona(
        name="small_business",
        share=0.1,
        age=(45, 9),
        income_median=58_000,
        income_sigma=0.6,
        employment=(0.15, 0.83, 0.0, 0.02, 0.0),
        tenure_mean=72,
        credit_score=(690, 60),
        balance_ratio=0.25,
        spend_rate=2.5,
        salary_share=0.6,
        categories=(12, 10, 8, 10, 8, 4, 3, 8, 37),
        channels=(25, 40, 12, 5, 18),
        loans_rate=1.15,
        purposes=(0.15, 0.1, 0.1, 0.02, 0.5, 0.13),
        other_debt=0.2,
        delinquency_rate=0.3,
        pd_effect=0.15,
        products=(0.85, 0.4, 0.12, 0.5, 0.25, 0.15, 0.12, 0.1, 0.25, 0.25, 0.25, 0.2),
    ),
)
PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)
PERSONA_INDEX: dict[str, int] = {name: i for i, name in enumerate(PERSONA_NAMES)}


def persona_param(attr: str) -> np.ndarray:
    """Stack one attribute of every persona into an array whose first axis follows ``PERSONAS``."""
    return np.asarray([getattr(p, attr) for p in PERSONAS], dtype=np.float64)
