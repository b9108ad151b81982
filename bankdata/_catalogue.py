"""Fixed vocabularies of the demo bank: regions, spending categories, channels, loan terms and products."""

from __future__ import annotations

import numpy as np

REGIONS: tuple[str, ...] = ("Capital", "North", "South", "East", "West", "Midlands", "Coast")
REGION_SHARES = np.array([0.24, 0.15, 0.14, 0.12, 0.13, 0.14, 0.08])

GENDERS: tuple[str, ...] = ("F", "M")

EMPLOYMENTS: tuple[str, ...] = ("employed", "self_employed", "student", "retired", "unemployed")

# Spending categories of generated transactions; salary is generated separately (monthly credits).
SPEND_CATEGORIES: tuple[str, ...] = (
    "groceries",
    "dining",
    "travel",
    "shopping",
    "utilities",
    "entertainment",
    "health",
    "transport",
    "transfer",
)
CATEGORIES: tuple[str, ...] = (*SPEND_CATEGORIES, "salary")
SALARY = CATEGORIES.index("salary")
TRANSFER = CATEGORIES.index("transfer")
DISCRETIONARY = frozenset({"dining", "travel", "shopping", "entertainment"})

# Median amount and log-sd of each category's lognormal amount (before the income scaling).
CATEGORY_AMOUNT: dict[str, tuple[float, float]] = {
    "groceries": (45.0, 0.7),
    "dining": (28.0, 0.6),
    "travel": (220.0, 0.9),
    "shopping": (60.0, 0.9),
    "utilities": (95.0, 0.5),
    "entertainment": (25.0, 0.7),
    "health": (55.0, 0.9),
    "transport": (18.0, 0.8),
    "transfer": (250.0, 1.1),
}
INCOMING_TRANSFER_SHARE = 0.35

CHANNELS: tuple[str, ...] = ("mobile", "online", "branch", "atm", "pos")
# How plausible each channel is for a category (rows follow CATEGORIES); multiplied by the persona's channel mix.
CATEGORY_CHANNEL = np.array(
    [
        [0.4, 0.3, 0.0, 0.3, 1.0],  # groceries
        [0.5, 0.3, 0.0, 0.2, 1.0],  # dining
        [0.6, 1.0, 0.1, 0.1, 0.5],  # travel
        [0.6, 1.0, 0.0, 0.15, 1.0],  # shopping
        [0.8, 1.0, 0.3, 0.0, 0.0],  # utilities
        [0.7, 1.0, 0.0, 0.1, 0.6],  # entertainment
        [0.3, 0.4, 0.0, 0.2, 1.0],  # health
        [0.8, 0.6, 0.0, 0.3, 0.8],  # transport
        [1.0, 1.0, 1.0, 0.2, 0.0],  # transfer
        [0.0, 1.0, 0.0, 0.0, 0.0],  # salary: always an online credit
    ]
)

DIRECTIONS: tuple[str, ...] = ("debit", "credit")

PURPOSES: tuple[str, ...] = (
    "car",
    "home_improvement",
    "debt_consolidation",
    "education",
    "business",
    "personal",
)
# Median amount of each purpose at an income of 40k; amounts scale with sqrt(income / 40k).
PURPOSE_AMOUNT = np.array([18_000.0, 15_000.0, 12_000.0, 10_000.0, 30_000.0, 6_000.0])
TERMS = np.array([12, 24, 36, 48, 60])
# Probability of each term (columns follow TERMS) given the purpose (rows follow PURPOSES).
PURPOSE_TERM = np.array(
    [
        [0.05, 0.15, 0.30, 0.20, 0.30],
        [0.05, 0.10, 0.25, 0.20, 0.40],
        [0.05, 0.20, 0.40, 0.15, 0.20],
        [0.05, 0.15, 0.30, 0.20, 0.30],
        [0.10, 0.15, 0.30, 0.20, 0.25],
        [0.25, 0.30, 0.30, 0.10, 0.05],
    ]
)
# Interest-rate add-on in percentage points by purpose.
PURPOSE_RATE = np.array([-0.5, -0.3, 1.0, 0.0, 1.5, 1.5])

PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Current account", "deposit"),
    ("Savings account", "deposit"),
    ("Term deposit", "deposit"),
    ("Credit card", "card"),
    ("Premium travel card", "card"),
    ("Personal loan", "loan"),
    ("Car loan", "loan"),
    ("Mortgage", "loan"),
    ("Investment fund", "investment"),
    ("Pension plan", "investment"),
    ("Home insurance", "insurance"),
    ("Life insurance", "insurance"),
)
FAMILIES: tuple[str, ...] = ("deposit", "card", "loan", "investment", "insurance")
CREDIT_FAMILIES: frozenset[str] = frozenset({"card", "loan"})

# Hidden taste loadings of each product (rows follow PRODUCTS) on three latent customer traits:
# digital/travel taste, saving/investing, borrowing. They make affinity low-rank beyond the personas.
PRODUCT_LOADINGS = np.array(
    [
        [0.1, 0.0, 0.0],
        [-0.2, 0.8, -0.3],
        [-0.4, 0.9, -0.4],
        [0.4, -0.3, 0.8],
        [0.9, 0.2, 0.2],
        [0.0, -0.4, 0.9],
        [0.2, -0.1, 0.6],
        [0.0, 0.3, 0.5],
        [0.3, 0.9, -0.2],
        [-0.1, 0.8, -0.1],
        [-0.2, 0.3, 0.2],
        [-0.3, 0.5, 0.0],
    ]
)
