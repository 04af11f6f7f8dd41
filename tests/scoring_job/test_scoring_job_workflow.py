"""ScoringJobWorkflow on a real Temporal dev server with in-process workers.

The AI and general workers are the real ``WorkerStack`` of this process (so
the runner's registration is tested too), serving a counting word-overlap
model; the crash test with a separate worker process is in
``test_scoring_job_crash.py``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from heysh.activities import contracts as c
from heysh.constants import GENERAL_QUEUE
from heysh.workflows.scoring_job import (
    ScoringJobInput,
    ScoringJobOptions,
    ScoringJobStatus,
    ScoringJobSummary,
    ScoringJobWorkflow,
)
from tests.review_stack import ReviewStack
from tests.scoring_job.conftest import CountingModels, write_jsonl

pytestmark = pytest.mark.integration

HISTORIES = Path(__file__).parent / "histories"


def _start(stack: ReviewStack, job: ScoringJobInput) -> Any:
    return stack.run(
        stack.client.start_workflow(
            ScoringJobWorkflow.run,
            job,
            id=f"score-job-test-{uuid.uuid4().hex[:8]}",
            task_queue=GENERAL_QUEUE + stack.suffix,
        )
    )


def _job(
    stack: ReviewStack,
    tmp_path: Path,
    rows: list[Any],
    domains: dict[str, str],
    **options: Any,
) -> ScoringJobInput:
    input_path = write_jsonl(tmp_path / "rows.jsonl", rows)
    return ScoringJobInput(
        input_path=str(input_path),
        output_dir=str(tmp_path / "out"),
        domains=domains,
        options=ScoringJobOptions(task_queue_suffix=stack.suffix, **options),
    )


def _failure_of(stack: ReviewStack, job: ScoringJobInput) -> ApplicationError:
    handle = _start(stack, job)
    with pytest.raises(WorkflowFailureError) as failed:
        stack.run(handle.result(), timeout_s=60)
    # WorkflowFailureError -> (ActivityError ->) the first ApplicationError.
    cause: BaseException | None = failed.value.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    assert cause is not None, f"no ApplicationError in {failed.value!r}"
    return cause


def test_scoring_job_workflow_scores_every_row_across_runs(
    stack: ReviewStack,
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
) -> None:
    """95 rows in 10 batches, 4 per run: three runs, every row merged once."""
    job = _job(
        stack,
        tmp_path,
        ag_news_rows,
        ag_news_domains,
        batch_size=10,
        max_parallel_batches=3,
        batches_per_run=4,
    )

    handle = _start(stack, job)
    summary: ScoringJobSummary = stack.run(handle.result(), timeout_s=120)
    status: ScoringJobStatus = stack.run(handle.query(ScoringJobWorkflow.progress))
    merged = [
        json.loads(line) for line in Path(summary.scores_path).read_text().splitlines()
    ]

    assert [(r["id"], r["domain"]) for r in merged] == [
        (r["id"], r["domain"]) for r in ag_news_rows
    ]
    assert (summary.documents, summary.batches, summary.runs) == (95, 10, 3)
    assert summary.models == {"overlap-test@7": 95}
    assert summary.batches_reused == 0
    assert summary.scores_path == str(tmp_path / "out" / "scores.jsonl")
    assert (status.stage, status.batches_done, status.batches_total) == (
        "done",
        10,
        10,
    )
    assert (status.documents_scored, status.documents_total, status.runs) == (
        95,
        95,
        3,
    )


def test_scoring_job_workflow_progress_query_mid_job(
    stack: ReviewStack,
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
    shared_models: CountingModels,
) -> None:
    """While the second of three batches is held, progress shows one batch done."""
    shared_models.hold_after_rows = shared_models.rows_scored + 10
    shared_models.release.clear()
    job = _job(
        stack,
        tmp_path,
        ag_news_rows[:30],
        ag_news_domains,
        batch_size=10,
        max_parallel_batches=1,
    )
    handle = _start(stack, job)
    try:
        deadline = time.monotonic() + 60
        status: ScoringJobStatus = stack.run(handle.query(ScoringJobWorkflow.progress))
        while status.batches_done < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
            status = stack.run(handle.query(ScoringJobWorkflow.progress))
    finally:
        shared_models.release.set()
        shared_models.hold_after_rows = None
    summary: ScoringJobSummary = stack.run(handle.result(), timeout_s=60)

    assert status == ScoringJobStatus(
        stage="scoring",
        batches_total=3,
        batches_done=1,
        batches_reused=0,
        documents_total=30,
        documents_scored=10,
        documents_per_s=status.documents_per_s,
        elapsed_s=status.elapsed_s,
        models={"overlap-test@7": 10},
        runs=1,
        output_dir=str(tmp_path / "out"),
    )
    assert status.elapsed_s >= 0
    assert summary.documents == 30


def test_scoring_job_workflow_unknown_domain_fails_for_good(
    stack: ReviewStack,
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
) -> None:
    """A row naming an unknown domain fails the job at planning, without retries."""
    rows = [*ag_news_rows[:5], {"id": "z", "domain": "cooking", "text": "Soup."}]
    job = _job(stack, tmp_path, rows, ag_news_domains)

    cause = _failure_of(stack, job)

    assert (cause.type, cause.non_retryable) == (c.INVALID_INPUT_ERROR, True)
    assert "line 6: id 'z' names unknown domain 'cooking'" in str(cause)
    assert not (tmp_path / "out" / "batches").exists()


def test_scoring_job_workflow_missing_input_fails_for_good(
    stack: ReviewStack, tmp_path: Path, ag_news_domains: dict[str, str]
) -> None:
    """A missing input file fails the job with the file's path."""
    job = ScoringJobInput(
        input_path=str(tmp_path / "missing.parquet"),
        output_dir=str(tmp_path / "out"),
        domains=ag_news_domains,
        options=ScoringJobOptions(task_queue_suffix=stack.suffix),
    )

    cause = _failure_of(stack, job)

    assert (cause.type, cause.non_retryable) == (c.INVALID_INPUT_ERROR, True)
    assert f"input file {tmp_path / 'missing.parquet'} does not exist" in str(cause)


def test_scoring_job_workflow_zero_parallel_batches_is_refused(
    stack: ReviewStack,
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
) -> None:
    """max_parallel_batches=0 fails the job at once instead of stalling it."""
    job = _job(
        stack, tmp_path, ag_news_rows[:5], ag_news_domains, max_parallel_batches=0
    )

    cause = _failure_of(stack, job)

    assert (cause.type, cause.non_retryable) == (c.INVALID_INPUT_ERROR, True)
    assert cause.message == "max_parallel_batches must be at least 1, got 0"


def test_scoring_job_workflow_synthetic_job_runs_twice_and_records_histories(
    stack: ReviewStack, tmp_path: Path
) -> None:
    """Six synthetic rows in batches of two, two batches per run: two runs.

    With ``HEYSH_RECORD_HISTORIES=1`` both runs' histories are written to
    ``histories/`` for ``test_scoring_job_replay.py``.
    """
    rows = [
        {"id": f"doc-{i}", "domain": ("news", "sport")[i % 2], "text": f"Text {i}."}
        for i in range(6)
    ]
    job = _job(
        stack,
        tmp_path,
        rows,
        {"news": "Business news.", "sport": "Sport results."},
        batch_size=2,
        max_parallel_batches=2,
        batches_per_run=2,
    )

    handle = _start(stack, job)
    summary: ScoringJobSummary = stack.run(handle.result(), timeout_s=60)
    first_run = stack.client.get_workflow_handle(
        handle.id, run_id=handle.first_execution_run_id
    )
    histories = [
        stack.run(first_run.fetch_history()),
        stack.run(stack.client.get_workflow_handle(handle.id).fetch_history()),
    ]
    if os.environ.get("HEYSH_RECORD_HISTORIES") == "1":
        for name, history in zip(("first_run", "last_run"), histories, strict=True):
            (HISTORIES / f"{name}.json").write_text(history.to_json())

    assert (summary.documents, summary.batches, summary.runs) == (6, 3, 2)
    assert histories[0].run_id != histories[1].run_id
