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
        "young_digital", 0.22, (27, 5), 34_000, 0.35, (0.70, 0.07, 0.20, 0.0, 0.03), 28, (672, 55), 0.08, 2.6, 0.75,
        (14, 18, 6, 18, 6, 14, 3, 12, 9), (45, 25, 1, 4, 25), 0.65, (0.25, 0.03, 0.17, 0.25, 0.03, 0.27), 0.12, 0.25,
        0.10, (0.85, 0.35, 0.03, 0.35, 0.20, 0.12, 0.06, 0.04, 0.08, 0.05, 0.05, 0.04),
    ),
    Persona(
        "family_mainstream", 0.27, (41, 8), 46_000, 0.35, (0.85, 0.09, 0.0, 0.01, 0.05), 84, (705, 50), 0.10, 2.0, 0.85,
        (26, 9, 4, 15, 12, 7, 7, 10, 10), (25, 20, 5, 10, 40), 0.95, (0.30, 0.25, 0.20, 0.05, 0.03, 0.17), 0.22, 0.20,
        -0.10, (0.88, 0.45, 0.08, 0.40, 0.06, 0.12, 0.18, 0.22, 0.08, 0.15, 0.35, 0.30),
    ),
    Persona(
        "affluent_investor", 0.11, (50, 10), 105_000, 0.45, (0.70, 0.25, 0.0, 0.05, 0.0), 130, (760, 45), 0.45, 2.1, 0.80,
        (14, 14, 16, 15, 8, 8, 6, 6, 13), (25, 30, 8, 5, 32), 0.75, (0.25, 0.40, 0.05, 0.05, 0.10, 0.15), 0.15, 0.08,
        -0.30, (0.85, 0.55, 0.30, 0.45, 0.45, 0.04, 0.08, 0.20, 0.55, 0.40, 0.35, 0.30),
    ),
    Persona(
        "retired_saver", 0.16, (70, 7), 27_000, 0.35, (0.05, 0.03, 0.0, 0.92, 0.0), 220, (730, 50), 0.60, 1.2, 0.90,
        (26, 8, 7, 8, 16, 4, 16, 5, 10), (5, 10, 30, 20, 35), 0.30, (0.20, 0.40, 0.10, 0.0, 0.0, 0.30), 0.08, 0.10,
        -0.20, (0.80, 0.55, 0.35, 0.15, 0.08, 0.03, 0.03, 0.02, 0.20, 0.08, 0.30, 0.10),
    ),
    Persona(
        "struggling_borrower", 0.14, (36, 10), 23_000, 0.35, (0.65, 0.08, 0.02, 0.0, 0.25), 48, (592, 60), 0.02, 1.9,
        0.70, (24, 8, 1, 12, 15, 6, 5, 9, 20), (20, 10, 10, 30, 30), 1.30, (0.15, 0.05, 0.50, 0.05, 0.02, 0.23), 0.35,
        0.90, 0.45, (0.80, 0.12, 0.02, 0.35, 0.02, 0.30, 0.10, 0.03, 0.02, 0.04, 0.08, 0.06),
    ),
    Persona(
        "small_business", 0.10, (45, 9), 58_000, 0.60, (0.15, 0.83, 0.0, 0.02, 0.0), 72, (690, 60), 0.25, 2.5, 0.60,
        (12, 10, 8, 10, 8, 4, 3, 8, 37), (25, 40, 12, 5, 18), 1.15, (0.15, 0.10, 0.10, 0.02, 0.50, 0.13), 0.20, 0.30,
        0.15, (0.85, 0.40, 0.12, 0.50, 0.25, 0.15, 0.12, 0.10, 0.25, 0.25, 0.25, 0.20),
    ),
)
PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)
PERSONA_INDEX: dict[str, int] = {name: i for i, name in enumerate(PERSONA_NAMES)}


def persona_param(attr: str) -> np.ndarray:
    """Stack one attribute of every persona into an array whose first axis follows ``PERSONAS``."""
    return np.asarray([getattr(p, attr) for p in PERSONAS], dtype=np.float64)
