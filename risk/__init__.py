"""Loan-default risk: features, training (SMOTE vs class weights), calibration, metrics, cut-off, SHAP, reason codes.

Imports ``bankdata`` and third-party libraries only (never Dash). See ``docs/risk.md``.
"""

from risk.bands import BAND_EDGES, BAND_NAMES, BANDS, HIGHEST_BAND, risk_band
from risk.bankbook import latest_loans, loan_frame
from risk.calibration import ScoreCalibrator
from risk.cutoff import CutoffSummary, bayes_threshold, cost_curve, optimal_threshold, summarize_cutoff
from risk.features import FeatureSpec, infer_spec, is_protected
from risk.loanbook import LoanBook, prepare_loan_book, read_loan_book
from risk.metrics import all_metrics, brier, ks_statistic, pr_auc, roc_auc
from risk.reasons import reason_codes
from risk.scoring import Explanation, RiskModel, score_customers
from risk.training import MODEL_NAME, TrainedRisk, save_trained, train_from_bank, train_loan_book

__all__ = [
    "BANDS",
    "BAND_EDGES",
    "BAND_NAMES",
    "HIGHEST_BAND",
    "MODEL_NAME",
    "CutoffSummary",
    "Explanation",
    "FeatureSpec",
    "LoanBook",
    "RiskModel",
    "ScoreCalibrator",
    "TrainedRisk",
    "all_metrics",
    "bayes_threshold",
    "brier",
    "cost_curve",
    "infer_spec",
    "is_protected",
    "ks_statistic",
    "latest_loans",
    "loan_frame",
    "optimal_threshold",
    "pr_auc",
    "prepare_loan_book",
    "read_loan_book",
    "reason_codes",
    "risk_band",
    "roc_auc",
    "save_trained",
    "score_customers",
    "summarize_cutoff",
    "train_from_bank",
    "train_loan_book",
]
