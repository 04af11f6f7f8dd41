"""Tune one model's thresholds per domain and measure them on the test split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heysh.data.corpus import LabelledCorpus
from heysh.evaluation.certify import DECISION_LINE
from heysh.evaluation.metrics import (
    brier_score,
    expected_calibration_error,
    pr_auc,
    roc_auc,
)
from heysh.evaluation.sweep import OperatingPoint, threshold_grid
from heysh.evaluation.thresholds import (
    DomainSplits,
    EmpiricalChoice,
    Targets,
    ThresholdChoice,
    empirical_thresholds,
    realised_rates,
    tune_domains,
)
from heysh.research.scoring import ModelScores, SplitIndex


@dataclass(frozen=True)
class DomainTuning:
    """One domain under one model: certified choice, naive choice, test reality."""

    domain_id: str
    choice: ThresholdChoice
    test: OperatingPoint
    empirical: EmpiricalChoice
    empirical_test: OperatingPoint
    roc_auc_test: float


@dataclass
class ModelTuning:
    """A model's ranking and calibration quality and its tuned domains.

    Attributes:
        metrics: Test-split ROC-AUC, PR-AUC, ECE and Brier over all pairs
            (``*_macro``: mean over domains with both classes).
        certified_automation_calibration: Mean over domains of the certified
            pair's automation on calibration data; the winner is chosen on it.
        roc_auc_calibration: Calibration-split ROC-AUC, the tie-breaker.
        test_total: All domains' test documents at their own thresholds.
    """

    name: str
    domains: dict[str, DomainTuning]
    metrics: dict[str, float]
    certified_automation_calibration: float
    roc_auc_calibration: float
    test_total: dict[str, float] = field(default_factory=dict)

    def domain_configs(self) -> dict[str, dict[str, Any]]:
        """Recommended DomainConfig threshold fields per domain."""
        return {
            domain: tuning.choice.config_fields()
            for domain, tuning in self.domains.items()
        }


def tune_model(
    scores: ModelScores,
    corpus: LabelledCorpus,
    splits: SplitIndex,
    targets: Targets,
    *,
    grid_step: float,
    delta_split: int,
) -> ModelTuning:
    """Certify each domain's thresholds on calibration data and test them.

    Args:
        scores: The model's calibrated scores per split.
        corpus: The labelled collection.
        splits: Pair indices per split.
        targets: Error targets and confidence.
        grid_step: Threshold grid spacing.
        delta_split: Number of models compared on the same calibration split;
            each side's error budget is divided by it (Bonferroni), so the
            winner's certificates stay valid although it was picked on that
            split.
    """
    grid = threshold_grid(grid_step)
    labels = {
        name: corpus.pair_label[splits.of(name)]
        for name in ("fit", "calibration", "test")
    }
    domain_of = {name: corpus.pair_domain[splits.of(name)] for name in labels}
    split_scores = {
        "fit": scores.fit,
        "calibration": scores.calibration,
        "test": scores.test,
    }

    per_domain: dict[str, DomainSplits] = {}
    for index, domain in enumerate(corpus.domains):
        masks = {name: domain_of[name] == index for name in labels}
        calibration, fit = masks["calibration"], masks["fit"]
        per_domain[domain.domain_id] = (
            split_scores["calibration"][calibration],
            labels["calibration"][calibration],
            split_scores["fit"][fit],
            labels["fit"][fit],
        )
    # Never auto-approve a document the model calls more likely irrelevant
    # (calibrated score below 5), nor auto-reject one it calls more likely
    # relevant, even when the calibration data would certify it.
    choices = tune_domains(
        per_domain,
        targets=targets,
        grid=grid,
        delta_split=delta_split,
        decision_line=DECISION_LINE,
    )

    domains = {}
    for index, domain in enumerate(corpus.domains):
        test_mask = domain_of["test"] == index
        calib_mask = domain_of["calibration"] == index
        test_scores, test_labels = scores.test[test_mask], labels["test"][test_mask]
        empirical = empirical_thresholds(
            scores.calibration[calib_mask],
            labels["calibration"][calib_mask],
            targets=targets,
            grid=grid,
        )
        choice = choices[domain.domain_id]
        domains[domain.domain_id] = DomainTuning(
            domain_id=domain.domain_id,
            choice=choice,
            test=realised_rates(choice, test_scores, test_labels),
            empirical=empirical,
            empirical_test=realised_rates(empirical, test_scores, test_labels),
            roc_auc_test=roc_auc(test_labels, test_scores),
        )

    return ModelTuning(
        name=scores.name,
        domains=domains,
        metrics=_ranking_metrics(labels["test"], scores.test, domains),
        certified_automation_calibration=float(
            np.mean([d.choice.automation for d in domains.values()])
        ),
        roc_auc_calibration=roc_auc(labels["calibration"], scores.calibration),
        test_total=_total(list(domains.values())),
    )


def _ranking_metrics(
    labels: np.ndarray, scores: np.ndarray, domains: dict[str, DomainTuning]
) -> dict[str, float]:
    per_domain_auc = [
        d.roc_auc_test for d in domains.values() if d.roc_auc_test == d.roc_auc_test
    ]
    return {
        "roc_auc": roc_auc(labels, scores),
        "roc_auc_macro": float(np.mean(per_domain_auc))
        if per_domain_auc
        else float("nan"),
        "pr_auc": pr_auc(labels, scores),
        "calibration_error": expected_calibration_error(labels, scores),
        "brier": brier_score(labels, scores),
    }


def _total(domains: list[DomainTuning]) -> dict[str, float]:
    """Pool the test counts of every domain at its own thresholds."""
    n = sum(d.test.n for d in domains)
    relevant = sum(d.test.n_relevant for d in domains)
    approved = sum(d.test.approved for d in domains)
    false_approved = sum(d.test.false_approved for d in domains)
    rejected = sum(d.test.rejected for d in domains)
    false_rejected = sum(d.test.false_rejected for d in domains)
    return {
        "documents": n,
        "automation_rate": (approved + rejected) / n if n else 0.0,
        "false_approve_rate": false_approved / approved if approved else 0.0,
        "false_reject_rate": false_rejected / relevant if relevant else 0.0,
        "human_workload": n - approved - rejected,
    }
