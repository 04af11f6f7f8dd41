"""Feedback commands: ``heysh audit``, ``heysh decisions export``, ``heysh feedback``.

``heysh audit pending|show|label`` is the blind audit desk: it never prints
a score, a model or the automatic outcome. ``heysh decisions export`` writes
the human decision history as a pairs file ``heysh evaluate --data`` reads.
``heysh feedback report`` prints audits, drift and agreement per domain.
They read and write the metadata and blob stores of ``heysh.config.Settings``;
none needs Temporal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from heysh.errors import ConfigError


def register(subparsers: Any) -> None:
    """Add the feedback commands to the ``heysh`` parser."""
    _register_audit(subparsers)
    _register_decisions(subparsers)
    _register_feedback(subparsers)


def _register_audit(subparsers: Any) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="label sampled automatic decisions blind",
        description="A share of automatic decisions (DomainConfig.audit_fraction) "
        "is sent to a controller, who labels the document without seeing its "
        "score or automatic outcome.",
    )
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND")
    pending = commands.add_parser("pending", help="list audits waiting for a user")
    pending.add_argument("--as", dest="user", required=True, metavar="USER")
    pending.add_argument("--domain", help="only this domain")
    pending.add_argument("--json", action="store_true", help="print JSON")
    pending.set_defaults(handler=run_audit_pending)

    show = commands.add_parser("show", help="print an audited document's text")
    show.add_argument("doc", metavar="DOC", help="document id")
    show.add_argument("--domain", required=True)
    show.add_argument("--as", dest="user", required=True, metavar="USER")
    show.set_defaults(handler=run_audit_show)

    label = commands.add_parser("label", help="label an audited document")
    label.add_argument("doc", metavar="DOC", help="document id")
    label.add_argument("--domain", required=True)
    label.add_argument("--as", dest="user", required=True, metavar="USER")
    choice = label.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", dest="approve", action="store_true")
    choice.add_argument("--reject", dest="approve", action="store_false")
    label.set_defaults(handler=run_audit_label)


def _register_decisions(subparsers: Any) -> None:
    decisions = subparsers.add_parser(
        "decisions", help="work with the recorded decision history"
    )
    commands = decisions.add_subparsers(dest="decisions_command", metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="export human labels as a pairs file for heysh evaluate",
        description="Controller decisions, blind audit labels and vote "
        "majorities become labelled rows (id, domain, text, label and "
        "provenance). Automatic decisions are not labels and are left out.",
    )
    export.add_argument("--out", type=Path, required=True, help=".jsonl or .parquet")
    export.add_argument("--domain", help="only this domain")
    export.add_argument("--since", help="labels given at or after (ISO date/time)")
    export.add_argument("--until", help="labels given before (ISO date/time)")
    export.add_argument(
        "--include-automatic",
        action="store_true",
        help="also export automatic decisions as source 'ai' (not for tuning)",
    )
    export.set_defaults(handler=run_decisions_export)


def _register_feedback(subparsers: Any) -> None:
    feedback = subparsers.add_parser(
        "feedback", help="audit, drift and agreement reports"
    )
    commands = feedback.add_subparsers(dest="feedback_command", metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="per domain: audited error rates, score drift, agreement",
        description="Observed false-approve and false-reject rates on audit labels "
        "with Clopper-Pearson intervals (alarm when the lower end exceeds the "
        "target), score drift (KS and PSI; alarm when p < 0.01 and PSI >= 0.2) "
        "and Cohen's kappa of models and controllers.",
    )
    report.add_argument("--domain", help="only this domain")
    report.add_argument("--since", help="start of the recent window (default 7 days)")
    report.add_argument("--until", help="end of the recent window (default now)")
    report.add_argument(
        "--reference",
        type=Path,
        help="drift reference scores (.json, .npy, or a table with a score "
        "column); default: the domain's decisions before --since",
    )
    report.add_argument("--confidence", type=float, default=0.95)
    report.add_argument("--json", action="store_true", help="print JSON")
    report.set_defaults(handler=run_feedback_report)


def run_audit_pending(args: argparse.Namespace) -> int:
    from heysh.feedback.audits import pending_audits

    with _stores() as (metadata, _):
        tasks = pending_audits(metadata, args.user, domain_id=args.domain)
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "domain_id": t.domain_id,
                        "doc_id": t.doc_id,
                        "filename": t.filename,
                        "requested_at": _iso(t.requested_at),
                    }
                    for t in tasks
                ],
                indent=2,
            )
        )
        return 0
    if not tasks:
        _out(f"no audits pending for {args.user}")
    for task in tasks:
        _out(
            f"{task.domain_id}  {task.doc_id}  {task.filename}  "
            f"requested {_iso(task.requested_at)}"
        )
    return 0


def run_audit_show(args: argparse.Namespace) -> int:
    from heysh.feedback.audits import audit_text

    with _stores() as (metadata, blobs):
        text = audit_text(metadata, blobs, args.domain, args.doc, args.user)
    _out(text)
    return 0


def run_audit_label(args: argparse.Namespace) -> int:
    from heysh.feedback.audits import label_audit

    with _stores() as (metadata, _):
        label = label_audit(metadata, args.domain, args.doc, args.user, args.approve)
    _out(f"{label.doc_id}: audit labelled {label.label_outcome} by {label.labelled_by}")
    return 0


def run_decisions_export(args: argparse.Namespace) -> int:
    from heysh.feedback.export import export_decision_history

    with _stores() as (metadata, blobs):
        _require_domain(metadata, args.domain)
        summary = export_decision_history(
            metadata,
            blobs,
            args.out,
            domain_id=args.domain,
            since=parse_time(args.since, "--since"),
            until=parse_time(args.until, "--until"),
            include_automatic=args.include_automatic,
        )
    sources = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_source.items()))
    _out(f"{summary.path}: {summary.rows} labelled rows ({sources or 'none'})")
    if summary.skipped_without_text:
        _out(f"  {summary.skipped_without_text} left out: text no longer stored")
    return 0


def run_feedback_report(args: argparse.Namespace) -> int:
    from heysh.feedback.drift import read_reference_scores
    from heysh.feedback.report import feedback_report, render_text

    reference = read_reference_scores(args.reference) if args.reference else None
    with _stores() as (metadata, _):
        _require_domain(metadata, args.domain)
        reports = feedback_report(
            metadata,
            domain_id=args.domain,
            since=parse_time(args.since, "--since"),
            until=parse_time(args.until, "--until"),
            reference_scores=reference,
            confidence=args.confidence,
        )
    if args.json:
        _out(json.dumps([r.to_dict() for r in reports], indent=2, default=str))
    else:
        _out(render_text(reports) or "no domains")
    return 0


def _require_domain(metadata: Any, domain_id: str | None) -> None:
    """Refuse a ``--domain`` that names no domain (a typo would read as empty)."""
    if domain_id is not None and metadata.get_domain(domain_id) is None:
        known = ", ".join(d["domain_id"] for d in metadata.list_domains()) or "none"
        raise ConfigError(f"there is no domain {domain_id!r}; domains: {known}")


def parse_time(value: str | None, option: str) -> datetime | None:
    """Parse an ISO date or date-time; a time without a zone is UTC.

    Raises:
        ConfigError: the value is not ISO 8601.

    >>> parse_time("2026-12-01", "--since").isoformat()
    '2026-12-01T00:00:00+00:00'
    """
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not an ISO date or time, e.g. 2026-12-01 or "
            "2026-12-01T08:00:00+01:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def _stores() -> Iterator[tuple[Any, Any]]:
    from heysh.config import load_settings
    from heysh.stores.factory import open_blob_store, open_metadata_store, store_urls

    urls = store_urls(load_settings())
    metadata = open_metadata_store(urls.metadata)
    try:
        blobs = open_blob_store(urls.blobs)
        try:
            yield metadata, blobs
        finally:
            close = getattr(blobs, "close", None)
            if close is not None:
                close()
    finally:
        metadata.close()


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
