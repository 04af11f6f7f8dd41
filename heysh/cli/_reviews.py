"""Review commands: ``heysh submit``, ``pending``, ``decide``, ``vote``, ``status``.

They drive reviews through ``heysh.client`` (Temporal) and read decisions
from the metadata store. Each is a :func:`temporal_command`, so the process
ends without interpreter teardown (see ``heysh.cli._temporal_calls``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from heysh.cli._temporal_calls import connect, run_async, temporal_command
from heysh.errors import DocumentError


def register_reviews(subparsers: Any) -> None:
    """Add the review commands to the ``heysh`` parser."""
    submit = subparsers.add_parser(
        "submit",
        help="submit files (or every file in folders) for review",
        description="Each file is one document; its id is the SHA-256 of its "
        "bytes, so submitting it again to the same domain starts no second review.",
    )
    submit.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    submit.add_argument("--domain", required=True)
    submit.add_argument("--user", required=True, help="the uploader (a member)")
    submit.add_argument(
        "--wait",
        action="store_true",
        help="wait until each review is decided or awaits a "
        "controller, and print where it stands",
    )
    submit.set_defaults(handler=run_submit)

    pending = subparsers.add_parser(
        "pending",
        help="list a controller's pending reviews",
        description="Each domain's reviews follow its review_order: arrival "
        "(oldest first) or uncertainty (score closest to the relevance "
        "threshold first).",
    )
    pending.add_argument("--controller", required=True, metavar="USER")
    pending.add_argument("--domain", help="only this domain")
    pending.set_defaults(handler=run_pending)

    for name, verb, extra in (
        ("decide", "approve or reject a document", "--reason"),
        ("vote", "vote on a document", "--comment"),
    ):
        parser = subparsers.add_parser(name, help=verb)
        parser.add_argument(
            "doc",
            metavar="DOC",
            help="document id (or a unique prefix of at least 8 characters)",
        )
        parser.add_argument("--domain", required=True)
        parser.add_argument("--user", required=True)
        choice = parser.add_mutually_exclusive_group(required=True)
        choice.add_argument("--approve", dest="approve", action="store_true")
        choice.add_argument("--reject", dest="approve", action="store_false")
        parser.add_argument(extra, dest="comment", default="")
        parser.set_defaults(handler=run_decide if name == "decide" else run_vote)

    status = subparsers.add_parser(
        "status", help="show a document's review: state, decision, votes, history"
    )
    status.add_argument("doc", metavar="DOC")
    status.add_argument("--domain", required=True)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)


@temporal_command
def run_submit(args: argparse.Namespace) -> int:
    files = list(_files_of(args.paths))
    if not files:
        raise DocumentError(
            f"no files found in {', '.join(str(p) for p in args.paths)}"
        )
    return run_async(_submit(files, args))


async def _submit(files: list[Path], args: argparse.Namespace) -> int:
    from heysh.client import submit_document
    from heysh.workflows.review import ReviewOptions

    settings, client = await connect()
    options = ReviewOptions(task_queue_suffix=settings.task_queue_suffix)
    with _review_stores(settings) as stores:
        for path in files:
            body = await asyncio.to_thread(path.read_bytes)
            result = await submit_document(
                client,
                stores,
                args.domain,
                body,
                path.name,
                args.user,
                options=options,
            )
            what = "already submitted" if result.already_existed else "submitted"
            _out(
                f"{path}: {what}\n  doc      {result.doc_id}\n"
                f"  workflow {result.workflow_id}"
            )
            if args.wait:
                _out(
                    "  " + await _wait_until_settled(client, args.domain, result.doc_id)
                )
    return 0


async def _wait_until_settled(
    client: Any, domain_id: str, doc_id: str, timeout_s: float = 300.0
) -> str:
    from heysh.client import get_status

    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        status = await get_status(client, domain_id, doc_id)
        if status.stage == "done":
            return (
                f"{status.outcome} by {status.decided_by} (score "
                f"{_score(status.score)})"
            )
        if status.stage == "awaiting_decision":
            return (
                f"awaiting decision by {status.assigned_controller} (score "
                f"{_score(status.score)})"
            )
        if asyncio.get_running_loop().time() > deadline:
            return f"still {status.stage} after {timeout_s:.0f}s"
        await asyncio.sleep(0.3)


@temporal_command
def run_pending(args: argparse.Namespace) -> int:
    return run_async(_pending(args))


async def _pending(args: argparse.Namespace) -> int:
    from heysh.feedback.queue import pending_in_review_order
    from heysh.stores.factory import open_metadata_store, store_urls

    settings, client = await connect()
    metadata = open_metadata_store(store_urls(settings).metadata)
    try:
        reviews = await pending_in_review_order(
            client, metadata, args.controller, domain_id=args.domain
        )
    finally:
        metadata.close()
    if not reviews:
        _out(f"nothing pending for {args.controller}")
    for item in reviews:
        review = item.review
        _out(f"{review.domain_id}  {review.doc_id}  {review.filename}")
    return 0


@temporal_command
def run_decide(args: argparse.Namespace) -> int:
    return run_async(_decide(args))


async def _decide(args: argparse.Namespace) -> int:
    from heysh.client import decide

    _, client = await connect()
    doc_id = await _resolve_doc(client, args.domain, args.doc)
    response = await decide(
        client, args.domain, doc_id, args.user, args.approve, args.comment
    )
    _out(f"{doc_id}: {response.outcome} by {response.decided_by}")
    return 0


@temporal_command
def run_vote(args: argparse.Namespace) -> int:
    return run_async(_vote(args))


async def _vote(args: argparse.Namespace) -> int:
    from heysh.client import vote

    _, client = await connect()
    doc_id = await _resolve_doc(client, args.domain, args.doc)
    response = await vote(
        client, args.domain, doc_id, args.user, args.approve, args.comment
    )
    _out(
        f"{doc_id}: vote by {args.user} recorded; "
        f"{response.votes_for} for, {response.votes_against} against"
    )
    return 0


@temporal_command
def run_status(args: argparse.Namespace) -> int:
    return run_async(_status(args))


async def _status(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from heysh.client import get_status

    settings, client = await connect()
    doc_id = await _resolve_doc(client, args.domain, args.doc)
    status = await get_status(client, args.domain, doc_id)
    decision = await asyncio.to_thread(_decision_of, settings, args.domain, doc_id)
    history = await _history_of(client, status.workflow_id)
    if args.json:
        _out(
            json.dumps(
                {"status": asdict(status), "decision": decision, "history": history},
                indent=2,
                default=str,
            )
        )
        return 0
    _out(f"document:   {status.doc_id}")
    _out(f"domain:     {status.domain_id}")
    _out(f"file:       {status.filename} (uploaded by {status.uploader})")
    _out(
        f"state:      {status.stage}"
        + (
            f", waiting for {status.assigned_controller} (escalation round "
            f"{status.escalation_round})"
            if status.stage == "awaiting_decision"
            else ""
        )
    )
    _out(f"score:      {_score(status.score)}")
    _out(f"model:      {status.model_name or '-'} {status.model_version}".rstrip())
    if status.flags:
        _out(f"flags:      {', '.join(status.flags)}")
    if decision:
        thresholds = ", ".join(
            f"{k.removesuffix('_threshold')} {v}"
            for k, v in decision["thresholds"].items()
        )
        _out(
            f"decision:   {decision['outcome']} by {decision['decided_by']} at "
            f"{decision['decided_at']}"
        )
        _out(f"  reason:     {decision['reason']}")
        _out(
            f"  score:      {_score(decision['score'])} with {decision['model_name']}"
            f" {decision['model_version']}"
        )
        _out(f"  thresholds: {thresholds or '-'}")
    else:
        _out("decision:   none yet")
    _out(
        "votes:      "
        + (
            ", ".join(
                f"{v.voter} ({v.role}) {'approve' if v.approve else 'reject'}"
                for v in status.votes
            )
            or "none"
        )
    )
    _out("history:")
    for event in history:
        _out(f"  {event['time']}  {event['event']}")
    return 0


def _decision_of(settings: Any, domain_id: str, doc_id: str) -> dict[str, Any] | None:
    from heysh.stores.factory import open_metadata_store, store_urls

    store = open_metadata_store(store_urls(settings).metadata)
    try:
        row = store.get_decision(domain_id, doc_id)
    finally:
        store.close()
    if row is None:
        return None
    return {
        "outcome": row.outcome,
        "decided_by": row.decided_by,
        "score": row.score,
        "model_name": row.model_name,
        "model_version": row.model_version,
        "thresholds": dict(row.thresholds),
        "reason": row.reason,
        "decided_at": row.decided_at.isoformat(timespec="seconds")
        if row.decided_at
        else "",
    }


async def _history_of(client: Any, workflow_id: str) -> list[dict[str, str]]:
    """Summarise the review's Temporal history: one line per meaningful event."""
    from temporalio.api.enums.v1 import EventType

    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled: dict[int, str] = {}
    lines = []
    converter = client.data_converter.payload_converter
    for event in history.events:
        kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        text = ""
        if kind == "WORKFLOW_EXECUTION_STARTED":
            text = "review started"
        elif kind == "ACTIVITY_TASK_SCHEDULED":
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_type.name
            text = f"{attrs.activity_type.name} scheduled on {attrs.task_queue.name}"
        elif kind in (
            "ACTIVITY_TASK_COMPLETED",
            "ACTIVITY_TASK_FAILED",
            "ACTIVITY_TASK_TIMED_OUT",
        ):
            attrs = getattr(event, _attributes_field(kind))
            name = scheduled.get(attrs.scheduled_event_id, "activity")
            text = f"{name} {kind.removeprefix('ACTIVITY_TASK_').lower()}"
        elif kind == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            attrs = event.workflow_execution_update_accepted_event_attributes
            request = attrs.accepted_request
            text = f"{request.input.name} accepted" + _update_actor(
                converter, request.input.args.payloads
            )
        elif kind == "TIMER_STARTED":
            text = "escalation timer started"
        elif kind == "TIMER_FIRED":
            text = "escalation timer fired: next controller"
        elif kind == "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES":
            text = "assigned controller updated"
        elif kind in _CLOSING_EVENTS:
            text = "review " + kind.removeprefix("WORKFLOW_EXECUTION_").lower().replace(
                "_", " "
            )
        if text:
            lines.append(
                {
                    "time": event.event_time.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
                    "event": text,
                }
            )
    return lines


_CLOSING_EVENTS = {
    f"WORKFLOW_EXECUTION_{end}"
    for end in (
        "COMPLETED",
        "FAILED",
        "TIMED_OUT",
        "CANCELED",
        "TERMINATED",
        "CONTINUED_AS_NEW",
    )
}


def _attributes_field(kind: str) -> str:
    return kind.lower() + "_event_attributes"


def _update_actor(converter: Any, payloads: Any) -> str:
    """Return ' (actor: approve|reject ...)' from an update's first argument."""
    if not payloads:
        return ""
    try:
        request = converter.from_payloads(list(payloads[:1]))[0]
    except Exception:  # An unreadable payload only loses detail.
        return ""
    if not isinstance(request, dict) or "actor" not in request:
        return ""
    verdict = "approve" if request.get("approve") else "reject"
    return f" ({request['actor']}: {verdict})"


async def _resolve_doc(client: Any, domain_id: str, doc: str) -> str:
    """Return the full document id for ``doc`` (an id or a unique prefix)."""
    from heysh.workflows.review import review_workflow_id

    if len(doc) == 64:
        return doc
    if len(doc) < 8 or not all(c in "0123456789abcdef" for c in doc):
        raise DocumentError(
            f"document {doc!r} is neither an id (64 hex digits) nor a prefix of at "
            "least 8 hex digits"
        )
    prefix = review_workflow_id(domain_id, doc)
    matches = {
        execution.id[-64:]
        async for execution in client.list_workflows(
            f'WorkflowId STARTS_WITH "{prefix}"'
        )
    }
    if len(matches) != 1:
        found = "no review" if not matches else f"{len(matches)} reviews"
        raise DocumentError(
            f"document prefix {doc!r} matches {found} in domain {domain_id}; give "
            "the full id"
        )
    return str(matches.pop())


class _review_stores:  # noqa: N801 - used as a context manager
    """The blob and metadata stores that submission needs (no vector or graph)."""

    def __init__(self, settings: Any) -> None:
        self._settings = settings

    def __enter__(self) -> Any:
        from types import SimpleNamespace

        from heysh.stores.factory import (
            open_blob_store,
            open_metadata_store,
            store_urls,
        )

        urls = store_urls(self._settings)
        self._metadata = open_metadata_store(urls.metadata)
        try:
            blobs = open_blob_store(urls.blobs)
        except BaseException:
            self._metadata.close()
            raise
        self._stores = SimpleNamespace(metadata=self._metadata, blobs=blobs)
        return self._stores

    def __exit__(self, *exc_info: object) -> None:
        for store in (self._stores.blobs, self._metadata):
            close = getattr(store, "close", None)
            if close is not None:
                close()


def _files_of(paths: list[Path]) -> Iterator[Path]:
    """Yield each file, and every non-hidden file under each folder, sorted."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(
                    part.startswith(".") for part in relative.parts
                ):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise DocumentError(f"{path} is neither a file nor a folder")


def _score(score: float | None) -> str:
    return "-" if score is None else f"{score:.2f}"


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
