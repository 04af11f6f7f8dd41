"""Replay the committed pipeline-run histories against the current workflow code.

A change to ``PipelineRunWorkflow`` that would break runs in flight (a step
added, removed or reordered without versioning) fails here. Record new
histories with ``HEYSH_RECORD_HISTORIES=1 pytest tests/schedules`` after a
deliberate, versioned change.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio import workflow

from heysh.workflows.pipeline_run import (
    WORKFLOW_NAME,
    PipelineRunInput,
    PipelineRunWorkflow,
)
from tests.replay import load_histories, replay_failures

HISTORIES = Path(__file__).parent / "histories"


@workflow.defn(name=WORKFLOW_NAME)
class _TimerFirstPipelineRunWorkflow:
    """The pipeline run with a timer added first: what an unversioned edit does."""

    @workflow.run
    async def run(self, request: PipelineRunInput) -> None:
        await workflow.sleep(timedelta(seconds=1))
        await workflow.execute_activity(
            "run_pipeline", request, start_to_close_timeout=timedelta(seconds=10)
        )


def test_pipeline_run_histories_replay_on_current_code():
    """Every committed history (a finished and a failed run) replays cleanly."""
    histories = load_histories(HISTORIES, "pipeline_run_*.json")

    failures = replay_failures([PipelineRunWorkflow], histories)

    assert len(histories) == 2
    assert failures == {}


def test_pipeline_run_replay_detects_an_unversioned_change():
    """A workflow that adds a step before the activity fails replay."""
    histories = load_histories(HISTORIES, "pipeline_run_*.json")

    failures = replay_failures([_TimerFirstPipelineRunWorkflow], histories)

    # Failures are keyed by run id: one per committed history.
    assert len(failures) == len(histories) == 2
    assert all(
        "Nondeterminism" in str(e) or "nondeterminism" in str(e).lower()
        for e in failures.values()
    )
