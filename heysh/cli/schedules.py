"""Pipeline schedule commands: ``heysh schedule create|list|trigger|cancel|...``.

Each schedule is a Temporal Schedule that starts a ``PipelineRunWorkflow`` on
the general worker, by cron expression (UTC) or fixed interval, with overlap
policy SKIP: a run that is due (or triggered) while the previous one still
runs is skipped and counted. The pipeline file is checked here (it must load
and declare every ``-p`` parameter) and read again by the worker, relative to
the worker's working directory when the path is relative.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from heysh.cli._temporal_calls import connect, run_async, temporal_command


def register(subparsers: Any) -> None:
    """Add the ``schedule`` commands to the ``heysh`` parser."""
    schedule = subparsers.add_parser(
        "schedule",
        help="run a pipeline on a Temporal schedule",
        description="Create, list, pause, unpause, trigger and delete schedules "
        "that run a papermill pipeline on the general worker, and cancel a run "
        "that is going. Overlapping runs of a schedule are skipped.",
    )
    actions = schedule.add_subparsers(dest="schedule_action", metavar="ACTION")

    create = actions.add_parser("create", help="create a pipeline schedule")
    create.add_argument("schedule_id", help="e.g. nightly-evaluation")
    create.add_argument(
        "--pipeline",
        required=True,
        type=Path,
        help="pipeline file, e.g. pipelines/nightly.yaml (as the worker sees it)",
    )
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="cron expression in UTC, e.g. '0 2 * * *'")
    when.add_argument("--every", help="interval: 90s, 30m, 6h or 1d")
    create.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter of every notebook that declares it (YAML value)",
    )
    create.add_argument("--paused", action="store_true", help="create it paused")
    create.add_argument("--note", default="", help="shown with the schedule")
    create.set_defaults(handler=run_create)

    listing = actions.add_parser("list", help="list pipeline schedules")
    listing.set_defaults(handler=run_list)

    for name, handler, text in (
        ("pause", run_pause, "pause a schedule"),
        ("unpause", run_unpause, "resume a paused schedule"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("schedule_id")
        action.add_argument("--note", default="", help="why, shown with the schedule")
        action.set_defaults(handler=handler)
    trigger = actions.add_parser(
        "trigger", help="start a run now (skipped if one is still running)"
    )
    trigger.add_argument("schedule_id")
    trigger.set_defaults(handler=run_trigger)
    cancel = actions.add_parser(
        "cancel",
        help="cancel the schedule's running run: its notebook is killed, its "
        "MLflow run ends KILLED (the schedule stays)",
    )
    cancel.add_argument("schedule_id")
    cancel.set_defaults(handler=run_cancel)
    delete = actions.add_parser(
        "delete", help="delete a schedule (runs already started go on)"
    )
    delete.add_argument("schedule_id")
    delete.set_defaults(handler=run_delete)


@temporal_command
def run_create(args: argparse.Namespace) -> int:
    from heysh.cli.research import parse_parameters
    from heysh.research.pipeline import load_pipeline
    from heysh.schedules import (
        check_schedule_id,
        create_pipeline_schedule,
        parse_interval,
    )

    check_schedule_id(args.schedule_id)
    pipeline = load_pipeline(args.pipeline)
    parameters = parse_parameters(args.parameter, pipeline)
    every = parse_interval(args.every) if args.every else None

    async def create() -> None:
        settings, client = await connect()
        await create_pipeline_schedule(
            client,
            args.schedule_id,
            str(args.pipeline),
            cron=args.cron,
            every=every,
            parameters=parameters,
            paused=args.paused,
            note=args.note,
            task_queue_suffix=settings.task_queue_suffix,
        )

    run_async(create())
    spec = f"cron {args.cron}" if args.cron else f"every {args.every}"
    state = "paused" if args.paused else "active"
    _out(
        f"created schedule {args.schedule_id}: pipeline {pipeline.name} "
        f"({args.pipeline}), {spec}, overlap skip, {state}"
    )
    return 0


@temporal_command
def run_list(args: argparse.Namespace) -> int:
    from heysh.schedules import list_pipeline_schedules

    async def listing() -> list[Any]:
        _, client = await connect()
        return await list_pipeline_schedules(client)

    schedules = run_async(listing())
    if not schedules:
        _out("no pipeline schedules: create one with heysh schedule create")
    for item in schedules:
        state = "paused" if item.paused else "active"
        next_run = f"{item.next_run:%Y-%m-%d %H:%M}Z" if item.next_run else "-"
        parameters = " ".join(f"{k}={v}" for k, v in sorted(item.parameters.items()))
        _out(
            f"{item.schedule_id:24} {state:7} {item.spec:20} next {next_run}  "
            f"{item.pipeline_file} {parameters}".rstrip()
        )
        running = ", ".join(item.running_workflow_ids) or "none"
        _out(
            f"    runs started {item.actions}, skipped (overlap) "
            f"{item.skipped_overlap}, running {running}"
            + (f"; note: {item.note}" if item.note else "")
        )
    return 0


@temporal_command
def run_pause(args: argparse.Namespace) -> int:
    from heysh.schedules import pause_schedule

    _on_schedule(pause_schedule, args.schedule_id, args.note)
    _out(f"paused {args.schedule_id}")
    return 0


@temporal_command
def run_unpause(args: argparse.Namespace) -> int:
    from heysh.schedules import unpause_schedule

    _on_schedule(unpause_schedule, args.schedule_id, args.note)
    _out(f"unpaused {args.schedule_id}")
    return 0


@temporal_command
def run_trigger(args: argparse.Namespace) -> int:
    from heysh.schedules import trigger_schedule

    _on_schedule(trigger_schedule, args.schedule_id)
    _out(
        f"triggered {args.schedule_id} (skipped if a run of it is still going; "
        "see heysh schedule list)"
    )
    return 0


@temporal_command
def run_cancel(args: argparse.Namespace) -> int:
    from heysh.schedules import cancel_running_runs

    async def call() -> list[str]:
        _, client = await connect()
        return await cancel_running_runs(client, args.schedule_id)

    cancelled = run_async(call())
    if not cancelled:
        _out(f"{args.schedule_id} has no run going; nothing to cancel")
    for workflow_id in cancelled:
        _out(f"cancel requested for {workflow_id}")
    return 0


@temporal_command
def run_delete(args: argparse.Namespace) -> int:
    from heysh.schedules import delete_schedule

    _on_schedule(delete_schedule, args.schedule_id)
    _out(f"deleted {args.schedule_id}")
    return 0


def _on_schedule(function: Any, *arguments: Any) -> None:
    async def call() -> None:
        _, client = await connect()
        await function(client, *arguments)

    run_async(call())


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
