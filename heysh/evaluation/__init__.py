"""Measure relevance models and tune each domain's thresholds with guarantees.

The public names of :mod:`~heysh.evaluation.metrics`,
:mod:`~heysh.evaluation.sweep`, :mod:`~heysh.evaluation.certify` and
:mod:`~heysh.evaluation.thresholds` are re-exported here. Figures live in
:mod:`heysh.evaluation.plots`, imported on demand because matplotlib is slow
to import and only notebooks need it.
"""

from heysh.evaluation.certify import (
    SideCertificate,
    SideEvidence,
    approve_side_evidence,
    approve_start_index,
    binomial_p_value,
    binomial_upper_bound,
    certify_approve_side,
    certify_reject_side,
    labels_needed,
    reject_side_evidence,
    zero_error_sample_size,
)
from heysh.evaluation.metrics import (
    brier_score,
    expected_calibration_error,
    pr_auc,
    precision_recall_curve,
    reliability_bins,
    roc_auc,
)
from heysh.evaluation.sweep import (
    OperatingPoint,
    SweepResult,
    operating_point,
    sweep_threshold_pairs,
    threshold_grid,
)
from heysh.evaluation.thresholds import (
    EmpiricalChoice,
    Targets,
    ThresholdChoice,
    empirical_thresholds,
    realised_rates,
    tune_domains,
    tune_thresholds,
)

__all__ = [
    "EmpiricalChoice",
    "OperatingPoint",
    "SideCertificate",
    "SideEvidence",
    "SweepResult",
    "Targets",
    "ThresholdChoice",
    "approve_side_evidence",
    "approve_start_index",
    "binomial_p_value",
    "binomial_upper_bound",
    "brier_score",
    "certify_approve_side",
    "certify_reject_side",
    "empirical_thresholds",
    "expected_calibration_error",
    "labels_needed",
    "operating_point",
    "pr_auc",
    "precision_recall_curve",
    "realised_rates",
    "reject_side_evidence",
    "reliability_bins",
    "roc_auc",
    "sweep_threshold_pairs",
    "threshold_grid",
    "tune_domains",
    "tune_thresholds",
    "zero_error_sample_size",
]
