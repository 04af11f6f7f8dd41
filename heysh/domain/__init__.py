"""Domains, their decision settings, roles and the decision policy.

This package imports nothing else of heysh, so workflows may use it freely.
"""

from heysh.domain.config import Domain, DomainConfig, validate_domain_config
from heysh.domain.policy import Outcome, decide_as_ai_controller, decide_by_thresholds
from heysh.domain.roles import Role, can_decide, can_vote

__all__ = [
    "Domain",
    "DomainConfig",
    "Outcome",
    "Role",
    "can_decide",
    "can_vote",
    "decide_as_ai_controller",
    "decide_by_thresholds",
    "validate_domain_config",
]
