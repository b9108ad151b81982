"""Publishing: what serving reads of one trained ``recsys`` version, written at training time.

Two serving tables, keyed by model version:

- :data:`RECOMMENDATIONS_TABLE`: one row per (model, customer) with the customer's ranked products (those not held)
  as compact text lists (``products`` "3,1,9", ``scores`` "0.91,0.52,0.1"), deep enough that holding back credit
  products still leaves :data:`LIST_DEPTH` of the others; the ``mf`` rows also carry the customer's side-feature
  tokens (``features``), from which a page explains one customer's list without the bank's side features.
  One row per rank would be 12x the rows (36M at 1M customers); one row per customer is 3M short rows.
- :data:`CAMPAIGN_TABLE`: per model and product, the customers not holding it ranked by score (best first, ties by
  customer id), at most :data:`MAX_CAMPAIGN` of them.

The evidence document ``serving`` holds the small things a page needs (catalogue, item popularity, co-occurrence
counts, the MF reason factors and EASE's item-item weights, the models published and the best of them by held-out
nDCG, the evaluation): a worker loads it once per version and nothing that grows with
the bank. Credit products are not removed here: the risk model (and its blocked bands) may change after publishing,
so serving applies the credit rule at query time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import Artifact, ArtifactError, Bank, read_evidence, served_table, write_evidence, write_served
from recsys.base import CHUNK_USERS, Recommender, top_n
from recsys.ease import EASERecommender
from recsys.explain import cooccurrence
from recsys.features import customer_side_features
from recsys.rules import CREDIT_FAMILIES
from recsys.train import CATALOGUE_FILE, MODEL_NAME, catalogue_frame

log = logging.getLogger("ledgerlight.recsys")

#: every model a version may serve, in the order pages show them
MODEL_FILES = ("popularity", "als", "mf", "ease")
#: the models every version has; the others (EASE, added later) are served when their file is there
REQUIRED_MODELS = ("popularity", "als", "mf")
#: the longest list a page shows
LIST_DEPTH = 12
#: the most customers a campaign list may hold (per product and model)
MAX_CAMPAIGN = 100_000
#: evidence kind of the document :func:`serving_evidence` reads
EVIDENCE_KIND = "serving"

RECOMMENDATIONS_TABLE = served_table(
    "recommendations",
    sa.Column("model", sa.String(20), nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("products", sa.Text, nullable=False),
    sa.Column("scores", sa.Text, nullable=False),
    sa.Column("features", sa.Text, nullable=True),
    indexes=[("customer_id", "model")],
)
CAMPAIGN_TABLE = served_table(
    "campaign_candidates",
    sa.Column("model", sa.String(20), nullable=False),
    sa.Column("product_id", sa.BigInteger, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    indexes=[("model", "product_id", "rank")],
)


def load_models(artifact: Artifact) -> dict[str, Recommender]:
    """The fitted recommenders of an artifact (``ArtifactError`` naming a file that does not load); an older version
    without ``ease.npz`` loads without EASE."""
    models: dict[str, Recommender] = {}
    for name in MODEL_FILES:
        path = artifact.path / f"{name}.npz"
        if name not in REQUIRED_MODELS and not path.exists():
            continue
        try:
            models[name] = Recommender.load(path)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise ArtifactError(f"recsys {artifact.version}: cannot load {path.name} ({exc})") from exc
    return models


def artifact_catalogue(artifact: Artifact, item_ids: np.ndarray) -> pd.DataFrame:
    """product_id, name, family of the artifact's catalogue, in the models' item order."""
    try:
        catalogue = catalogue_frame(artifact.load_json(CATALOGUE_FILE))
    except (ValueError, KeyError) as exc:
        raise ArtifactError(f"recsys {artifact.version}: bad {CATALOGUE_FILE} ({exc})") from exc
    catalogue = catalogue.set_index("product_id").reindex(item_ids)
    if catalogue["name"].isna().any():
        raise ArtifactError(f"recsys {artifact.version}: {CATALOGUE_FILE} lacks products the models know")
    return catalogue.reset_index()


def list_depth(families: Sequence[str], credit_families: Sequence[str] = CREDIT_FAMILIES) -> int:
    """How many products each stored list keeps: :data:`LIST_DEPTH` plus the credit products (held back from some
    customers at serving time), at most the catalogue."""
    n_credit = int(np.isin(np.asarray(families, dtype=str), list(credit_families)).sum())
    return min(len(families), LIST_DEPTH + n_credit)


def _join_rows(cells: np.ndarray) -> list[str]:
    """Each row of a 2-D array of strings joined by commas, empty cells (padding at the end) left out."""
    return [",".join(row).rstrip(",") for row in cells.tolist()]


def _score_text(scores: np.ndarray) -> np.ndarray:
    """float32 scores as short exact-enough text ("%.6g"); -inf (padding) as ""."""
    out = np.char.mod("%.6g", np.where(np.isfinite(scores), scores, 0.0).astype(np.float64))
    return np.where(np.isfinite(scores), out, "")


def _model_outputs(
    name: str, rec: Recommender, ids: np.ndarray, side: pd.DataFrame, depth: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """One model's recommendation rows for ``ids`` and its score matrix (held products at -inf)."""
    n_items = rec.n_items
    scores = np.empty((len(ids), n_items), dtype=np.float32)
    id_text = np.array([str(i) for i in rec.item_ids_.tolist()] + [""], dtype=object)
    products: list[str] = []
    score_text: list[str] = []
    for start in range(0, len(ids), CHUNK_USERS):
        part = slice(start, start + CHUNK_USERS)
        s = rec.score(ids[part], side)
        s[rec.held_mask(ids[part])] = -np.inf
        scores[part] = s
        cols, vals = top_n(s, depth)
        products += _join_rows(id_text[cols])  # -1 (padding) picks the last entry, ""
        score_text += _join_rows(_score_text(vals).astype(object))
    frame = pd.DataFrame({"model": name, "customer_id": ids, "products": products, "scores": score_text})
    if name == "mf" and getattr(rec, "feature_names_", None):
        codes = rec._encode(ids, side)  # type: ignore[attr-defined]
        frame["features"] = _join_rows(codes.astype(str).astype(object))
    else:
        frame["features"] = None
    return frame, scores


def _campaign_rows(name: str, item_ids: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Per product, the customers not holding it by score (ties by customer id), at most :data:`MAX_CAMPAIGN`."""
    parts = []
    for col, product in enumerate(item_ids):
        column = scores[:, col]
        candidates = np.flatnonzero(np.isfinite(column))
        order = candidates[np.lexsort((ids[candidates], -column[candidates]))][:MAX_CAMPAIGN]
        parts.append(
            pd.DataFrame(
                {
                    "model": name,
                    "product_id": np.int64(product),
                    "rank": np.arange(1, len(order) + 1, dtype=np.int64),
                    "customer_id": ids[order],
                    "score": column[order].astype(np.float64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _mf_reasons(rec: Recommender) -> dict[str, object] | None:
    if not getattr(rec, "feature_names_", None):
        return None
    return {
        "feature_names": list(rec.feature_names_),  # type: ignore[attr-defined]
        "vocab": [[str(v) for v in vocab] for vocab in rec.vocab_],  # type: ignore[attr-defined]
        "offsets": rec.offsets_,  # type: ignore[attr-defined]
        "token_factors": rec.token_factors_,  # type: ignore[attr-defined]
        "item_factors": rec.item_factors_,  # type: ignore[attr-defined]
    }


def _ease_reasons(rec: Recommender | None) -> dict[str, object] | None:
    """EASE's item x item weights (row: a held product, column: the product it points to), for the reasons."""
    if not isinstance(rec, EASERecommender):
        return None
    return {"item_weights": rec.weights_[: rec.n_items]}


def best_model(metrics: Mapping[str, Any], names: Sequence[str], default: str = "mf") -> str:
    """The model of ``names`` with the best held-out nDCG@k in an evaluation report (``metrics``: a version's
    metadata ``metrics``, ``k`` and ``models``); ties go to the earlier name, a report without the figure gives
    ``default`` (or the first name when ``default`` is not among them)."""
    if not names:
        raise ValueError("best_model needs at least one model name")
    key = f"ndcg@{int(metrics.get('k', 5))}"
    scored = {
        n: float(m[key])
        for n, m in (metrics.get("models") or {}).items()
        if n in names
        and isinstance(m, Mapping)
        and isinstance(m.get(key), int | float)
        and np.isfinite(m[key])
    }
    if scored:
        return max(names, key=lambda n: (scored.get(n, -np.inf), -list(names).index(n)))
    return default if default in names else names[0]


def publish_customers(artifact: Artifact, customers: pd.DataFrame, url: str | None = None) -> dict[str, int]:
    """Write the serving rows and evidence of one ``recsys`` version for ``customers`` (the bank's customers table:
    ``customer_id``, ``age``, ``income`` and the optional side-feature columns); returns rows written per table.

    Customers without history are served as cold starts from their side features, as the models serve them.
    """
    if artifact.model != MODEL_NAME:
        raise ValueError(f"not a {MODEL_NAME} artifact: {artifact.model}/{artifact.version}")
    models = load_models(artifact)
    item_ids = models["popularity"].item_ids_
    catalogue = artifact_catalogue(artifact, item_ids)
    ids = np.unique(customers["customer_id"].to_numpy(dtype=np.int64))
    side = customer_side_features(customers)
    depth = list_depth(catalogue["family"].tolist())
    lists, campaigns = [], []
    for name, rec in models.items():
        log.info("publishing %s: %d customers x %d products", name, len(ids), rec.n_items)
        frame, scores = _model_outputs(name, rec, ids, side, depth)
        lists.append(frame)
        campaigns.append(_campaign_rows(name, rec.item_ids_, ids, scores))
        del scores
    written = {
        RECOMMENDATIONS_TABLE.name: write_served(
            RECOMMENDATIONS_TABLE, artifact.version, pd.concat(lists, ignore_index=True), url
        ),
        CAMPAIGN_TABLE.name: write_served(
            CAMPAIGN_TABLE, artifact.version, pd.concat(campaigns, ignore_index=True), url
        ),
    }
    write_evidence(
        MODEL_NAME,
        artifact.version,
        {
            EVIDENCE_KIND: {
                "catalogue": catalogue.astype({"name": "str", "family": "str"}).to_dict(orient="records"),
                "item_popularity": {name: rec.item_popularity_ for name, rec in models.items()},
                "cooccurrence": cooccurrence(models["popularity"].held_),
                "mf": _mf_reasons(models["mf"]),
                "ease": _ease_reasons(models.get("ease")),
                "models": list(models),
                "best_model": best_model(artifact.metadata.get("metrics", {}), list(models)),
                "metrics": dict(artifact.metadata.get("metrics", {})),
                "depth": depth,
                "credit_families": list(CREDIT_FAMILIES),
                "n_customers": len(ids),
            }
        },
        url,
    )
    return written


def customer_rows(
    models: Mapping[str, Recommender], customer_ids: np.ndarray, depth: int, side: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The :data:`RECOMMENDATIONS_TABLE` rows (model, customer_id, products, scores, features) of ``models`` for
    ``customer_ids``, exactly as publishing writes them (``depth``: the published version's list depth)."""
    ids = np.unique(np.asarray(customer_ids, dtype=np.int64))
    return pd.concat(
        [_model_outputs(name, rec, ids, side, depth)[0] for name, rec in models.items()], ignore_index=True
    )


def publish(artifact: Artifact, bank: Bank, url: str | None = None) -> dict[str, int]:
    """Write what serving reads for one trained ``recsys`` version (see the module docstring); returns rows written
    per serving table. Only the bank's customers are read (held products come from the models)."""
    return publish_customers(artifact, bank.customers, url)


def serving_evidence(version: str, url: str | None = None) -> dict | None:
    """The ``serving`` evidence document of a published version, or None when it was never published."""
    return read_evidence(MODEL_NAME, version, EVIDENCE_KIND, url)
