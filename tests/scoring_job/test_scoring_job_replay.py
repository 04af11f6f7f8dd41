"""Replay the committed scoring-job histories against the current workflow code.

A change to ``ScoringJobWorkflow`` that would break running jobs (a step
added, removed or reordered without versioning) fails here. Record new
histories with ``HEYSH_RECORD_HISTORIES=1 pytest
tests/scoring_job/test_scoring_job_workflow.py -k records`` after a
deliberate, versioned change.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio import workflow

from heysh.activities import contracts as c
from heysh.workflows.scoring_job import (
    WORKFLOW_NAME,
    ScoringJobInput,
    ScoringJobWorkflow,
)
from tests.replay import load_histories, replay_failures

HISTORIES = Path(__file__).parent / "histories"


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
    histories = load_histories(HISTORIES, "*.json")

    failures = replay_failures([ScoringJobWorkflow], histories)

    assert [h.workflow_id for h in histories] == ["first_run", "last_run"]
    assert failures == {}


def test_scoring_job_replay_changed_first_step_is_caught() -> None:
    """A workflow whose first activity differs from the history fails replay."""
    histories = load_histories(HISTORIES, "*.json")[:1]

    failures = replay_failures([_MergeFirstWorkflow], histories)

    assert len(failures) == 1
    failure = next(iter(failures.values()))
    assert isinstance(failure, workflow.NondeterminismError)
    assert "'plan_scoring_job' does not match" in str(failure)
