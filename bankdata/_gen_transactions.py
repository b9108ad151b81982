"""Generate the transactions log: seasonal card spending and transfers, plus monthly salary and pension credits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankdata._catalogue import (
    CATEGORIES,
    CATEGORY_AMOUNT,
    CATEGORY_CHANNEL,
    CHANNELS,
    DIRECTIONS,
    DISCRETIONARY,
    EMPLOYMENTS,
    INCOMING_TRANSFER_SHARE,
    SALARY,
    SPEND_CATEGORIES,
    TRANSFER,
)
from bankdata._gen_calendar import SECONDS_PER_DAY, Window
from bankdata._gen_common import pack_keys, sample_by_group, text_column, unpack_keys
from bankdata._gen_customers import Population
from bankdata._personas import persona_param

_CATEGORY_BITS = 4
_EARNERS = (EMPLOYMENTS.index("employed"), EMPLOYMENTS.index("self_employed"), EMPLOYMENTS.index("retired"))


def generate_transactions(
    rng: np.random.Generator, pop: Population, window: Window, months: int
) -> pd.DataFrame:
    """Draw every customer's transactions over the window, sorted by customer and time."""
    income = pop.customers["income"].to_numpy()
    earner = _salary_earners(rng, pop)
    cust, seconds, category = _sorted_rows(
        window, _spending(rng, pop, window, months), _salaries(rng, pop, window, earner)
    )
    amount = _amounts(rng, cust, category, income, pop.customers["employment"].to_numpy())
    credit = (category == SALARY) | (
        (category == TRANSFER) & (rng.random(len(cust)) < INCOMING_TRANSFER_SHARE)
    )
    channel_probs = persona_param("channels")[:, None, :] * CATEGORY_CHANNEL[None, :, :]
    channel = sample_by_group(
        rng,
        channel_probs.reshape(-1, len(CHANNELS)),
        pop.persona[cust].astype(np.int16) * len(CATEGORIES) + category,
    )
    return pd.DataFrame(
        {
            "customer_id": cust + 1,
            "ts": window.to_datetime(seconds),
            "amount": amount,
            "category": text_column(category, CATEGORIES),
            "channel": text_column(channel, CHANNELS),
            "direction": text_column(credit.astype(np.int8), DIRECTIONS),
        },
        copy=False,
    )


_Rows = tuple[np.ndarray, np.ndarray, np.ndarray]  # customer index, seconds from window start, category


def _sorted_rows(window: Window, *parts: _Rows) -> _Rows:
    """Concatenate row parts and order them by customer, time and category (one packed in-place sort)."""
    bits = (0, window.second_bits, _CATEGORY_BITS)
    key = np.concatenate([pack_keys(part, bits) for part in parts])
    key.sort()
    cust, seconds, category = unpack_keys(key, bits)
    return cust, seconds, category.astype(np.int8)


def _spending(rng: np.random.Generator, pop: Population, window: Window, months: int) -> _Rows:
    """Card spending and transfers: Poisson counts per customer and category, seasonal timestamps."""
    n = len(pop.persona)
    mix = persona_param("categories")
    mix = mix / mix.sum(axis=1, keepdims=True)
    rate = persona_param("spend_rate")[pop.persona] * months * window.active_share(pop.first_day)
    counts = rng.poisson(rate[None, :] * mix[pop.persona].T)  # (category, customer)
    per_category = counts.sum(axis=1)
    cust = np.repeat(np.tile(np.arange(n, dtype=np.int64), len(SPEND_CATEGORIES)), counts.ravel())
    category = np.repeat(np.arange(len(SPEND_CATEGORIES), dtype=np.int64), per_category)
    bounds = np.concatenate([[0], np.cumsum(per_category)])

    seconds = np.empty(len(cust), dtype=np.int64)
    for c, name in enumerate(SPEND_CATEGORIES):  # loops over nine categories, never over rows
        rows = slice(bounds[c], bounds[c + 1])
        profile = "travel" if name == "travel" else "discretionary" if name in DISCRETIONARY else "essential"
        seconds[rows] = window.sample_seconds(rng, window.day_weights(profile), pop.first_day[cust[rows]])
    return cust, seconds, category


def _salary_earners(rng: np.random.Generator, pop: Population) -> np.ndarray:
    """Indices of the customers whose salary or pension is paid into the bank."""
    employment = pop.customers["employment"].to_numpy()
    paid_here = np.isin(employment, [EMPLOYMENTS[e] for e in _EARNERS])
    paid_here &= rng.random(len(employment)) < persona_param("salary_share")[pop.persona]
    return np.flatnonzero(paid_here)


def _salaries(rng: np.random.Generator, pop: Population, window: Window, earner: np.ndarray) -> _Rows:
    """Monthly salary (25th, or the Friday before), self-employed (own fixed day) and pension (1st) credits."""
    employment = pop.customers["employment"].to_numpy()[earner]
    retired = employment == "retired"
    payday = np.where(
        retired, 1, np.where(employment == "self_employed", rng.integers(1, 29, len(earner)), 25)
    )

    month_start = window.month_starts()
    day = month_start[None, :] + payday[:, None] - 1  # (earner, month), days from the window start
    weekday = (window.start.dayofweek + day) % 7
    day = day - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)
    day = np.where(day < month_start[None, :], day + 3, day)  # a 1st that falls on a weekend moves to Monday
    paid = (day >= pop.first_day[earner][:, None]) & (day < window.n_days)

    idx, m = np.nonzero(paid)
    seconds = day[idx, m].astype(np.int64) * SECONDS_PER_DAY + 6 * 3600 + rng.integers(0, 3600, len(idx))
    return earner[idx].astype(np.int64), seconds, np.full(len(idx), SALARY, dtype=np.int64)


def _amounts(
    rng: np.random.Generator,
    cust: np.ndarray,
    category: np.ndarray,
    income: np.ndarray,
    employment: np.ndarray,
) -> np.ndarray:
    """Lognormal amounts: by category scaled by income for spending; net monthly pay for salary credits."""
    median, sigma = np.array([CATEGORY_AMOUNT.get(c, (1.0, 0.0)) for c in CATEGORIES]).T
    loc = np.log(median)[category] + 0.3 * np.log(income / 40_000.0)[cust]
    scale = sigma[category]
    salary = np.flatnonzero(category == SALARY)
    loc[salary] = np.log(income / 12.0 * np.where(employment == "retired", 0.9, 0.72))[cust[salary]]
    scale[salary] = np.where(employment == "self_employed", 0.35, 0.01)[cust[salary]]
    out = rng.standard_normal(len(cust))
    out *= scale
    out += loc
    np.exp(out, out=out)
    return np.maximum(np.round(out, 2), 0.01)
