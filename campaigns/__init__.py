"""Campaigns that measure themselves: a stratified holdout, take-up and uplift with Newcombe intervals, Qini curves
and an uplift model to rank by. Imports ``bankdata``, the public APIs of ``risk``, ``segmentation`` and
``recsys`` (whose served tables an audience is built from) and third-party libraries; never Dash."""

from campaigns.audience import (
    CONTACT_COLUMNS,
    MAX_RANKED,
    UPLIFT_RANKING,
    contact_list,
    credit_blocked,
    holders,
    ranked_audience,
    ranking_models,
    resolve_product,
    segment_audience,
)
from campaigns.evaluate import DEFAULT_PRODUCT, age_segments, evaluate_campaigns
from campaigns.fairness import adverse_impact
from campaigns.features import customer_features
from campaigns.holdout import DEFAULT_CONTROL_SHARE, assign_holdout, check_control_share
from campaigns.measure import (
    MIN_ARM,
    MIN_RESPONDERS,
    Measurement,
    cost_per_incremental,
    measure,
    measure_segments,
    newcombe_interval,
    wilson_interval,
)
from campaigns.publishing import UPLIFT_MODEL, UPLIFT_TABLE, publish_uplift, uplift_rows
from campaigns.qini import TOP_SHARES, qini, qini_coefficient, qini_curve, true_qini_curve, uplift_at_top
from campaigns.report import campaign_report
from campaigns.training import (
    MIN_TRAIN_ARM,
    MIN_TRAIN_RESPONDERS,
    UpliftData,
    load_uplift,
    train_uplift,
    uplift_training_data,
)
from campaigns.uplift import TwoModelUplift

__all__ = [
    "CONTACT_COLUMNS",
    "contact_list",
    "MAX_RANKED",
    "MIN_TRAIN_ARM",
    "MIN_TRAIN_RESPONDERS",
    "UPLIFT_MODEL",
    "UPLIFT_RANKING",
    "UPLIFT_TABLE",
    "UpliftData",
    "credit_blocked",
    "load_uplift",
    "publish_uplift",
    "holders",
    "ranked_audience",
    "ranking_models",
    "resolve_product",
    "segment_audience",
    "train_uplift",
    "uplift_rows",
    "uplift_training_data",
    "DEFAULT_CONTROL_SHARE",
    "DEFAULT_PRODUCT",
    "MIN_ARM",
    "MIN_RESPONDERS",
    "TOP_SHARES",
    "Measurement",
    "TwoModelUplift",
    "adverse_impact",
    "age_segments",
    "assign_holdout",
    "campaign_report",
    "check_control_share",
    "cost_per_incremental",
    "customer_features",
    "evaluate_campaigns",
    "measure",
    "measure_segments",
    "newcombe_interval",
    "qini",
    "qini_coefficient",
    "qini_curve",
    "true_qini_curve",
    "uplift_at_top",
    "wilson_interval",
]
