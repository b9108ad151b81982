"""Loan-default risk: features, training (SMOTE vs class weights), calibration, metrics, cut-off, SHAP, reason codes.

Imports ``bankdata`` and third-party libraries only (never Dash). See ``docs/risk.md``.
"""

from risk.applicant import InvalidApplicant, allowed_range, check_applicant
from risk.backtest import EVIDENCE_KIND as BACKTEST_KIND
from risk.backtest import backtest_loans, backtest_version, binomial_p_value, jeffreys_interval, traffic_light
from risk.bands import BAND_EDGES, BAND_NAMES, BANDS, HIGHEST_BAND, risk_band
from risk.bankbook import latest_loans, loan_frame
from risk.calibration import ScoreCalibrator
from risk.card import card_evidence
from risk.challenger import compare_versions, held_out_pds
from risk.cutoff import CutoffSummary, bayes_threshold, cost_curve, optimal_threshold, summarize_cutoff
from risk.decisions import (
    MAX_REASONS,
    Assessment,
    Rescore,
    artifact_sha256,
    assess,
    batch_decisions,
    build_decision,
    recorded_model,
    rescore,
)
from risk.fairness import (
    age_band,
    check_protected_excluded,
    fairness_report,
    group_table,
    model_fairness,
    model_fairness_grid,
)
from risk.features import FeatureSpec, infer_spec, is_protected
from risk.insights import (
    Gains,
    cumulative_gains,
    feature_grid,
    ice_curve,
    interaction_partner,
    partial_dependence,
    permutation_importance,
)
from risk.loanbook import LoanBook, prepare_loan_book, read_loan_book
from risk.metrics import (
    all_metrics,
    brier,
    calibration_bins,
    ks_statistic,
    pr_auc,
    pr_curve_points,
    roc_auc,
    roc_curve_points,
)
from risk.monitoring import MonitorReport, characteristic_stability, monitor, monitor_grid, psi, psi_bins
from risk.notices import notice_html, notice_pdf, render_notice
from risk.publishing import (
    FAIRNESS_GRID,
    GRID_COLUMNS,
    PD_SHIFT_GRID,
    SCORES_TABLE,
    SHIFT_GRID,
    SORTABLE,
    drift_key,
    publish,
    score_borrowers,
    threshold_key,
)
from risk.reasons import plain_name, reason_codes, reason_items, reason_texts
from risk.recourse import Recourse, find_recourse
from risk.scoring import Explanation, RiskModel, score_customers
from risk.training import MODEL_NAME, TrainedRisk, save_trained, train_from_bank, train_loan_book

__all__ = [
    "MAX_REASONS",
    "Assessment",
    "Rescore",
    "artifact_sha256",
    "assess",
    "batch_decisions",
    "build_decision",
    "recorded_model",
    "rescore",
    "notice_html",
    "notice_pdf",
    "render_notice",
    "reason_items",
    "BACKTEST_KIND",
    "BANDS",
    "BAND_EDGES",
    "BAND_NAMES",
    "CutoffSummary",
    "Explanation",
    "FeatureSpec",
    "HIGHEST_BAND",
    "InvalidApplicant",
    "LoanBook",
    "MODEL_NAME",
    "MonitorReport",
    "Recourse",
    "RiskModel",
    "SCORES_TABLE",
    "threshold_key",
    "drift_key",
    "SORTABLE",
    "SHIFT_GRID",
    "PD_SHIFT_GRID",
    "GRID_COLUMNS",
    "FAIRNESS_GRID",
    "ScoreCalibrator",
    "TrainedRisk",
    "age_band",
    "backtest_loans",
    "backtest_version",
    "binomial_p_value",
    "jeffreys_interval",
    "traffic_light",
    "allowed_range",
    "all_metrics",
    "bayes_threshold",
    "brier",
    "calibration_bins",
    "card_evidence",
    "characteristic_stability",
    "check_applicant",
    "check_protected_excluded",
    "compare_versions",
    "cost_curve",
    "fairness_report",
    "Gains",
    "cumulative_gains",
    "feature_grid",
    "ice_curve",
    "interaction_partner",
    "partial_dependence",
    "permutation_importance",
    "find_recourse",
    "group_table",
    "held_out_pds",
    "infer_spec",
    "is_protected",
    "ks_statistic",
    "latest_loans",
    "loan_frame",
    "model_fairness",
    "model_fairness_grid",
    "monitor",
    "monitor_grid",
    "optimal_threshold",
    "plain_name",
    "pr_auc",
    "pr_curve_points",
    "prepare_loan_book",
    "psi",
    "publish",
    "psi_bins",
    "read_loan_book",
    "reason_codes",
    "reason_texts",
    "risk_band",
    "roc_auc",
    "roc_curve_points",
    "save_trained",
    "score_borrowers",
    "score_customers",
    "summarize_cutoff",
    "train_from_bank",
    "train_loan_book",
]
