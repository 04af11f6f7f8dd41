"""The yardstick: a workflow of six trivial activities that times Temporal itself.

Two activities per task queue (storage, ai-processing, general, in that order,
twice), run one after the other, each returning its input. What it measures
is the cost of scheduling, dispatching and recording an activity on this
server with these workers, which is the floor under the review workflow's
throughput. The benchmark (benchmarks/bench_review.py) compares the review
against it on the same server, in the same run, at the same concurrency.

Workers register it only when ``HEYSH_ENABLE_YARDSTICK=1`` (see ``heysh
worker``), on queues of their own (``yardstick-<queue><suffix>``), so a
production worker never polls for it. Storage and general activities are
synchronous on a thread pool and AI activities are async, as in the real
workers, so both travel the same dispatch path.
"""

# No ``from __future__ import annotations``: the workflow sandbox resolves the
# dataclass field types of this module (see heysh.activities.contracts).

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from heysh.constants import QUEUE_BY_WORKER_TYPE

_logger = logging.getLogger(__name__)

ENABLE_VARIABLE = "HEYSH_ENABLE_YARDSTICK"
WORKFLOW_NAME = "HeyshYardstickWorkflow"

# (worker type, activity name) in the order the workflow runs them.
STEPS: tuple[tuple[str, str], ...] = (
    ("storage", "yardstick_storage_1"),
    ("ai-processing", "yardstick_ai_processing_1"),
    ("general", "yardstick_general_1"),
    ("storage", "yardstick_storage_2"),
    ("ai-processing", "yardstick_ai_processing_2"),
    ("general", "yardstick_general_2"),
)


def yardstick_queue(worker_type: str, suffix: str = "") -> str:
    """Return the yardstick task queue of a worker type.

    >>> yardstick_queue("storage", "-bench")
    'yardstick-storage-queue-bench'
    """
    return f"yardstick-{QUEUE_BY_WORKER_TYPE[worker_type]}{suffix}"


@dataclass(frozen=True)
class YardstickInput:
    """One yardstick run: an id to carry through, and the queue suffix."""

    token: str
    task_queue_suffix: str = ""


@dataclass(frozen=True)
class YardstickStep:
    token: str


def _sync_step(name: str) -> Callable[[YardstickStep], YardstickStep]:
    @activity.defn(name=name)
    def step(request: YardstickStep) -> YardstickStep:
        return request

    return step


def _async_step(name: str) -> Callable[..., Any]:
    @activity.defn(name=name)
    async def step(request: YardstickStep) -> YardstickStep:
        return request

    return step


def activities_for(worker_type: str) -> list[Callable[..., Any]]:
    """Return the two yardstick activities a worker type runs."""
    make = _async_step if worker_type == "ai-processing" else _sync_step
    return [make(name) for kind, name in STEPS if kind == worker_type]


@workflow.defn(name=WORKFLOW_NAME)
class YardstickWorkflow:
    """Six trivial activities in sequence, two on each task queue."""

    @workflow.run
    async def run(self, request: YardstickInput) -> str:
        """Return the token after it went through every step."""
        step = YardstickStep(request.token)
        for worker_type, name in STEPS:
            step = await workflow.execute_activity(
                name,
                step,
                task_queue=yardstick_queue(worker_type, request.task_queue_suffix),
                start_to_close_timeout=timedelta(seconds=60),
                result_type=YardstickStep,
            )
        return step.token


async def run_yardstick_workers(settings: Any, stop: asyncio.Event) -> None:
    """Poll the yardstick queues of ``settings.worker_types`` until ``stop``.

    Uses the same concurrency limits as the real workers of each type.

    Args:
        settings: ``heysh.config.Settings``.
        stop: Set to shut down.
    """
    from temporalio.worker import Worker

    from heysh.client import connect_client
    from heysh.errors import HeyshError

    client = await connect_client(settings)
    limits = {
        "ai-processing": settings.ai_max_concurrent_activities,
        "storage": settings.storage_max_concurrent_activities,
        "general": settings.general_max_concurrent_activities,
    }
    executors: list[concurrent.futures.ThreadPoolExecutor] = []
    workers = []
    for worker_type in settings.worker_type_list:
        limit = limits[worker_type]
        options: dict[str, Any] = {"max_concurrent_activities": limit}
        if worker_type != "ai-processing":
            executor = concurrent.futures.ThreadPoolExecutor(max_workers=limit)
            executors.append(executor)
            options["activity_executor"] = executor
        if worker_type == "general":
            options["workflows"] = [YardstickWorkflow]
            options["max_concurrent_workflow_tasks"] = (
                settings.max_concurrent_workflow_tasks
            )
        workers.append(
            Worker(
                client,
                task_queue=yardstick_queue(worker_type, settings.task_queue_suffix),
                activities=activities_for(worker_type),
                **options,
            )
        )
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    _logger.info("yardstick_workers_started", extra={"types": settings.worker_types})
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait(
            [stopper, *runs], return_when=asyncio.FIRST_COMPLETED
        )
        failed = [run for run in runs if run in done and run.exception()]
        if failed:
            raise HeyshError(
                f"a yardstick worker stopped unexpectedly: {failed[0].exception()!r}"
            )
    finally:
        stopper.cancel()
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*runs, return_exceptions=True)
        for executor in executors:
            executor.shutdown(wait=True)
