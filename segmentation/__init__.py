"""Customer segmentation: behavioural features, K-Means with k chosen by evidence, a 2D PCA view, profiles and
readable names, and assignment of new customers. Imports ``bankdata`` and third-party libraries only (never Dash).
"""

from segmentation.artifact import MODEL_NAME, Segmentation, assign, load_segmentation, load_served_model
from segmentation.evaluate import evaluate_bank, evaluate_features
from segmentation.features import FEATURE_PATTERNS, FEATURES, bank_features, customer_features
from segmentation.model import SegmentModel
from segmentation.naming import name_segments
from segmentation.profiles import SegmentProfiles, distinctive_words, segment_profiles
from segmentation.publishing import MEMBERS_TABLE, mask_products, publish
from segmentation.selection import KSelection, select_k
from segmentation.train import fit_segments, train_from_bank, train_from_log

__all__ = [
    "FEATURES",
    "FEATURE_PATTERNS",
    "MEMBERS_TABLE",
    "MODEL_NAME",
    "KSelection",
    "SegmentModel",
    "SegmentProfiles",
    "Segmentation",
    "assign",
    "bank_features",
    "customer_features",
    "distinctive_words",
    "evaluate_bank",
    "evaluate_features",
    "fit_segments",
    "load_segmentation",
    "load_served_model",
    "mask_products",
    "name_segments",
    "publish",
    "segment_profiles",
    "select_k",
    "train_from_bank",
    "train_from_log",
]
