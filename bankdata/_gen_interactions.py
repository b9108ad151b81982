"""Generate take-up (true affinities and the purchases drawn with them) and the view -> click -> apply -> purchase
funnel around it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bankdata._catalogue import PRODUCT_LOADINGS, PRODUCTS
from bankdata._gen_calendar import SECONDS_PER_DAY, Window
from bankdata._gen_common import pack_keys, sigmoid, text_column, unpack_keys
from bankdata._gen_customers import Population
from bankdata._personas import persona_param

EVENTS: tuple[str, ...] = ("view", "click", "apply", "purchase")
TRAIT_SCALE = 0.7  # weight of the low-rank latent tastes in the affinity log-odds
PAIR_NOISE = 0.35  # sd of idiosyncratic customer x product noise


def products_table() -> pd.DataFrame:
    """The product catalogue: product_id, name, family."""
    names, families = zip(*PRODUCTS, strict=True)
    return pd.DataFrame(
        {
            "product_id": np.arange(1, len(PRODUCTS) + 1, dtype=np.int64),
            "name": pd.Series(names, dtype="str"),
            "family": pd.Series(families, dtype="str"),
        }
    )


#: Life stages (from age and employment) and their effect on each product's log-odds (columns follow PRODUCTS).
LIFE_STAGES: tuple[str, ...] = ("student", "starter", "family", "established", "retired")
LIFE_STAGE_EFFECT = np.array(
    [  # CA   Sav   Term  CC    Trav  PLoan Car   Mort  Fund  Pens  Home  Life
        [0.3, -0.2, -1.2, -0.3, -0.8, 0.2, -0.6, -2.0, -1.0, -1.5, -1.5, -1.5],  # student
        [0.0, 0.2, -0.6, 0.4, 0.0, 0.4, 0.5, -0.3, -0.4, -0.6, -0.6, -0.6],  # starter (< 30)
        [0.0, 0.0, -0.2, 0.2, 0.0, 0.3, 0.4, 1.0, 0.0, 0.4, 0.6, 0.8],  # family (30-49)
        [0.0, 0.2, 0.5, 0.0, 0.3, -0.2, 0.0, -0.2, 0.6, 0.8, 0.3, 0.2],  # established (50-64)
        [0.0, 0.3, 0.9, -0.5, -0.3, -0.8, -0.6, -1.8, 0.3, -1.5, 0.2, -1.2],  # retired (65+ or retired)
    ]
)
#: Products whose take-up is drawn first; holding one shifts the log-odds of the related products.
ANCHORS: tuple[str, ...] = ("Current account", "Mortgage", "Credit card")
HELD_EFFECT: dict[str, dict[str, float]] = {
    "Current account": {"Savings account": 0.6, "Personal loan": 0.5, "Premium travel card": 0.3,
                        "Investment fund": 0.3},
    "Mortgage": {"Home insurance": 1.8, "Life insurance": 1.2, "Personal loan": -0.5, "Term deposit": -0.4},
    "Credit card": {"Premium travel card": 1.2, "Personal loan": 0.6, "Car loan": 0.4},
}  # fmt: skip


@dataclass(frozen=True)
class TakeUp:
    """Who buys what in the window, and the probability each purchase was drawn with.

    Attributes
    ----------
    affinity : ndarray of shape (n_customers, n_products)
        Probability of buying each product: for an anchor product its own, for the others the probability given the
        anchors the customer actually bought (``truth.affinity``).
    purchase : ndarray of bool, same shape
        The draws: ``uniform < affinity``.
    """

    affinity: np.ndarray
    purchase: np.ndarray


def life_stage(age: np.ndarray, employment: np.ndarray) -> np.ndarray:
    """Index into :data:`LIFE_STAGES` per customer: students and retirees by employment, the rest by age."""
    stage = np.select([age < 30, age < 50, age < 65], [1, 2, 3], default=4)
    stage = np.where(employment == "student", 0, stage)
    return np.where(employment == "retired", 4, stage).astype(np.int8)


def _base_logit(rng: np.random.Generator, pop: Population) -> np.ndarray:
    """Log-odds before the held-product effects: persona, life stage, income, latent tastes and pair noise."""
    base = persona_param("products")
    logit = np.log(base / (1.0 - base))[pop.persona]
    age = pop.customers["age"].to_numpy()
    employment = pop.customers["employment"].astype("str").to_numpy()
    log_income = np.log(pop.customers["income"].to_numpy() / 40_000.0)
    col = {name: j for j, (name, _) in enumerate(PRODUCTS)}
    logit += LIFE_STAGE_EFFECT[life_stage(age, employment)]
    logit[:, col["Investment fund"]] += 0.6 * log_income
    logit[:, col["Premium travel card"]] += 0.4 * log_income
    logit[:, col["Savings account"]] += 0.3 * log_income
    logit[:, col["Personal loan"]] -= 0.3 * log_income
    logit += TRAIT_SCALE * pop.traits @ PRODUCT_LOADINGS.T
    logit += PAIR_NOISE * rng.standard_normal(logit.shape)
    return logit


def held_effect_matrix() -> np.ndarray:
    """Shift of each product's log-odds (columns) from holding each anchor (rows follow :data:`ANCHORS`)."""
    col = {name: j for j, (name, _) in enumerate(PRODUCTS)}
    out = np.zeros((len(ANCHORS), len(PRODUCTS)))
    for i, anchor in enumerate(ANCHORS):
        for product, effect in HELD_EFFECT[anchor].items():
            out[i, col[product]] = effect
    return out


def draw_take_up(rng: np.random.Generator, pop: Population) -> TakeUp:
    """Draw the anchors' take-up, then every other product's given the anchors held (one uniform per pair)."""
    logit = _base_logit(rng, pop)
    uniform = rng.random(logit.shape)
    col = {name: j for j, (name, _) in enumerate(PRODUCTS)}
    anchors = np.array([col[name] for name in ANCHORS])
    held_anchor = uniform[:, anchors] < sigmoid(logit[:, anchors])
    shift = held_anchor.astype(np.float64) @ held_effect_matrix()
    shift[:, anchors] = 0.0  # an anchor's own probability never depends on the other anchors
    affinity = sigmoid(logit + shift)
    return TakeUp(affinity=affinity, purchase=uniform < affinity)


@dataclass(frozen=True)
class _Funnel:
    """Per (customer, product) pair: which funnel steps happen and how many extra views."""

    click: np.ndarray
    apply: np.ndarray
    purchase: np.ndarray
    extra_views: np.ndarray


def _draw_funnel(rng: np.random.Generator, affinity: np.ndarray, purchase: np.ndarray) -> _Funnel:
    apply = purchase | (rng.random(affinity.shape) < 0.25 * affinity)
    click = apply | (rng.random(affinity.shape) < 0.5 * affinity + 0.03)
    extra_views = rng.poisson(0.1 + 0.6 * affinity).astype(np.int8)
    return _Funnel(click, apply, purchase, extra_views)


def generate_interactions(
    rng: np.random.Generator, pop: Population, window: Window, take_up: TakeUp
) -> pd.DataFrame:
    """Events of every customer x product pair, sorted by customer and time; purchases are ``take_up.purchase``.

    A pair that clicks starts a journey at a uniform time (after signup): a view, then a click minutes later, then
    an application and a purchase days later where they happen. Extra views fall anywhere in the window.
    """
    affinity = take_up.affinity
    n_products = affinity.shape[1]
    if n_products > _MAX_PRODUCTS:
        raise ValueError(f"the demo catalogue may hold at most {_MAX_PRODUCTS} products, got {n_products}")
    funnel = _draw_funnel(rng, affinity, take_up.purchase)

    journey = np.flatnonzero(funnel.click.ravel())  # flat pair index = customer * n_products + product
    j_cust = journey // n_products
    start = window.sample_seconds(rng, np.ones(window.n_days), pop.first_day[j_cust])
    t_click = start + rng.exponential(1800.0, len(journey)).astype(np.int64) + 30
    t_apply = t_click + rng.exponential(2.0 * SECONDS_PER_DAY, len(journey)).astype(np.int64) + 60
    t_buy = t_apply + rng.exponential(4.0 * SECONDS_PER_DAY, len(journey)).astype(np.int64) + 60
    applied = funnel.apply.ravel()[journey]
    bought = funnel.purchase.ravel()[journey]

    extra = np.repeat(np.arange(affinity.size, dtype=np.int64), funnel.extra_views.ravel())
    t_extra = window.sample_seconds(rng, np.ones(window.n_days), pop.first_day[extra // n_products])

    key = np.concatenate(
        [
            _pack(window, n_products, journey, start, 0),
            _pack(window, n_products, journey, t_click, 1),
            _pack(window, n_products, journey[applied], t_apply[applied], 2),
            _pack(window, n_products, journey[bought], t_buy[bought], 3),
            _pack(window, n_products, extra, t_extra, 0),
        ]
    )
    key.sort()  # by customer, time, funnel step, product
    cust, seconds, event, product = unpack_keys(key, _bits(window))
    return pd.DataFrame(
        {
            "customer_id": cust + 1,
            "product_id": product + 1,
            "ts": window.to_datetime(seconds),
            "event": text_column(event, EVENTS),
        },
        copy=False,
    )


_PRODUCT_BITS, _EVENT_BITS = 4, 2
_MAX_PRODUCTS = 1 << _PRODUCT_BITS


def _bits(window: Window) -> tuple[int, ...]:
    return (0, window.second_bits, _EVENT_BITS, _PRODUCT_BITS)


def _pack(window: Window, n_products: int, pair: np.ndarray, seconds: np.ndarray, event: int) -> np.ndarray:
    """One sortable int64 per event: customer, second (clipped to the window), funnel step, product."""
    cust, product = np.divmod(pair, n_products)
    when = np.minimum(seconds, window.n_seconds - 1)
    return pack_keys((cust, when, np.full(len(pair), event, dtype=np.int64), product), _bits(window))
