"""A domain's identity and its validated decision settings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from heysh.errors import ConfigError

SCORE_MAX = 10.0


class DomainConfig(BaseModel):
    """How scores become decisions in one domain.

    Scores are calibrated on 0-10. A threshold of ``None`` switches that side
    off: no document is auto-approved (or auto-rejected) and those documents go
    to a controller instead. Tuning switches a side off when it cannot certify
    its error rate.

    Invariant: ``0 <= auto_reject < relevance <= auto_approve <= 10`` for every
    side that is on; the controller pool may be empty only when the AI is the
    controller.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    relevance_threshold: float = Field(7.0, ge=0.0, le=SCORE_MAX)
    auto_approve_threshold: float | None = Field(8.5, ge=0.0, le=SCORE_MAX)
    auto_reject_threshold: float | None = Field(4.0, ge=0.0, le=SCORE_MAX)
    use_ai_controller: bool = False
    controller_pool: tuple[str, ...] = ()
    ai_model_override: str | None = None
    # Seconds a controller has before the document escalates to the next one.
    escalation_timeout_s: float = Field(24 * 3600.0, gt=0)
    # Share of automatic decisions (thresholds and AI controller) sent to a
    # controller for a blind audit label (heysh.feedback.audits).
    audit_fraction: float = Field(0.02, ge=0.0, le=1.0)
    # Order of a controller's pending reviews: "arrival" (oldest first) or
    # "uncertainty" (score closest to relevance_threshold first).
    review_order: Literal["arrival", "uncertainty"] = "arrival"
    # The error rates the thresholds were certified for; audits are checked
    # against them (heysh.feedback.audit_report).
    false_approve_target: float = Field(0.05, gt=0.0, lt=1.0)
    false_reject_target: float = Field(0.05, gt=0.0, lt=1.0)
    # Where review notifications go: a channel config such as
    # {"type": "webhook", "url": ..., "secret_env_var": ...} (checked by
    # heysh.notifications.build_channel when set); None logs them.
    notifications: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _check_invariants(self) -> DomainConfig:
        relevance = self.relevance_threshold
        reject = self.auto_reject_threshold
        approve = self.auto_approve_threshold
        if reject is not None and not reject < relevance:
            raise ValueError(
                f"auto_reject_threshold ({reject}) must be below "
                f"relevance_threshold ({relevance}); lower auto_reject_threshold "
                "or raise relevance_threshold"
            )
        if approve is not None and not relevance <= approve:
            raise ValueError(
                f"auto_approve_threshold ({approve}) must be at or above "
                f"relevance_threshold ({relevance}); raise auto_approve_threshold "
                "or lower relevance_threshold"
            )
        if not self.controller_pool and not self.use_ai_controller:
            raise ValueError(
                "controller_pool is empty and use_ai_controller is false, so "
                "gray-zone documents would wait forever; add a controller or set "
                "use_ai_controller to true"
            )
        if len(set(self.controller_pool)) != len(self.controller_pool):
            raise ValueError(
                f"controller_pool {list(self.controller_pool)} lists a user twice; "
                "list each controller once"
            )
        return self


class Domain(BaseModel):
    """A topical domain: what belongs in it, and how it decides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain_id: str = Field(min_length=1, max_length=200)
    name: str = ""
    description: str = Field(min_length=1)
    language: str = "en"
    config: DomainConfig = DomainConfig(use_ai_controller=True)


def validate_domain_config(raw: dict[str, Any]) -> DomainConfig:
    """Build a DomainConfig from untrusted input, with one readable message.

    Args:
        raw: Field values, for example parsed from JSON or a CLI.

    Returns:
        The validated config.

    Raises:
        heysh.errors.ConfigError: naming every invalid field and why.

    >>> validate_domain_config({"controller_pool": ["ann"]}).auto_approve_threshold
    8.5
    """
    try:
        return DomainConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}"
            for e in err.errors()
        )
        raise ConfigError(f"invalid domain config: {problems}") from None
