"""Product recommendations: interactions, splits, popularity, implicit ALS, PyTorch MF, shared metrics, serving.

Imports ``bankdata`` and third-party libraries only (never Dash, never ``risk``). See ``docs/recsys.md``.
Importing the package imports neither torch nor implicit: they load when a model is fitted (or MF's ``state_dict``
is saved or read), so a web worker that only reads published rows never pays for them.
"""

from recsys.als import ALSRecommender
from recsys.base import NotFittedError, Recommender, top_n
from recsys.ease import EASERecommender
from recsys.evaluate import default_models, evaluate_models, evaluate_recommender, oracle_metrics
from recsys.explain import also_took, cooccurrence, explain, strongest_link
from recsys.features import customer_side_features, income_edges
from recsys.incremental import affected_history, fold_in_users, partial_fit_users, users_only, with_held
from recsys.interactions import (
    EVENT_WEIGHTS,
    InteractionMatrix,
    bank_interactions,
    read_interactions,
    validate_interactions,
)
from recsys.metrics import (
    catalogue_coverage,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
)
from recsys.mf import MFRecommender
from recsys.popularity import PopularityRecommender
from recsys.publishing import (
    CAMPAIGN_TABLE,
    LIST_DEPTH,
    MAX_CAMPAIGN,
    RECOMMENDATIONS_TABLE,
    best_model,
    customer_rows,
    publish,
    publish_customers,
    serving_evidence,
)
from recsys.rules import CREDIT_FAMILIES, blocked_mask, customers_in_bands
from recsys.serving import RecsysModels
from recsys.split import per_user_random_split, temporal_split
from recsys.train import MODEL_NAME, evaluate_bank, fit_bank_models, train_from_bank

__all__ = [
    "CAMPAIGN_TABLE",
    "LIST_DEPTH",
    "MAX_CAMPAIGN",
    "RECOMMENDATIONS_TABLE",
    "best_model",
    "publish",
    "publish_customers",
    "customer_rows",
    "serving_evidence",
    "affected_history",
    "fold_in_users",
    "partial_fit_users",
    "users_only",
    "with_held",
    "CREDIT_FAMILIES",
    "EVENT_WEIGHTS",
    "MODEL_NAME",
    "ALSRecommender",
    "EASERecommender",
    "InteractionMatrix",
    "MFRecommender",
    "NotFittedError",
    "PopularityRecommender",
    "Recommender",
    "RecsysModels",
    "also_took",
    "bank_interactions",
    "blocked_mask",
    "catalogue_coverage",
    "cooccurrence",
    "customer_side_features",
    "income_edges",
    "customers_in_bands",
    "default_models",
    "evaluate_bank",
    "evaluate_models",
    "evaluate_recommender",
    "explain",
    "fit_bank_models",
    "hit_rate_at_k",
    "map_at_k",
    "ndcg_at_k",
    "oracle_metrics",
    "per_user_random_split",
    "precision_at_k",
    "ranking_metrics",
    "read_interactions",
    "recall_at_k",
    "strongest_link",
    "temporal_split",
    "top_n",
    "train_from_bank",
    "validate_interactions",
]
