"""Production commands: the local stack, workers, domains, members and reviews.

``heysh stack up|down|status`` runs the embedded stack; ``heysh worker`` runs
the workers of ``WORKER_TYPES``; ``heysh domain`` and ``heysh member`` manage
domains and roles in the metadata store; ``heysh submit``, ``pending``,
``decide``, ``vote`` and ``status`` drive reviews through Temporal.

Connection settings come from ``heysh.config.Settings`` (``HEYSH_HOME``,
``HEYSH_TEMPORAL_ADDRESS``, ...). Heavy imports happen inside the handlers.
User errors raise ``HeyshError``, which ``heysh.cli.main`` prints as one line
with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from heysh.errors import ConfigError, DocumentError, HeyshError

T = TypeVar("T")

# Exit status of ``heysh stack status`` when the stack is not (fully) up.
STATUS_NOT_RUNNING = 3

# A process that created a Temporal client may abort while the interpreter
# shuts down (temporalio/sdk-python#300, open: the SDK's Rust threads touch the
# GIL after Python tore it down). With temporalio 1.35 here, 5 to 7 of 10
# short-lived processes that only connected aborted with "PyGILState_Release"
# or a segfault. Commands that talk to Temporal therefore leave with os._exit
# once everything is flushed, using the status main() returned.
_exit_status: list[int] = []


def _temporal_command(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Make a command that uses a Temporal client exit without interpreter teardown."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        if not _exit_status:
            atexit.register(_exit_without_teardown)
            _exit_status.append(1)
        try:
            code = int(handler(args) or 0)
        except KeyboardInterrupt:
            _exit_status[0] = 130
            raise
        except BaseException:
            _exit_status[0] = 1
            raise
        _exit_status[0] = code
        return code

    return wrapper


def _exit_without_teardown() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(_exit_status[0])


def register(subparsers: Any) -> None:
    """Add the production commands to the ``heysh`` parser."""
    _register_stack(subparsers)
    worker = subparsers.add_parser(
        "worker",
        help="run the Temporal workers of WORKER_TYPES until SIGTERM",
        description="Run one Temporal worker per type in WORKER_TYPES "
        "(ai-processing, storage, general) with /health, /ready and /metrics on "
        "HEYSH_HEALTH_PORT. HEYSH_ENABLE_YARDSTICK=1 also runs the benchmark's "
        "yardstick workers.",
    )
    worker.set_defaults(handler=run_worker)
    _register_domain(subparsers)
    _register_member(subparsers)
    _register_reviews(subparsers)


def _register_stack(subparsers: Any) -> None:
    stack = subparsers.add_parser(
        "stack",
        help="start, stop or inspect the local stack",
        description="The embedded stack on 127.0.0.1: a Temporal dev server (data "
        "in HEYSH_HOME/temporal, web UI) and one worker process per type; the "
        "stores are embedded under HEYSH_HOME.",
    )
    actions = stack.add_subparsers(dest="stack_action", metavar="ACTION")
    up = actions.add_parser("up", help="start what is not running and wait until ready")
    up.add_argument(
        "--ui-port",
        type=int,
        default=8233,
        help="Temporal web UI port (default 8233; 0 runs without the UI)",
    )
    up.add_argument(
        "--health-ports",
        default="8080,8081,8082",
        help="health ports of the ai-processing, storage and general "
        "workers (default 8080,8081,8082)",
    )
    up.add_argument(
        "--sqlite-profile",
        default=None,
        help="the dev server's SQLite settings: wal (default), wal-normal or default",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=240.0,
        help="seconds each process gets to become ready (default 240)",
    )
    up.set_defaults(handler=run_stack_up)
    down = actions.add_parser("down", help="stop every process of the stack")
    down.add_argument(
        "--grace",
        type=float,
        default=None,
        help="seconds workers get after SIGTERM before SIGKILL "
        "(default HEYSH_WORKER_SHUTDOWN_GRACE_S + 10)",
    )
    down.set_defaults(handler=run_stack_down)
    status = actions.add_parser(
        "status", help="show each process; exit 0 when all are ready, 3 otherwise"
    )
    status.set_defaults(handler=run_stack_status)


def _register_domain(subparsers: Any) -> None:
    domain = subparsers.add_parser("domain", help="create, change and show domains")
    actions = domain.add_subparsers(dest="domain_action", metavar="ACTION")
    create = actions.add_parser("create", help="create a domain")
    create.add_argument("domain", help="domain id, e.g. news")
    create.add_argument("--name", default="", help="display name")
    create.add_argument(
        "--description",
        required=True,
        help="what belongs in the domain (the model reads it)",
    )
    _add_config_arguments(create)
    create.set_defaults(handler=run_domain_create)
    update = actions.add_parser("update", help="change a domain's settings")
    update.add_argument("domain")
    update.add_argument("--name")
    update.add_argument("--description")
    _add_config_arguments(update)
    update.set_defaults(handler=run_domain_update)
    show = actions.add_parser("show", help="show a domain, its settings and members")
    show.add_argument("domain")
    show.set_defaults(handler=run_domain_show)
    listing = actions.add_parser("list", help="list domains")
    listing.set_defaults(handler=run_domain_list)


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--language", help="language of the domain's documents (en)")
    parser.add_argument(
        "--relevance-threshold",
        type=float,
        help="score line between relevant and not (7.0)",
    )
    parser.add_argument(
        "--auto-approve",
        type=_threshold,
        help="approve without a human at or above (8.5; 'off')",
    )
    parser.add_argument(
        "--auto-reject",
        type=_threshold,
        help="reject and archive at or below (4.0; 'off')",
    )
    ai = parser.add_mutually_exclusive_group()
    ai.add_argument(
        "--ai-controller",
        dest="ai_controller",
        action="store_true",
        default=None,
        help="the AI decides the gray zone",
    )
    ai.add_argument(
        "--human-controller",
        dest="ai_controller",
        action="store_false",
        help="controllers decide the gray zone (the default)",
    )
    parser.add_argument(
        "--controller",
        action="append",
        metavar="USER",
        help="a controller of the round-robin pool (repeatable; "
        "replaces the pool on update)",
    )
    parser.add_argument(
        "--escalation-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds before a document moves to the next controller (86400)",
    )
    parser.add_argument(
        "--model-override",
        metavar="MODEL_URI",
        help="score this domain with this model instead of the production alias",
    )


def _register_member(subparsers: Any) -> None:
    member = subparsers.add_parser("member", help="manage a domain's members and roles")
    actions = member.add_subparsers(dest="member_action", metavar="ACTION")
    add = actions.add_parser("add", help="give a user a role in a domain")
    add.add_argument("domain")
    add.add_argument("user")
    add.add_argument(
        "--role", required=True, choices=["admin", "controller", "contributor"]
    )
    add.set_defaults(handler=run_member_add)
    remove = actions.add_parser("remove", help="remove a user from a domain")
    remove.add_argument("domain")
    remove.add_argument("user")
    remove.set_defaults(handler=run_member_remove)
    listing = actions.add_parser("list", help="list a domain's members")
    listing.add_argument("domain")
    listing.set_defaults(handler=run_member_list)


def _register_reviews(subparsers: Any) -> None:
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
        "pending", help="list a controller's pending reviews"
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


# --- stack and worker -----------------------------------------------------------


def run_stack_up(args: argparse.Namespace) -> int:
    from heysh.config import load_settings
    from heysh.stack import StackOptions, start_stack
    from heysh.stack.launcher import paths_for
    from heysh.stack.temporal_dev import DEFAULT_PRAGMA_PROFILE

    settings = load_settings()
    options = StackOptions(
        ui_port=args.ui_port,
        health_ports=_ports(args.health_ports),
        pragma_profile=args.sqlite_profile or DEFAULT_PRAGMA_PROFILE,
        start_timeout_s=args.timeout,
    )
    report = start_stack(settings, options)
    state = report.state
    if state is None:
        raise HeyshError("the stack started but recorded no state; see its logs")
    if report.started:
        _out(f"started: {', '.join(report.started)}")
    else:
        _out("already running: nothing to start")
    _out(f"temporal: {state.temporal_address}")
    if state.ui_url:
        _out(f"web UI:   {state.ui_url}")
    _write_components(report.components)
    paths = paths_for(settings)
    _out(f"home:     {paths.home}")
    _out(f"logs:     {paths.logs_dir}")
    return 0


def run_stack_down(args: argparse.Namespace) -> int:
    from heysh.config import load_settings
    from heysh.stack import stop_stack

    results = stop_stack(load_settings(), grace_s=args.grace)
    if not results:
        _out("not running: nothing recorded in stack.json")
    for name, result in results:
        _out(f"{name:22} {result}")
    return 0


def run_stack_status(args: argparse.Namespace) -> int:
    from heysh.config import load_settings
    from heysh.stack import stack_status

    report = stack_status(load_settings())
    if report.state is None:
        _out("not running: nothing recorded in stack.json")
        return STATUS_NOT_RUNNING
    _out(f"temporal: {report.state.temporal_address}")
    if report.state.ui_url:
        _out(f"web UI:   {report.state.ui_url}")
    _write_components(report.components)
    return 0 if report.is_up else STATUS_NOT_RUNNING


@_temporal_command
def run_worker(args: argparse.Namespace) -> int:
    from heysh.config import load_settings

    settings = load_settings()
    yardstick = os.environ.get("HEYSH_ENABLE_YARDSTICK", "") == "1"
    asyncio.run(_run_workers(settings, yardstick))
    return 0


async def _run_workers(settings: Any, yardstick: bool) -> None:
    from heysh.worker.runner import run_workers

    stop = asyncio.Event()
    if not yardstick:
        await run_workers(settings, stop=stop)
        return
    from heysh.stack.yardstick import run_yardstick_workers

    # run_workers sets ``stop`` on SIGTERM; the yardstick workers follow it.
    tasks = [
        asyncio.create_task(run_workers(settings, stop=stop)),
        asyncio.create_task(run_yardstick_workers(settings, stop)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _write_components(components: list[Any]) -> None:
    for c in components:
        state = "ready" if c.ready else ("running" if c.running else "stopped")
        _out(f"{c.name:22} pid {c.pid:<8} port {c.port:<6} {state:8} {c.detail}")


def _ports(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--health-ports {text!r} must be three comma-separated port numbers"
        ) from None


# --- domains and members --------------------------------------------------------


def run_domain_create(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        if metadata.get_domain(args.domain) is not None:
            raise ConfigError(
                f"domain {args.domain!r} already exists; change it with heysh domain "
                "update"
            )
        config = _build_config({}, args)
        metadata.upsert_domain(
            args.domain,
            args.name or args.domain,
            args.description,
            config.model_dump_json(),
            args.language or "en",
        )
        _add_pool_members(metadata, args.domain, config.controller_pool)
        _write_domain(metadata, args.domain)
    return 0


def run_domain_update(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        domain = _require_domain(metadata, args.domain)
        config = _build_config(json.loads(domain["config_json"] or "{}"), args)
        metadata.upsert_domain(
            args.domain,
            args.name if args.name is not None else domain["name"],
            args.description if args.description is not None else domain["description"],
            config.model_dump_json(),
            args.language or domain["language"],
        )
        _add_pool_members(metadata, args.domain, config.controller_pool)
        _write_domain(metadata, args.domain)
    return 0


def run_domain_show(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        _require_domain(metadata, args.domain)
        _write_domain(metadata, args.domain)
    return 0


def run_domain_list(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        domains = metadata.list_domains()
        if not domains:
            _out("no domains yet: create one with heysh domain create")
        for domain in domains:
            config = json.loads(domain["config_json"] or "{}")
            _out(
                f"{domain['domain_id']:24} {domain['name']:24} "
                f"{_thresholds_line(config)}"
            )
    return 0


def run_member_add(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        _require_domain(metadata, args.domain)
        metadata.set_membership(args.domain, args.user, args.role)
        _out(f"{args.user} is {args.role} in {args.domain}")
    return 0


def run_member_remove(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        domain = _require_domain(metadata, args.domain)
        pool = json.loads(domain["config_json"] or "{}").get("controller_pool") or []
        if args.user in pool:
            raise ConfigError(
                f"{args.user} is in the controller pool of {args.domain}; remove "
                "them from it first (heysh domain update --controller ...)"
            )
        if metadata.get_role(args.domain, args.user) is None:
            raise ConfigError(f"{args.user} is not a member of {args.domain}")
        metadata.remove_membership(args.domain, args.user)
        _out(f"{args.user} removed from {args.domain}")
    return 0


def run_member_list(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        _require_domain(metadata, args.domain)
        for user, role in metadata.list_members(args.domain):
            _out(f"{user:24} {role}")
    return 0


def _build_config(current: dict[str, Any], args: argparse.Namespace) -> Any:
    """Merge the given options into ``current`` and validate the result."""
    from heysh.domain import validate_domain_config

    changes = {
        "relevance_threshold": args.relevance_threshold,
        "auto_approve_threshold": args.auto_approve,
        "auto_reject_threshold": args.auto_reject,
        "use_ai_controller": args.ai_controller,
        "controller_pool": args.controller,
        "escalation_timeout_s": args.escalation_timeout,
        "ai_model_override": args.model_override,
    }
    merged = dict(current)
    for key, value in changes.items():
        if value is _OFF:
            merged[key] = None
        elif value is not None:
            merged[key] = value
    return validate_domain_config(merged)


def _add_pool_members(metadata: Any, domain_id: str, pool: tuple[str, ...]) -> None:
    """Make every pool user at least a controller of the domain."""
    for user in pool:
        if metadata.get_role(domain_id, user) not in ("admin", "controller"):
            metadata.set_membership(domain_id, user, "controller")


def _write_domain(metadata: Any, domain_id: str) -> None:
    domain = metadata.get_domain(domain_id)
    config = json.loads(domain["config_json"] or "{}")
    _out(f"domain:      {domain_id}")
    _out(f"name:        {domain['name']}")
    _out(f"description: {domain['description']}")
    _out(f"language:    {domain['language']}")
    _out(f"thresholds:  {_thresholds_line(config)}")
    controller = (
        "AI at relevance threshold"
        if config.get("use_ai_controller")
        else ("human, round-robin")
    )
    pool = ", ".join(config.get("controller_pool") or []) or "(empty)"
    _out(
        f"gray zone:   {controller}; pool {pool}; escalation after "
        f"{config.get('escalation_timeout_s'):g} s"
    )
    if config.get("ai_model_override"):
        _out(f"model:       {config['ai_model_override']}")
    members = metadata.list_members(domain_id)
    _out("members:     " + (", ".join(f"{u} ({r})" for u, r in members) or "(none)"))


def _thresholds_line(config: dict[str, Any]) -> str:
    """Return ``reject <= 4 | relevance 7 | approve >= 8.5`` (``off``: side off)."""

    def shown(key: str) -> str:
        value = config.get(key)
        return "off" if value is None else f"{value:g}"

    return (
        f"reject <= {shown('auto_reject_threshold')} | relevance "
        f"{shown('relevance_threshold')} | approve >= "
        f"{shown('auto_approve_threshold')}"
    )


class _Off:
    """The value of ``--auto-approve off``: switch that side off."""


_OFF = _Off()


def _threshold(text: str) -> float | _Off:
    if text.lower() == "off":
        return _OFF
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a score from 0 to 10 or 'off'"
        ) from None


class _metadata:  # noqa: N801 - used as a context manager, reads like a function
    """Open the metadata store of the settings for one command, then close it."""

    def __enter__(self) -> Any:
        from heysh.config import load_settings
        from heysh.stores.factory import open_metadata_store, store_urls

        self._store = open_metadata_store(store_urls(load_settings()).metadata)
        return self._store

    def __exit__(self, *exc_info: object) -> None:
        self._store.close()


def _require_domain(metadata: Any, domain_id: str) -> dict[str, Any]:
    domain: dict[str, Any] | None = metadata.get_domain(domain_id)
    if domain is None:
        known = ", ".join(d["domain_id"] for d in metadata.list_domains()) or "none"
        raise ConfigError(f"domain {domain_id!r} does not exist (known: {known})")
    return domain


# --- reviews --------------------------------------------------------------------


@_temporal_command
def run_submit(args: argparse.Namespace) -> int:
    files = list(_files_of(args.paths))
    if not files:
        raise DocumentError(
            f"no files found in {', '.join(str(p) for p in args.paths)}"
        )
    return _run(_submit(files, args))


async def _submit(files: list[Path], args: argparse.Namespace) -> int:
    from heysh.client import submit_document
    from heysh.workflows.review import ReviewOptions

    settings, client = await _connect()
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


@_temporal_command
def run_pending(args: argparse.Namespace) -> int:
    return _run(_pending(args))


async def _pending(args: argparse.Namespace) -> int:
    from heysh.client import list_pending

    _, client = await _connect()
    reviews = await list_pending(client, args.controller, domain_id=args.domain)
    if not reviews:
        _out(f"nothing pending for {args.controller}")
    for review in reviews:
        _out(f"{review.domain_id}  {review.doc_id}  {review.filename}")
    return 0


@_temporal_command
def run_decide(args: argparse.Namespace) -> int:
    return _run(_decide(args))


async def _decide(args: argparse.Namespace) -> int:
    from heysh.client import decide

    _, client = await _connect()
    doc_id = await _resolve_doc(client, args.domain, args.doc)
    response = await decide(
        client, args.domain, doc_id, args.user, args.approve, args.comment
    )
    _out(f"{doc_id}: {response.outcome} by {response.decided_by}")
    return 0


@_temporal_command
def run_vote(args: argparse.Namespace) -> int:
    return _run(_vote(args))


async def _vote(args: argparse.Namespace) -> int:
    from heysh.client import vote

    _, client = await _connect()
    doc_id = await _resolve_doc(client, args.domain, args.doc)
    response = await vote(
        client, args.domain, doc_id, args.user, args.approve, args.comment
    )
    _out(
        f"{doc_id}: vote by {args.user} recorded; "
        f"{response.votes_for} for, {response.votes_against} against"
    )
    return 0


@_temporal_command
def run_status(args: argparse.Namespace) -> int:
    return _run(_status(args))


async def _status(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from heysh.client import get_status

    settings, client = await _connect()
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


async def _connect() -> tuple[Any, Any]:
    from heysh.client import connect_client
    from heysh.config import load_settings

    settings = load_settings()
    return settings, await connect_client(settings)


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


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, turning Temporal failures into one-line errors."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError

    try:
        return asyncio.run(coro)
    except RPCError as err:
        raise HeyshError(f"Temporal refused the request: {err.message}") from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise HeyshError(f"the review refused the update: {cause or err}") from err


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
