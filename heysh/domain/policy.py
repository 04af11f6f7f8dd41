"""Turn a calibrated score into a decision by a domain's thresholds."""

from __future__ import annotations

from enum import StrEnum

from heysh.domain.config import DomainConfig


class Outcome(StrEnum):
    """What the thresholds say about one score."""

    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    GRAY_ZONE = "gray_zone"


def decide_by_thresholds(score: float, config: DomainConfig) -> Outcome:
    """Decide by thresholds alone: at or above approve, at or below reject.

    A side whose threshold is ``None`` never decides.

    >>> decide_by_thresholds(8.5, DomainConfig(use_ai_controller=True))
    <Outcome.AUTO_APPROVE: 'auto_approve'>
    >>> decide_by_thresholds(4.0, DomainConfig(use_ai_controller=True))
    <Outcome.AUTO_REJECT: 'auto_reject'>
    >>> decide_by_thresholds(6.0, DomainConfig(use_ai_controller=True))
    <Outcome.GRAY_ZONE: 'gray_zone'>
    """
    approve = config.auto_approve_threshold
    reject = config.auto_reject_threshold
    if approve is not None and score >= approve:
        return Outcome.AUTO_APPROVE
    if reject is not None and score <= reject:
        return Outcome.AUTO_REJECT
    return Outcome.GRAY_ZONE


def decide_as_ai_controller(score: float, config: DomainConfig) -> bool:
    """Return the AI controller's verdict: approve at or above relevance.

    >>> decide_as_ai_controller(7.0, DomainConfig(use_ai_controller=True))
    True
    """
    return score >= config.relevance_threshold
