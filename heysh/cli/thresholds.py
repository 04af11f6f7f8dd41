"""Threshold proposal commands: ``heysh thresholds propose|list|apply|reject``.

An evaluation proposes; only an admin of the domain applies or rejects. The
commands work on the metadata store alone (no Temporal), opened for the
command from ``HEYSH_METADATA_URL`` (default: the embedded SQLite database).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from heysh.cli._domains import _metadata
from heysh.research.proposals import STATUSES


def register(subparsers: Any) -> None:
    """Add the ``thresholds`` commands to the ``heysh`` parser."""
    thresholds = subparsers.add_parser(
        "thresholds",
        help="propose, list, apply or reject tuned thresholds per domain",
        description="Evaluations propose new auto-reject/auto-approve thresholds "
        "per domain with their evidence; an admin of the domain applies or rejects "
        "each proposal, and both are recorded.",
    )
    actions = thresholds.add_subparsers(dest="thresholds_action", metavar="ACTION")

    propose = actions.add_parser(
        "propose",
        help="record proposals from an evaluation's summary.json",
        description="For every domain of the summary that exists here and whose "
        "certified thresholds differ from its current ones, record a proposal "
        "(superseding that domain's pending one).",
    )
    propose.add_argument(
        "--summary", required=True, help="summary.json of an evaluation (or its folder)"
    )
    propose.add_argument(
        "--run-id",
        help="MLflow run holding the evidence (default: the summary's parent run)",
    )
    propose.add_argument(
        "--by", default="evaluation", help="who proposes (default 'evaluation')"
    )
    propose.set_defaults(handler=run_propose)

    listing = actions.add_parser("list", help="list proposals, oldest first")
    listing.add_argument("--domain", help="only this domain's")
    listing.add_argument("--status", choices=STATUSES, help="only with this status")
    listing.add_argument(
        "--json", action="store_true", help="print every field as JSON lines"
    )
    listing.set_defaults(handler=run_list)

    apply = actions.add_parser(
        "apply", help="apply a pending proposal to its domain (admins only)"
    )
    apply.add_argument("proposal_id")
    apply.add_argument("--as", dest="actor", required=True, metavar="USER")
    apply.add_argument("--note", default="", help="why, for the record")
    apply.add_argument(
        "--accept-model-mismatch",
        action="store_true",
        help="apply although the domain is scored by another model than the "
        "one the thresholds were tuned for (their score scales must agree)",
    )
    apply.add_argument(
        "--accept-less-automation",
        action="store_true",
        help="apply although the proposal switches off an auto-approve or "
        "auto-reject side the domain uses now",
    )
    apply.set_defaults(handler=run_apply)

    reject = actions.add_parser(
        "reject", help="reject a pending proposal (admins only)"
    )
    reject.add_argument("proposal_id")
    reject.add_argument("--as", dest="actor", required=True, metavar="USER")
    reject.add_argument("--note", required=True, help="why it is rejected")
    reject.set_defaults(handler=run_reject)


def run_propose(args: argparse.Namespace) -> int:
    from heysh.research.proposals import propose_thresholds

    with _metadata() as metadata:
        report = propose_thresholds(
            metadata, args.summary, run_id=args.run_id, proposed_by=args.by
        )
    for row in report.proposed:
        _out(
            f"proposed {row.proposal_id} for {row.domain_id}: "
            f"{_fields(row.current)} -> {_fields(row.proposed)} "
            f"(evidence run {row.evidence_run_id})"
        )
    for proposal_id in report.existing:
        _out(f"exists   {proposal_id} (proposed earlier from the same run)")
    for domain_id, reason in sorted(report.skipped.items()):
        _out(f"skipped  {domain_id}: {reason}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        rows = metadata.list_threshold_proposals(args.domain, status=args.status)
    if args.json:
        for row in rows:
            _out(json.dumps(_as_dict(row), sort_keys=True, default=str))
        return 0
    if not rows:
        _out("no threshold proposals")
    for row in rows:
        decided = (
            f" by {row.decided_by} at {row.decided_at:%Y-%m-%d %H:%M}Z"
            if row.decided_at
            else ""
        )
        bounds = row.evidence.get("bounds") or {}
        _out(
            f"{row.proposal_id}  {row.domain_id:16} {row.status:10}{decided}\n"
            f"    {_fields(row.current)} -> {_fields(row.proposed)}\n"
            f"    FAR bound {bounds.get('false_approve_bound')}, FRR bound "
            f"{bounds.get('false_reject_bound')} at confidence "
            f"{bounds.get('confidence')}; run {row.evidence_run_id}; proposed by "
            f"{row.proposed_by} at {row.proposed_at:%Y-%m-%d %H:%M}Z\n"
            f"    tuned for model {row.evidence.get('model')}; production scored "
            f"by {', '.join(row.evidence.get('production_models') or ['-'])}"
            + (f"\n    note: {row.note}" if row.note else "")
        )
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from heysh.research.proposals import apply_threshold_proposal

    with _metadata() as metadata:
        row = apply_threshold_proposal(
            metadata,
            args.proposal_id,
            args.actor,
            note=args.note,
            accept_model_mismatch=args.accept_model_mismatch,
            accept_less_automation=args.accept_less_automation,
        )
    _out(
        f"applied {row.proposal_id} to {row.domain_id}: {_fields(row.current)} -> "
        f"{_fields(row.proposed)} by {row.decided_by} (evidence run "
        f"{row.evidence_run_id})"
    )
    return 0


def run_reject(args: argparse.Namespace) -> int:
    from heysh.research.proposals import reject_threshold_proposal

    with _metadata() as metadata:
        row = reject_threshold_proposal(
            metadata, args.proposal_id, args.actor, args.note
        )
    _out(f"rejected {row.proposal_id} for {row.domain_id} by {row.decided_by}")
    return 0


def _fields(values: Any) -> str:
    """``reject <= 4 | relevance 7 | approve >= 8.5`` (``off``: side off)."""

    def shown(key: str) -> str:
        if key not in values:
            return "-"
        value = values[key]
        return "off" if value is None else f"{value:g}"

    return (
        f"reject <= {shown('auto_reject_threshold')} | relevance "
        f"{shown('relevance_threshold')} | approve >= "
        f"{shown('auto_approve_threshold')}"
    )


def _as_dict(row: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in asdict(row).items()}


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
