"""Campaigns that measure themselves: a stratified holdout, take-up and uplift with Newcombe intervals, Qini curves
and an uplift model to rank by. Imports ``bankdata`` and third-party libraries only (never Dash)."""

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
from campaigns.qini import TOP_SHARES, qini, qini_coefficient, qini_curve, true_qini_curve, uplift_at_top
from campaigns.report import campaign_report
from campaigns.uplift import TwoModelUplift

__all__ = [
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
