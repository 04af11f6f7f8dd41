"""Production commands: the local stack, workers, domains, members and reviews.

``heysh stack up|down|status`` runs the embedded stack; ``heysh worker`` runs
the workers of ``WORKER_TYPES``; ``heysh domain`` and ``heysh member`` manage
domains and roles in the metadata store; ``heysh submit``, ``pending``,
``decide``, ``vote`` and ``status`` drive reviews through Temporal. This
module registers them all and holds the stack and worker commands; the
others live in ``_domains`` and ``_reviews`` next to it.

Connection settings come from ``heysh.config.Settings`` (``HEYSH_HOME``,
``HEYSH_TEMPORAL_ADDRESS``, ...). Heavy imports happen inside the handlers.
User errors raise ``HeyshError``, which ``heysh.cli.main`` prints as one line
with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from heysh.cli._domains import register_domain, register_member
from heysh.cli._reviews import register_reviews
from heysh.cli._temporal_calls import temporal_command
from heysh.errors import ConfigError, HeyshError

# Exit status of ``heysh stack status`` when the stack is not (fully) up.
STATUS_NOT_RUNNING = 3


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
    register_domain(subparsers)
    register_member(subparsers)
    register_reviews(subparsers)


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


@temporal_command
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


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
