"""The Python API over pipeline schedules: Temporal Schedules of pipeline runs.

A schedule starts a ``PipelineRunWorkflow`` on the general queue at times given
by a cron expression or a fixed interval. Its overlap policy is SKIP: while a
run of the schedule is still going, a due time (or a manual trigger) starts
nothing, and the schedule counts it as skipped. The CLI (``heysh schedule``)
and tests use these functions.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from heysh.constants import GENERAL_QUEUE
from heysh.errors import ConfigError
from heysh.workflows.pipeline_run import (
    WORKFLOW_NAME,
    PipelineRunInput,
    PipelineRunWorkflow,
)

_logger = logging.getLogger(__name__)

# Schedule ids become workflow id prefixes; keep them to a safe alphabet.
_SCHEDULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class ScheduleSummary:
    """A pipeline schedule as ``heysh schedule list`` shows it.

    Attributes:
        spec: ``cron 0 2 * * *`` or ``every 1h``.
        running_workflow_ids: Runs of this schedule that are going now.
        skipped_overlap: Due times or triggers skipped because a run was going.
    """

    schedule_id: str
    pipeline_file: str
    parameters: dict[str, Any]
    spec: str
    paused: bool
    note: str
    next_run: datetime | None
    actions: int
    skipped_overlap: int
    running_workflow_ids: list[str] = field(default_factory=list)
    recent_workflow_ids: list[str] = field(default_factory=list)


def parse_interval(text: str) -> timedelta:
    """Parse ``90s``, ``30m``, ``6h`` or ``1d`` into a timedelta.

    Raises:
        ConfigError: for anything else, or a zero interval.

    >>> parse_interval("30m")
    datetime.timedelta(seconds=1800)
    """
    match = _DURATION.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(
            f"interval {text!r} must be a positive number followed by s, m, h or d, "
            "e.g. 30m or 1d"
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def check_schedule_id(schedule_id: str) -> None:
    """Refuse a schedule id Temporal or a workflow id cannot carry.

    Raises:
        ConfigError: naming the id and the allowed alphabet.
    """
    if not _SCHEDULE_ID.match(schedule_id):
        raise ConfigError(
            f"schedule id {schedule_id!r} must start with a letter or digit and hold "
            "only letters, digits, '.', '_' and '-' (at most 200)"
        )


async def create_pipeline_schedule(
    client: Client,
    schedule_id: str,
    pipeline_file: str,
    *,
    cron: str | None = None,
    every: timedelta | None = None,
    parameters: dict[str, Any] | None = None,
    paused: bool = False,
    note: str = "",
    task_queue_suffix: str = "",
    run_options: dict[str, Any] | None = None,
) -> ScheduleHandle:
    """Create a schedule that runs ``pipeline_file`` with overlap policy SKIP.

    Args:
        client: Connected Temporal client.
        schedule_id: The schedule's id (also the prefix of its runs' ids).
        pipeline_file: The pipeline YAML as the general worker sees it.
        cron: A cron expression in UTC, e.g. ``0 2 * * *``; or give ``every``.
        every: A fixed interval between runs.
        parameters: ``-p`` overrides for every notebook that declares them;
            JSON values only.
        paused: Create it paused (it starts nothing until unpaused).
        note: Shown with the schedule (why it exists or was paused).
        task_queue_suffix: Appended to the general queue (isolated workers).
        run_options: Other :class:`PipelineRunInput` fields (timeouts).

    Returns:
        The schedule's handle.

    Raises:
        ConfigError: for a bad id, both or neither of ``cron`` and ``every``,
            parameters that are not JSON values, or an id already in use.
    """
    check_schedule_id(schedule_id)
    if (cron is None) == (every is None):
        raise ConfigError("give exactly one of a cron expression and an interval")
    parameters = dict(parameters or {})
    try:
        json.dumps(parameters)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"pipeline parameters must be JSON values (text, numbers, booleans, "
            f"null, lists, maps): {err}"
        ) from None
    request = PipelineRunInput(
        pipeline_file=pipeline_file,
        parameters=parameters,
        task_queue_suffix=task_queue_suffix,
        **(run_options or {}),
    )
    spec = (
        ScheduleSpec(cron_expressions=[cron])
        if cron is not None
        else ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)])  # type: ignore[arg-type]  # every is set: checked above
    )
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            PipelineRunWorkflow.run,
            request,
            id=f"pipeline-{schedule_id}",
            task_queue=GENERAL_QUEUE + task_queue_suffix,
        ),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=paused, note=note),
    )
    try:
        handle = await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        raise ConfigError(
            f"schedule {schedule_id!r} already exists; delete it first or pick "
            "another id"
        ) from None
    except RPCError as err:
        raise _schedule_error(err, schedule_id, "create") from err
    _logger.info(
        "schedule_created",
        extra={"schedule_id": schedule_id, "pipeline_file": pipeline_file},
    )
    return handle


async def list_pipeline_schedules(client: Client) -> list[ScheduleSummary]:
    """Return every pipeline schedule, ordered by id.

    Reads Temporal's visibility store, which may lag a second behind a newly
    created or deleted schedule; each listed schedule is then described.
    """
    summaries = []
    async for listed in await client.list_schedules():
        action = getattr(listed.schedule, "action", None) if listed.schedule else None
        if getattr(action, "workflow", None) != WORKFLOW_NAME:
            continue
        try:
            summaries.append(await describe_pipeline_schedule(client, listed.id))
        except ConfigError:
            continue  # deleted between listing and describing
    return sorted(summaries, key=lambda s: s.schedule_id)


async def describe_pipeline_schedule(
    client: Client, schedule_id: str
) -> ScheduleSummary:
    """Return one pipeline schedule's settings and counters.

    Raises:
        ConfigError: if there is no such schedule.
    """
    handle = client.get_schedule_handle(schedule_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        raise _schedule_error(err, schedule_id, "describe") from err
    return _summary(description, client.data_converter.payload_converter)


async def pause_schedule(client: Client, schedule_id: str, note: str = "") -> None:
    """Pause a schedule: due times start nothing until it is unpaused.

    Raises:
        ConfigError: if there is no such schedule.
    """
    await _call(client, schedule_id, "pause", note=note or "paused with heysh")


async def unpause_schedule(client: Client, schedule_id: str, note: str = "") -> None:
    """Resume a paused schedule.

    Raises:
        ConfigError: if there is no such schedule.
    """
    await _call(client, schedule_id, "unpause", note=note or "unpaused with heysh")


async def trigger_schedule(client: Client, schedule_id: str) -> None:
    """Start a run now, unless one of the schedule's runs is still going (SKIP).

    Raises:
        ConfigError: if there is no such schedule.
    """
    await _call(client, schedule_id, "trigger", overlap=ScheduleOverlapPolicy.SKIP)


async def delete_schedule(client: Client, schedule_id: str) -> None:
    """Delete a schedule; runs it already started go on.

    Raises:
        ConfigError: if there is no such schedule.
    """
    await _call(client, schedule_id, "delete")


async def cancel_running_runs(client: Client, schedule_id: str) -> list[str]:
    """Cancel the schedule's runs that are still going; return their workflow ids.

    The general worker kills each run's notebook kernel and closes its MLflow
    run as KILLED; the schedule itself stays as it is (pause it to stop new
    runs).

    Raises:
        ConfigError: if there is no such schedule.
    """
    check_schedule_id(schedule_id)
    try:
        description = await client.get_schedule_handle(schedule_id).describe()
    except RPCError as err:
        raise _schedule_error(err, schedule_id, "cancel") from err
    summary = _summary(description, client.data_converter.payload_converter)
    cancelled = []
    for workflow_id in summary.running_workflow_ids:
        try:
            await client.get_workflow_handle(workflow_id).cancel()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue  # it ended between the describe and the cancel
            raise
        cancelled.append(workflow_id)
        _logger.info(
            "schedule_run_cancel_requested",
            extra={"schedule_id": schedule_id, "workflow_id": workflow_id},
        )
    return cancelled


async def _call(client: Client, schedule_id: str, method: str, **kwargs: Any) -> None:
    handle = client.get_schedule_handle(schedule_id)
    try:
        await getattr(handle, method)(**kwargs)
    except RPCError as err:
        raise _schedule_error(err, schedule_id, method) from err
    _logger.info(f"schedule_{method}", extra={"schedule_id": schedule_id})


def _schedule_error(err: RPCError, schedule_id: str, action: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return ConfigError(
            f"no schedule {schedule_id!r} to {action}; see heysh schedule list"
        )
    if err.status == RPCStatusCode.INVALID_ARGUMENT:
        return ConfigError(f"Temporal refused schedule {schedule_id!r}: {err.message}")
    return err


def _summary(description: ScheduleDescription, converter: Any) -> ScheduleSummary:
    schedule = description.schedule
    action = schedule.action
    request = PipelineRunInput(pipeline_file="")
    if isinstance(action, ScheduleActionStartWorkflow) and action.args:
        # A described action carries its arguments as raw payloads.
        [request] = converter.from_payloads(list(action.args[:1]), [PipelineRunInput])
    spec = schedule.spec
    if spec.cron_expressions:
        shown = "cron " + " | ".join(spec.cron_expressions)
    elif spec.intervals:
        shown = "every " + " | ".join(_duration(i.every) for i in spec.intervals)
    else:
        shown = "calendar"
    info = description.info
    return ScheduleSummary(
        schedule_id=description.id,
        pipeline_file=request.pipeline_file,
        parameters=dict(request.parameters),
        spec=shown,
        paused=schedule.state.paused,
        note=schedule.state.note or "",
        next_run=info.next_action_times[0] if info.next_action_times else None,
        actions=info.num_actions,
        skipped_overlap=info.num_actions_skipped_overlap,
        running_workflow_ids=[
            str(getattr(a, "workflow_id", "")) for a in info.running_actions
        ],
        recent_workflow_ids=[
            str(getattr(r.action, "workflow_id", "")) for r in info.recent_actions
        ],
    )


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
