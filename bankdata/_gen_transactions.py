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
from bankdata._gen_common import expand, sample_by_group, text_column
from bankdata._gen_customers import Population
from bankdata._personas import persona_param

_EARNERS = (EMPLOYMENTS.index("employed"), EMPLOYMENTS.index("self_employed"), EMPLOYMENTS.index("retired"))


def generate_transactions(
    rng: np.random.Generator, pop: Population, window: Window, months: int
) -> pd.DataFrame:
    """Draw every customer's transactions over the window, sorted by customer and time."""
    income = pop.customers["income"].to_numpy()
    cust_s, cat_s, sec_s, amount_s = _spending(rng, pop, window, months, income)
    cust_p, sec_p, amount_p = _salaries(rng, pop, window, income)

    cust = np.concatenate([cust_s, cust_p])
    category = np.concatenate([cat_s, np.full(len(cust_p), SALARY, dtype=np.int8)])
    seconds = np.concatenate([sec_s, sec_p])
    amount = np.concatenate([amount_s, amount_p])
    del cust_s, cat_s, sec_s, amount_s, cust_p, sec_p, amount_p

    order = np.argsort(cust * window.n_seconds + seconds)
    cust, category, seconds, amount = cust[order], category[order], seconds[order], amount[order]
    del order

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


def _spending(
    rng: np.random.Generator, pop: Population, window: Window, months: int, income: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Card spending and transfers: Poisson counts per customer and category, seasonal timestamps."""
    n = len(income)
    mix = persona_param("categories")
    mix = mix / mix.sum(axis=1, keepdims=True)
    rate = persona_param("spend_rate")[pop.persona] * months * window.active_share(pop.first_day)
    counts = rng.poisson(rate[None, :] * mix[pop.persona].T)  # (category, customer)
    owner = expand(counts.ravel())
    cust, category = owner % n, (owner // n).astype(np.int8)
    del owner
    bounds = np.concatenate([[0], np.cumsum(counts.sum(axis=1))])

    seconds = np.empty(len(cust), dtype=np.int64)
    log_amount = np.empty(len(cust), dtype=np.float64)
    income_scale = 0.3 * np.log(income / 40_000.0)
    for c, name in enumerate(SPEND_CATEGORIES):  # loops over nine categories, never over rows
        rows = slice(bounds[c], bounds[c + 1])
        profile = "travel" if name == "travel" else "discretionary" if name in DISCRETIONARY else "essential"
        seconds[rows] = window.sample_seconds(rng, window.day_weights(profile), pop.first_day[cust[rows]])
        median, sigma = CATEGORY_AMOUNT[name]
        log_amount[rows] = (
            np.log(median) + income_scale[cust[rows]] + sigma * rng.standard_normal(len(seconds[rows]))
        )
    amount = np.maximum(np.round(np.exp(log_amount), 2), 0.01)
    return cust, category, seconds, amount


def _salaries(
    rng: np.random.Generator, pop: Population, window: Window, income: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly salary (25th, or the Friday before) and pension (1st) credits of the customers paid here."""
    employment = pop.customers["employment"].to_numpy()
    paid_here = np.isin(employment, [EMPLOYMENTS[e] for e in _EARNERS])
    paid_here &= rng.random(len(income)) < persona_param("salary_share")[pop.persona]
    earner = np.flatnonzero(paid_here)
    retired = employment[earner] == "retired"
    self_employed = employment[earner] == "self_employed"
    payday = np.where(retired, 1, np.where(self_employed, rng.integers(1, 29, len(earner)), 25))

    month_start = np.flatnonzero(window.days.day.to_numpy() == 1)
    day = month_start[None, :] + payday[:, None] - 1  # (earner, month)
    weekday = window.days.dayofweek.to_numpy()[np.minimum(day, window.n_days - 1)]
    day = day - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)
    day = np.where(day < month_start[None, :], day + 3, day)  # a 1st that falls on a weekend moves to Monday
    paid = (day >= pop.first_day[earner][:, None]) & (day < window.n_days)

    idx, m = np.nonzero(paid)
    cust = earner[idx]
    net = income[cust] / 12.0 * np.where(retired[idx], 0.9, 0.72)
    noise = np.where(self_employed[idx], 0.35, 0.01)
    amount = np.round(net * np.exp(noise * rng.standard_normal(len(cust))), 2)
    seconds = day[idx, m].astype(np.int64) * SECONDS_PER_DAY + 6 * 3600 + rng.integers(0, 3600, len(cust))
    return cust, seconds, np.maximum(amount, 0.01)
