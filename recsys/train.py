"""Train every recommender on a bank, evaluate them on a holdout, and save one ``recsys`` artifact."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankdata import Artifact, ArtifactStore, Bank, fingerprint, population_of_bank
from recsys.base import Recommender
from recsys.evaluate import chosen_models, default_grids, default_models, evaluate_models
from recsys.features import customer_side_features, side_feature_imputation
from recsys.interactions import InteractionMatrix, bank_interactions, id_array
from recsys.mf import MFRecommender

log = logging.getLogger("ledgerlight.recsys")

MODEL_NAME = "recsys"
BANK_K = 5  # 12 products: a top-5 list is what a banker can act on
#: the holdout evaluation uses a seeded random sample of at most this many customers (the fit uses every customer)
EVAL_CUSTOMERS = 200_000
CATALOGUE_FILE = "catalogue.json"


def held_matrix(bank: Bank, matrix: InteractionMatrix) -> InteractionMatrix:
    """Purchases (the products each customer holds) on the rows and columns of ``matrix``."""
    held = bank.held_products().rename(columns={"customer_id": "user_id", "product_id": "item_id"})
    held = held[np.isin(held["user_id"].to_numpy(), matrix.user_ids)].assign(weight=1.0)
    return InteractionMatrix.from_frame(held, user_ids=matrix.user_ids, item_ids=matrix.item_ids)


def fit_bank_models(
    bank: Bank, *, quick: bool = False, tuning: dict[str, dict] | None = None
) -> dict[str, Recommender]:
    """Fit the three models on all of the bank's interactions; held products are the purchases.

    ``tuning`` is an evaluation report's ``tuning`` (parameters chosen on its validation split); default: the
    fixed defaults of :func:`~recsys.evaluate.default_models`.
    """
    frame = bank_interactions(bank)
    matrix = InteractionMatrix.from_frame(frame, item_ids=bank.products["product_id"].to_numpy())
    held = held_matrix(bank, matrix).matrix
    side = customer_side_features(bank.customers)
    models = chosen_models(default_models(len(matrix.item_ids), quick=quick), tuning)
    for name, model in models.items():
        log.info("fitting %s on %d customers x %d products", name, *matrix.shape)
        model.fit(matrix, held=held, user_features=side)
    return models


def evaluate_bank(
    bank: Bank,
    *,
    quick: bool = False,
    k: int = BANK_K,
    seed: int = 42,
    max_customers: int = EVAL_CUSTOMERS,
    tune: bool = True,
) -> dict[str, Any]:
    """Per-user 75/25 holdout of the bank's interactions; every model plus the oracle (true affinities).

    With ``tune``, ALS's settings are chosen on a validation split of the training side (report ``tuning``).

    A bank of more than ``max_customers`` customers is evaluated on a seeded random sample of that many (the
    report's ``split.evaluated_customers`` and ``split.sampled_from`` say so): the metrics are per-customer
    averages, so a sample of 200,000 estimates them to the third decimal.
    """
    frame = bank_interactions(bank)
    customers = bank.customers["customer_id"].to_numpy()
    sampled = len(customers) > max_customers
    if sampled:
        customers = np.sort(np.random.default_rng(seed).choice(customers, size=max_customers, replace=False))
        frame = frame[np.isin(frame["user_id"].to_numpy(), customers)]
    affinity = None
    if bank.truth is not None:
        affinity = bank.truth.affinity.rename(columns={"customer_id": "user_id", "product_id": "item_id"})
        if sampled:
            affinity = affinity[np.isin(affinity["user_id"].to_numpy(), customers)]
    models = default_models(len(bank.products), quick=quick)
    report = evaluate_models(
        frame,
        models,
        k=k,
        seed=seed,
        user_features=customer_side_features(bank.customers),
        affinity=affinity,
        grids=default_grids(len(bank.products)) if tune else None,
    )
    report["split"] |= {"evaluated_customers": len(customers), "sampled_from": int(bank.n_customers)}
    return report


def train_from_bank(bank: Bank, store: ArtifactStore, *, quick: bool = False, tune: bool = True) -> Artifact:
    """Evaluate, fit on everything and save the ``recsys`` artifact (factors as ``.npz``, MF ``state_dict``).

    The fit on everything uses the parameters the evaluation chose on its validation split.
    """
    report = evaluate_bank(bank, quick=quick, tune=tune)
    models = fit_bank_models(bank, quick=quick, tuning=report["tuning"])
    catalogue = bank.products[["product_id", "name", "family"]]

    def write(folder: Path) -> None:
        for name, model in models.items():
            model.save(folder / f"{name}.npz")
        mf = models["mf"]
        if isinstance(mf, MFRecommender):
            mf.save_torch(folder / "mf.pt")
        rows = catalogue.astype({"name": "str", "family": "str"}).to_dict(orient="records")
        (folder / CATALOGUE_FILE).write_text(json.dumps(rows, default=int), encoding="utf-8")

    side = customer_side_features(bank.customers)
    return store.save(
        MODEL_NAME,
        write,
        params={name: model.get_params() for name, model in models.items()},
        metrics={"k": BANK_K, **report},
        features={col: "category" for col in side.columns},
        data_fingerprint=fingerprint(bank.interactions),
        row_count=len(bank.interactions),
        extra={
            "models": list(models),
            "n_customers": int(bank.n_customers),
            "n_products": len(catalogue),
            "imputation": side_feature_imputation(bank.customers),
            "population": population_of_bank(bank),
        },
    )


def catalogue_frame(rows: list[dict]) -> pd.DataFrame:
    """The product catalogue saved with the artifact, as a DataFrame."""
    frame = pd.DataFrame(rows)
    missing = {"product_id", "name", "family"} - set(frame.columns)
    if missing:
        raise ValueError(f"{CATALOGUE_FILE}: missing field(s) {sorted(missing)}")
    frame = frame.astype({"name": "str", "family": "str"})
    frame["product_id"] = id_array(frame["product_id"])  # int64, or text product codes
    return frame
