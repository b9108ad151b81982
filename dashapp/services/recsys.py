"""Recommendations page data: the saved recommenders (loaded once per worker), per-customer lists, campaigns.

Nothing here trains: it serves the ``recsys`` artifact. Credit products are held back from customers in the risk
model's highest band(s) when a risk model exists (``Settings.credit_blocked_bands``, from
``LEDGERLIGHT_CREDIT_BLOCKED_BANDS``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

import recsys
from bankdata import ArtifactError, ArtifactStore, get_settings
from dashapp.services import audit, validation
from dashapp.services import risk as risk_service
from dashapp.services.bank import get_bank
from dashapp.services.segments import neutralise_formulas

TRAIN_COMMAND = "ledgerlight recsys train"
MODEL_LABELS = {"popularity": "Popularity", "als": "Implicit ALS", "mf": "PyTorch MF"}
CAMPAIGN_COLUMNS = ("rank", "customer_id", "score", "age", "income", "region", "employment")
MAX_LIST = 12
MAX_CAMPAIGN = 100_000


class RecsysNotTrained(RuntimeError):
    """No ``recsys`` artifact yet (run ``ledgerlight recsys train``) or it cannot be read."""


@dataclass(frozen=True)
class CustomerView:
    """One customer's profile, held products and each model's recommendations."""

    customer_id: int
    profile: dict[str, object]
    held: pd.DataFrame  # product_id, name, family
    recommendations: dict[str, pd.DataFrame]  # model -> rank, product_id, name, family, score, reason
    credit_blocked: bool


def _root() -> str:
    return str(get_settings().checkpoints_dir)


def get_models() -> recsys.RecsysModels:
    """The latest trained recommenders. Raises ``RecsysNotTrained`` when there are none (or they fail to load)."""
    root = _root()
    version = ArtifactStore(root).latest(recsys.MODEL_NAME)
    if version is None:
        raise RecsysNotTrained("no recommender has been trained yet")
    return _load(root, version)


@functools.cache
def _load(root: str, version: str) -> recsys.RecsysModels:
    try:
        return recsys.RecsysModels.from_artifact(ArtifactStore(root).load(recsys.MODEL_NAME, version=version))
    except ArtifactError as exc:
        raise RecsysNotTrained(str(exc)) from exc


def _customers() -> pd.DataFrame:
    return get_bank().customers


@functools.cache
def _side_features(url: str) -> pd.DataFrame:
    return recsys.customer_side_features(get_bank(url).customers)


def side_features() -> pd.DataFrame:
    """Cold-start side features of every customer in the bank (age band, income band, region, employment)."""
    return _side_features(get_settings().database_url)


def credit_blocked_customers(bands: tuple[str, ...] | None = None) -> np.ndarray:
    """Customers not to be offered credit products (default bands from the settings); empty without a risk model."""
    bands = get_settings().credit_blocked_bands if bands is None else bands
    frame = risk_service.customer_risk_bands()
    if frame is None or not bands:
        return np.zeros(0, dtype=np.int64)
    return recsys.customers_in_bands(frame, bands)


def customer_options(search: str | None = None, limit: int = 30) -> list[dict[str, object]]:
    """Dropdown options for the customer search: ids starting with the typed digits (the first ``limit``)."""
    ids = _customers()["customer_id"].to_numpy()
    text = (search or "").strip()
    if text:
        if not text.isdigit():
            return []
        ids = ids[pd.Series(ids.astype(str)).str.startswith(text).to_numpy()]
    return [{"label": f"Customer {i}", "value": int(i)} for i in ids[:limit]]


def product_options() -> list[dict[str, object]]:
    """Dropdown options for the product view."""
    cat = get_models().catalogue
    return [
        {"label": f"{n} ({f})", "value": int(p)}
        for p, n, f in zip(cat["product_id"], cat["name"], cat["family"], strict=True)
    ]


def customer_view(customer_id: int, n: int = 5) -> CustomerView:
    """Profile, held products and top-``n`` from every model for one customer.

    Raises
    ------
    ValueError
        Unknown customer id or ``n`` outside 1..12.
    """
    if not 1 <= int(n) <= MAX_LIST:
        raise ValueError(f"list length must be between 1 and {MAX_LIST}, got {n}")
    customers = _customers()
    row = customers.loc[customers["customer_id"] == int(customer_id)]
    if row.empty:
        raise ValueError(f"no customer with id {customer_id}")
    models = get_models()
    blocked = credit_blocked_customers()
    recs = models.compare(int(customer_id), int(n), user_features=side_features(), blocked_customers=blocked)
    profile = {k: row.iloc[0][k] for k in ("age", "gender", "region", "income", "employment") if k in row.columns}
    return CustomerView(
        int(customer_id), profile, models.held(int(customer_id)), recs, bool(np.isin(customer_id, blocked))
    )


def campaign_request(product_id: object, n: object, model: object) -> tuple[int, int, str]:
    """A campaign's product, size and model from a request, checked: a product of the catalogue, 1 to
    :data:`MAX_CAMPAIGN` customers, one of :data:`MODEL_LABELS` (default ``mf``).

    Raises
    ------
    InputError
        Naming the field and why.
    """
    known = [int(p) for p in get_models().catalogue["product_id"]]
    product = validation.choice(validation.whole_number(product_id, "product", lo=0), "product", known)
    size = validation.whole_number(n, "campaign size", lo=1, hi=MAX_CAMPAIGN)
    return product, size, validation.choice(model, "model", list(MODEL_LABELS), default="mf")


def campaign(product_id: int, n: int = 100, model: str = "mf") -> pd.DataFrame:
    """The ``n`` customers most likely to take ``product_id`` (not holding it, not blocked from it), with attributes."""
    if not 1 <= int(n) <= MAX_CAMPAIGN:
        raise ValueError(f"campaign size must be between 1 and {MAX_CAMPAIGN:,}, got {n}")
    models = get_models()
    customers = _customers()
    frame = models.campaign(
        int(product_id),
        int(n),
        model=model,
        customer_ids=customers["customer_id"].to_numpy(),
        user_features=side_features(),
        blocked_customers=credit_blocked_customers(),
    )
    attrs = customers.drop(columns=[c for c in customers.columns if c in ("signup_date",)])
    out = frame.merge(attrs, on="customer_id", how="left")
    return out.loc[:, [c for c in CAMPAIGN_COLUMNS if c in out.columns]]


def campaign_export(product_id: int, n: int = 100, model: str = "mf") -> pd.DataFrame:
    """:func:`campaign` made safe for spreadsheets (text cells that start a formula are neutralised); audited with
    the product, model and the number of customers exported."""
    frame = neutralise_formulas(campaign(product_id, n, model))
    audit.served("export_campaign", f"campaign list for product {int(product_id)}",
                 {"model": model, "n": int(n), "rows": len(frame)})
    return frame


def comparison() -> pd.DataFrame:
    """The stored evaluation: one row per model (and the oracle), metric columns, plus ``k``."""
    models = get_models()
    frame = models.comparison()
    frame["model"] = frame["model"].map(lambda m: MODEL_LABELS.get(m, m))
    return frame


def metrics_k() -> int:
    """The cut-off ``k`` of the stored evaluation."""
    return int(get_models().metrics.get("k", 5))

