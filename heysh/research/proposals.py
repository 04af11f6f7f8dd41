"""Threshold proposals: what an evaluation would change, applied only by an admin.

An evaluation (``summary.json``) certifies thresholds per domain; this module
turns each domain's certified pair into a recorded *proposal* when it differs
from the domain's current ``DomainConfig``, with the evidence behind it (error
bounds, rates, label counts, the MLflow run). Nothing reaches production until
an admin of the domain applies the proposal, which writes the new config and
records who applied it and when, in one transaction; an admin may also reject
it with a note. A newer proposal for a domain supersedes the pending one.

The relevance threshold is kept unless the proposed pair would leave it
outside ``auto_reject < relevance <= auto_approve``; then the evaluation's own
relevance line is proposed with the pair.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from heysh.domain.config import DomainConfig, validate_domain_config
from heysh.domain.roles import Role
from heysh.errors import ConfigError, DataError, PermissionDeniedError
from heysh.stores.base import MetadataStore, ThresholdProposalRow

_logger = logging.getLogger(__name__)

PROPOSED = "proposed"
APPLIED = "applied"
REJECTED = "rejected"
SUPERSEDED = "superseded"
STATUSES = (PROPOSED, APPLIED, REJECTED, SUPERSEDED)

# The DomainConfig fields a proposal may change.
THRESHOLD_FIELDS = (
    "auto_reject_threshold",
    "auto_approve_threshold",
    "relevance_threshold",
)
# Thresholds closer than this are the same (summary.json rounds to 6 places).
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ProposalReport:
    """What :func:`propose_thresholds` did for each domain of a summary.

    Attributes:
        proposed: Proposals stored by this call (a rerun on the same summary
            stores none again).
        existing: Proposal ids that were already stored for the same run.
        skipped: ``domain_id -> reason`` for domains without a proposal
            (unknown to the metadata store, thresholds unchanged, or a pair
            no valid config can hold).
    """

    proposed: list[ThresholdProposalRow] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO strings), e.g. to log with the run."""
        return {
            "proposed": [
                {
                    "proposal_id": row.proposal_id,
                    "domain_id": row.domain_id,
                    "current": dict(row.current),
                    "proposed": dict(row.proposed),
                    "evidence": dict(row.evidence),
                    "evidence_run_id": row.evidence_run_id,
                    "proposed_by": row.proposed_by,
                    "proposed_at": row.proposed_at.isoformat()
                    if row.proposed_at
                    else None,
                }
                for row in self.proposed
            ],
            "existing": list(self.existing),
            "skipped": dict(self.skipped),
        }


def load_summary(summary: Path | str | Mapping[str, Any]) -> dict[str, Any]:
    """Return an evaluation summary given as a ``summary.json`` path or a dict.

    A folder means its ``summary.json``.

    Raises:
        DataError: if the file cannot be read, is not JSON, or has no
            ``domains`` section.
    """
    if isinstance(summary, Mapping):
        loaded = dict(summary)
    else:
        path = Path(summary)
        if path.is_dir():
            path = path / "summary.json"
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise DataError(
                f"cannot read evaluation summary {path}: {err.strerror}"
            ) from None
        except ValueError as err:
            raise DataError(f"evaluation summary {path} is not JSON: {err}") from None
    if not isinstance(loaded.get("domains"), Mapping):
        raise DataError(
            "the evaluation summary has no 'domains' section; pass the summary.json "
            "that heysh evaluate (or the compare-models notebook) wrote"
        )
    return loaded


def domain_targets(
    store: MetadataStore,
    *,
    domain_id: str | None = None,
    false_approve: float | None = None,
    false_reject: float | None = None,
) -> dict[str, float]:
    """The error targets an evaluation must certify for the domains it proposes to.

    One evaluation certifies every domain at the same targets, so it uses the
    strictest (smallest) ``false_approve_target`` and ``false_reject_target``
    among the domains' configs: every proposal then holds each domain's own
    guarantee. A side given explicitly overrides the configs.

    Args:
        store: The domains and their configs.
        domain_id: Only this domain's targets.
        false_approve: Use this false-approve target instead.
        false_reject: Use this false-reject target instead.

    Returns:
        ``{"false_approve": ..., "false_reject": ...}`` (the ``TargetSpec``
        fields); the ``DomainConfig`` defaults when there is no domain.
    """
    configs = [
        validate_domain_config(json.loads(row.get("config_json") or "{}"))
        for row in store.list_domains()
        if domain_id is None or row["domain_id"] == domain_id
    ]
    fields = DomainConfig.model_fields
    strictest_approve = min(
        (c.false_approve_target for c in configs),
        default=fields["false_approve_target"].default,
    )
    strictest_reject = min(
        (c.false_reject_target for c in configs),
        default=fields["false_reject_target"].default,
    )
    return {
        "false_approve": strictest_approve if false_approve is None else false_approve,
        "false_reject": strictest_reject if false_reject is None else false_reject,
    }


def propose_thresholds(
    store: MetadataStore,
    summary: Path | str | Mapping[str, Any],
    *,
    run_id: str | None = None,
    proposed_by: str = "evaluation",
    now: datetime | None = None,
) -> ProposalReport:
    """Record a proposal for every known domain whose certified thresholds changed.

    Args:
        store: Domains (their current configs) and the proposals table.
        summary: ``summary.json`` (path, its folder, or the loaded dict).
        run_id: The MLflow run holding the evidence; default the summary's
            ``mlflow.parent_run_id``.
        proposed_by: Who proposes (a user id, or the pipeline's name).
        now: Proposal time; default now (UTC).

    Returns:
        The proposals stored, those that already existed, and why the other
        domains got none.

    Raises:
        DataError: if the summary is unreadable or names no MLflow run and
            none is given.
    """
    loaded = load_summary(summary)
    run_id = run_id or (loaded.get("mlflow") or {}).get("parent_run_id")
    if not run_id:
        raise DataError(
            "the evaluation summary names no MLflow run (mlflow.parent_run_id); "
            "give the evidence run with --run-id"
        )
    when = now or datetime.now(UTC)
    report = ProposalReport()
    for domain_id, section in sorted(loaded["domains"].items()):
        domain = store.get_domain(domain_id)
        if domain is None:
            report.skipped[domain_id] = "not a domain of the metadata store"
            continue
        current = validate_domain_config(json.loads(domain["config_json"] or "{}"))
        try:
            proposed = proposed_fields(current, section)
        except ConfigError as err:
            report.skipped[domain_id] = str(err)
            continue
        if proposed is None:
            report.skipped[domain_id] = "certified thresholds equal the current ones"
            continue
        row = ThresholdProposalRow(
            proposal_id=proposal_id_for(domain_id, run_id, proposed),
            domain_id=domain_id,
            current=threshold_fields(current),
            proposed=proposed,
            evidence={
                **evidence_from(loaded, section, run_id),
                "production_models": production_models(store, domain_id),
            },
            evidence_run_id=run_id,
            proposed_by=proposed_by,
            proposed_at=when,
        )
        if store.add_threshold_proposal(row):
            report.proposed.append(row)
        else:
            report.existing.append(row.proposal_id)
    _logger.info(
        "thresholds_proposed",
        extra={
            "run_id": run_id,
            "proposed": len(report.proposed),
            "existing": len(report.existing),
            "skipped": len(report.skipped),
        },
    )
    return report


def proposed_fields(
    current: DomainConfig, section: Mapping[str, Any]
) -> dict[str, float | None] | None:
    """Return the threshold fields to propose, or ``None`` if nothing changes.

    Args:
        current: The domain's config now.
        section: The domain's entry of ``summary["domains"]`` (its certified
            ``auto_reject_threshold`` / ``auto_approve_threshold``, ``None``
            for a side that could not be certified, and its
            ``relevance_threshold``).

    Raises:
        ConfigError: if the certified pair fits no valid config.

    >>> config = DomainConfig(use_ai_controller=True)
    >>> fields = proposed_fields(config, {"auto_reject_threshold": 3.0,
    ...     "auto_approve_threshold": 8.5, "relevance_threshold": 5.0})
    >>> [fields[k] for k in THRESHOLD_FIELDS]  # relevance 7.0 kept: 3 < 7 <= 8.5
    [3.0, 8.5, 7.0]
    """
    pair = {
        "auto_reject_threshold": _threshold(section, "auto_reject_threshold"),
        "auto_approve_threshold": _threshold(section, "auto_approve_threshold"),
    }
    now = threshold_fields(current)
    if all(_same(pair[k], now[k]) for k in pair):
        return None
    base = current.model_dump()
    keep_relevance = {**pair, "relevance_threshold": current.relevance_threshold}
    try:
        DomainConfig.model_validate({**base, **keep_relevance})
        return keep_relevance
    except ValueError:
        pass
    relevance = _threshold(section, "relevance_threshold")
    if relevance is None:
        raise ConfigError(
            f"the certified pair {pair} does not fit relevance_threshold "
            f"{current.relevance_threshold} and the summary gives no other"
        )
    moved = {**pair, "relevance_threshold": relevance}
    validate_domain_config({**base, **moved})
    return moved


def threshold_fields(config: DomainConfig) -> dict[str, float | None]:
    """The threshold fields of a config, as stored in a proposal."""
    return {name: getattr(config, name) for name in THRESHOLD_FIELDS}


def production_models(store: MetadataStore, domain_id: str) -> list[str]:
    """The models whose scores decided the domain's documents, most used first.

    A proposal's thresholds are tuned on the evaluated model's score scale;
    they fit production only if that model scores production. Recording
    both lets the admin see a mismatch before applying (``heysh thresholds
    list`` shows them side by side).

    Returns:
        ``"name version"`` per model, by number of scored decisions.
    """
    counts: dict[str, int] = {}
    for decision in store.list_decisions(domain_id):
        if decision.score is None or not decision.model_name:
            continue
        key = f"{decision.model_name} {decision.model_version}".strip()
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))


def evidence_from(
    summary: Mapping[str, Any], section: Mapping[str, Any], run_id: str
) -> dict[str, Any]:
    """The evidence a proposal records: bounds, rates, labels, data and run.

    Bounds are the certified upper bounds on the calibration split; rates are
    measured on the test split, which tuning never saw.
    """
    dataset = summary.get("dataset") or {}
    targets = summary.get("targets") or {}
    return {
        "run_id": run_id,
        "model": section.get("model"),
        "dataset": {
            k: dataset.get(k) for k in ("name", "source", "content_hash", "documents")
        },
        "targets": {
            k: targets.get(k) for k in ("false_approve", "false_reject", "confidence")
        },
        "bounds": {
            "false_approve_bound": section.get("false_approve_bound"),
            "false_reject_bound": section.get("false_reject_bound"),
            "confidence": section.get("confidence"),
            "scope": section.get("scope"),
        },
        "rates": {
            k: section.get(k)
            for k in (
                "automation_rate",
                "false_approve_rate",
                "false_reject_rate",
                "human_workload",
                "test_documents",
                "calibration_automation_rate",
            )
        },
        "labels": {
            "approve_side": section.get("n_approve_side"),
            "reject_side": section.get("n_reject_side"),
            "needed": section.get("labels_needed"),
        },
        "summary_created_at": summary.get("created_at"),
        "registered_model": _registered_model(summary),
    }


def _registered_model(summary: Mapping[str, Any]) -> str | None:
    """``"name version"`` of the evaluated winner as registered, or None."""
    registered = summary.get("registered") or {}
    if not registered.get("model") or not registered.get("version"):
        return None
    return f"{registered['model']} {registered['version']}"


def serving_model(store: MetadataStore, domain_id: str) -> str | None:
    """``"name version"`` of the model that scored the domain's latest decision."""
    scored = [
        d
        for d in store.list_decisions(domain_id)
        if d.score is not None and d.model_name
    ]
    if not scored:
        return None
    return f"{scored[-1].model_name} {scored[-1].model_version}".strip()


def _check_model(
    store: MetadataStore, row: ThresholdProposalRow, accept_mismatch: bool
) -> None:
    """Refuse thresholds tuned for one model while another scores the domain.

    Thresholds sit on a model's score scale: the nightly refits and registers
    a model, so its thresholds fit production only once that version serves.
    With no scored decision yet there is nothing to contradict.
    """
    tuned_for = row.evidence.get("registered_model")
    serving = serving_model(store, row.domain_id)
    if accept_mismatch or serving is None or tuned_for == serving:
        return
    promote = (
        f"promote {tuned_for} first (heysh promote), let documents arrive, and "
        "apply again"
        if tuned_for
        else "re-run the evaluation with registration on and promote its winner"
    )
    described = tuned_for or f"{row.evidence.get('model')} (not registered)"
    raise ConfigError(
        f"proposal {row.proposal_id} was tuned for {described} but "
        f"domain {row.domain_id} is scored by {serving}: its thresholds are on "
        f"another score scale. {promote}; or pass --accept-model-mismatch if you "
        "know the scales agree"
    )


# Proposed side -> what switching it off means for the domain's documents.
_SIDES = {
    "auto_approve_threshold": "auto-approve",
    "auto_reject_threshold": "auto-reject",
}


def _check_automation(row: ThresholdProposalRow, accept_less: bool) -> None:
    """Refuse a proposal that switches off a side that automates today.

    An evaluation switches a side off when its labels cannot certify it; that
    sends every document the side decided to a controller, which an admin
    should choose knowingly rather than by applying a routine proposal.
    """
    lost = [
        (field, label)
        for field, label in _SIDES.items()
        if row.current.get(field) is not None and row.proposed.get(field) is None
    ]
    if not lost or accept_less:
        return
    sides = " and ".join(f"{label} (now {row.current.get(f)})" for f, label in lost)
    decided = "that side decides" if len(lost) == 1 else "those sides decide"
    raise ConfigError(
        f"proposal {row.proposal_id} switches off {sides} for domain "
        f"{row.domain_id}: the documents {decided} would all go to controllers, "
        f"because the evaluation could not certify {'it' if len(lost) == 1 else 'them'}"
        f"{_labels_needed(row.evidence, [label for _, label in lost])}. Pass "
        "--accept-less-automation to apply it anyway, or reject it"
    )


def _labels_needed(evidence: Mapping[str, Any], sides: list[str]) -> str:
    """`` (about N more labels needed ...)`` from the evidence, when it says."""
    labels = evidence.get("labels")
    needed = labels.get("needed") if isinstance(labels, Mapping) else None
    if not isinstance(needed, Mapping):
        return ""
    parts = []
    for label in sides:
        value = needed.get(label.removeprefix("auto-"))
        if value is None and label.removeprefix("auto-") in needed:
            parts.append(f"no number of labels would certify the {label} side")
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            parts.append(f"about {value} more labels for the {label} side")
    return f" ({'; '.join(parts)})" if parts else ""


def proposal_id_for(
    domain_id: str, run_id: str, proposed: Mapping[str, float | None]
) -> str:
    """A short id, the same for the same domain, run and values (idempotent).

    >>> proposal_id_for("news", "r1", {"auto_approve_threshold": 8.0})
    'tp-a5d16a9bbcd5'
    """
    key = json.dumps([domain_id, run_id, dict(proposed)], sort_keys=True)
    return "tp-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def apply_threshold_proposal(
    store: MetadataStore,
    proposal_id: str,
    actor: str,
    *,
    note: str = "",
    accept_model_mismatch: bool = False,
    accept_less_automation: bool = False,
) -> ThresholdProposalRow:
    """Apply a pending proposal to its domain's config, as an admin of the domain.

    The new config is the domain's current one with the proposed threshold
    fields; it is written together with the proposal's new status, who applied
    it and when.

    Returns:
        The proposal as now stored (status ``applied``).

    Raises:
        PermissionDeniedError: ``actor`` is not an admin of the domain; nothing
            changes.
        ConfigError: no such proposal, it is no longer pending, the domain's
            thresholds changed since it was proposed (reject it and propose
            again on a fresh evaluation), or the domain's latest decision was
            scored by another model than the one the thresholds were tuned for
            (unless ``accept_model_mismatch``), or the proposal switches off a
            side that automates now (unless ``accept_less_automation``).
    """
    row = _pending(store, proposal_id, actor, "apply")
    domain = store.get_domain(row.domain_id)
    if domain is None:
        raise ConfigError(
            f"domain {row.domain_id!r} of proposal {proposal_id} no longer exists"
        )
    current = validate_domain_config(json.loads(domain["config_json"] or "{}"))
    now = threshold_fields(current)
    if not all(_same(now[k], row.current.get(k)) for k in THRESHOLD_FIELDS):
        raise ConfigError(
            f"the thresholds of domain {row.domain_id} changed since proposal "
            f"{proposal_id} was made (then {dict(row.current)}, now {now}); reject "
            "it and propose again from a fresh evaluation"
        )
    _check_model(store, row, accept_model_mismatch)
    _check_automation(row, accept_less_automation)
    new_config = validate_domain_config({**current.model_dump(), **dict(row.proposed)})
    try:
        stored = store.decide_threshold_proposal(
            proposal_id,
            APPLIED,
            actor,
            note=note,
            config_json=new_config.model_dump_json(),
        )
    except DataError as err:
        raise ConfigError(str(err)) from None
    _logger.info(
        "threshold_proposal_applied",
        extra={
            "proposal_id": proposal_id,
            "domain_id": row.domain_id,
            "actor": actor,
            "evidence_run_id": row.evidence_run_id,
        },
    )
    return stored


def reject_threshold_proposal(
    store: MetadataStore, proposal_id: str, actor: str, note: str
) -> ThresholdProposalRow:
    """Reject a pending proposal, as an admin of its domain, saying why.

    Raises:
        PermissionDeniedError: ``actor`` is not an admin of the domain.
        ConfigError: an empty note, no such proposal, or it is not pending.
    """
    if not note.strip():
        raise ConfigError("say why the proposal is rejected (--note)")
    _pending(store, proposal_id, actor, "reject")
    try:
        return store.decide_threshold_proposal(proposal_id, REJECTED, actor, note=note)
    except DataError as err:
        raise ConfigError(str(err)) from None


def _pending(
    store: MetadataStore, proposal_id: str, actor: str, action: str
) -> ThresholdProposalRow:
    """The pending proposal, once ``actor`` is known to be its domain's admin."""
    row = store.get_threshold_proposal(proposal_id)
    if row is None:
        raise ConfigError(
            f"there is no threshold proposal {proposal_id!r}; see heysh thresholds list"
        )
    role = store.get_role(row.domain_id, actor)
    if role != Role.ADMIN.value:
        held = f"a {role}" if role else "not a member"
        raise PermissionDeniedError(
            f"{actor} is {held} in domain {row.domain_id}; only an admin of the "
            f"domain may {action} threshold proposal {proposal_id}"
        )
    if row.status != PROPOSED:
        raise ConfigError(
            f"threshold proposal {proposal_id} is {row.status} (by {row.decided_by} "
            f"at {row.decided_at}); only a pending proposal can be applied or "
            "rejected"
        )
    return row


def _threshold(section: Mapping[str, Any], name: str) -> float | None:
    value = section.get(name)
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"the summary's {name} is {value}, not a score")
    return number


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= _TOLERANCE
