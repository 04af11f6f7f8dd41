"""Tests of heysh.stack.yardstick: six trivial activities over the three queues."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from heysh.config import load_settings
from heysh.stack.yardstick import (
    STEPS,
    WORKFLOW_NAME,
    YardstickInput,
    activities_for,
    run_yardstick_workers,
    yardstick_queue,
)
from tests.temporal_server import TemporalDevServer


def test_steps_two_per_queue_in_review_order() -> None:
    """Two steps per worker type, storage first, as the review starts with storage."""
    assert [kind for kind, _ in STEPS] == ["storage", "ai-processing", "general"] * 2
    assert len({name for _, name in STEPS}) == 6


def test_activities_for_each_type_its_two_steps() -> None:
    """Each worker type registers exactly its own two activities."""
    names = {
        kind: sorted(
            f.__temporal_activity_definition.name  # type: ignore[attr-defined]
            for f in activities_for(kind)
        )
        for kind in ("ai-processing", "storage", "general")
    }

    assert names == {
        "ai-processing": ["yardstick_ai_processing_1", "yardstick_ai_processing_2"],
        "storage": ["yardstick_storage_1", "yardstick_storage_2"],
        "general": ["yardstick_general_1", "yardstick_general_2"],
    }


def test_yardstick_queue_separate_from_production_queues() -> None:
    """Yardstick queues never coincide with the review's task queues."""
    assert yardstick_queue("general") == "yardstick-general-queue"
    assert yardstick_queue("ai-processing", "-t1") == "yardstick-ai-processing-queue-t1"


@pytest.mark.integration
def test_yardstick_workflow_runs_six_steps_on_their_queues(
    temporal_server: TemporalDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflow returns its token after one activity per step on its queue."""
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client

    suffix = f"-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("HEYSH_TEMPORAL_ADDRESS", temporal_server.address)
    monkeypatch.setenv("HEYSH_TASK_QUEUE_SUFFIX", suffix)
    settings = load_settings()

    async def scenario() -> tuple[str, list[tuple[str, str]]]:
        stop = asyncio.Event()
        workers = asyncio.create_task(run_yardstick_workers(settings, stop))
        try:
            client = await Client.connect(temporal_server.address)
            handle = await client.start_workflow(
                WORKFLOW_NAME,
                YardstickInput("token-7", suffix),
                id=f"yardstick-test{suffix}",
                task_queue=yardstick_queue("general", suffix),
            )
            token = await asyncio.wait_for(handle.result(), 60)
            history = await handle.fetch_history()
        finally:
            stop.set()
            await workers
        scheduled = [
            (
                e.activity_task_scheduled_event_attributes.activity_type.name,
                e.activity_task_scheduled_event_attributes.task_queue.name,
            )
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        return token, scheduled

    token, scheduled = asyncio.run(scenario())

    assert token == "token-7"
    assert scheduled == [(name, yardstick_queue(kind, suffix)) for kind, name in STEPS]
