"""Replay the committed scoring-job histories against the current workflow code.

A change to ``ScoringJobWorkflow`` that would break running jobs (a step
added, removed or reordered without versioning) fails here. Record new
histories with ``HEYSH_RECORD_HISTORIES=1 pytest
tests/scoring_job/test_scoring_job_workflow.py -k records`` after a
deliberate, versioned change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from heysh.activities import contracts as c
from heysh.workflows.scoring_job import (
    WORKFLOW_NAME,
    ScoringJobInput,
    ScoringJobWorkflow,
)

HISTORIES = Path(__file__).parent / "histories"


def _load_histories() -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(path.stem, path.read_text())
        for path in sorted(HISTORIES.glob("*.json"))
    ]


async def _replay(replayer: Replayer, histories: list[WorkflowHistory]) -> dict:
    async def stream() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    results = await replayer.replay_workflows(stream(), raise_on_replay_failure=False)
    return dict(results.replay_failures)


@workflow.defn(name=WORKFLOW_NAME)
class _MergeFirstWorkflow:
    """The job with planning replaced by merging: what an unversioned edit does."""

    @workflow.run
    async def run(self, job: ScoringJobInput) -> None:
        await workflow.execute_activity(
            c.MERGE_SCORING_JOB,
            c.MergeScoringJobInput(job.output_dir),
            start_to_close_timeout=timedelta(seconds=10),
        )


def test_scoring_job_replay_committed_histories_replay_cleanly() -> None:
    """Both committed runs (plan and continue-as-new; batches and merge) replay."""
    histories = _load_histories()

    failures = asyncio.run(_replay(Replayer(workflows=[ScoringJobWorkflow]), histories))

    assert [h.workflow_id for h in histories] == ["first_run", "last_run"]
    assert failures == {}


def test_scoring_job_replay_changed_first_step_is_caught() -> None:
    """A workflow whose first activity differs from the history fails replay."""
    histories = _load_histories()[:1]

    failures = asyncio.run(
        _replay(Replayer(workflows=[_MergeFirstWorkflow]), histories)
    )

    assert len(failures) == 1
    failure = next(iter(failures.values()))
    assert isinstance(failure, workflow.NondeterminismError)
    assert "'plan_scoring_job' does not match" in str(failure)
