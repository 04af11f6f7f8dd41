"""A large scoring job: plan the input, score its batches across the AI workers, merge.

``ScoringJobWorkflow`` runs on the general queue and fans batches out as
``score_document_batch`` activities on ``ai-processing-queue``, at most
``max_parallel_batches`` at a time; every AI worker polling that queue takes
a share. The activities (``heysh.activities.scoring_job``) write each batch's
scores to its own file and skip a batch whose file exists, so a job resumes
after a worker crash without rescoring finished batches. After
``batches_per_run`` batches (or when Temporal suggests it) the workflow drains
its running batches and continues as new, carrying its progress, so the
history stays small however large the job. The ``progress`` query reports
batches done, documents scored and documents per second.

Deterministic like every workflow here: no I/O, no clock but workflow time,
activities known by name.
"""

# No ``from __future__ import annotations``: see heysh.activities.contracts.

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from heysh.activities import contracts as c
    from heysh.constants import AI_PROCESSING_QUEUE

WORKFLOW_NAME = "ScoringJobWorkflow"

# Stages reported by the progress query.
PLANNING, SCORING, MERGING, DONE = "planning", "scoring", "merging", "done"

# A batch retries until it succeeds (a crashed worker's batch goes to another
# worker after the heartbeat timeout), except for input errors, which no retry
# can fix.
_BATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[c.INVALID_INPUT_ERROR],
)


@dataclass(frozen=True)
class ScoringJobOptions:
    """How a job is cut and run.

    Attributes:
        batch_size: Rows per batch (one activity each).
        max_parallel_batches: Most batches running at once, over all AI
            workers; give each worker at least one.
        batches_per_run: Batches per workflow run before it continues as new
            (each batch adds about six events to the history).
        task_queue_suffix: Appended to the AI queue's name (tests, benchmarks).
        batch_timeout_s: Start-to-close timeout of one batch attempt.
        heartbeat_timeout_s: A batch whose worker stops heartbeating this long
            is retried elsewhere; bounds how long a crash delays the job.
    """

    batch_size: int = 1000
    max_parallel_batches: int = 4
    batches_per_run: int = 500
    task_queue_suffix: str = ""
    batch_timeout_s: float = 3600.0
    heartbeat_timeout_s: float = 60.0


@dataclass(frozen=True)
class ScoringJobProgress:
    """Where a job stands; carried from run to run by continue-as-new.

    Attributes:
        batches_done: Batches finished, all in this job's first
            ``batches_done`` indices once a run has drained.
        batches_reused: Batches found already written (an earlier attempt
            wrote them before its worker crashed).
        documents_scored: Rows in finished batches, reused ones included.
        scoring_s: Seconds the model spent on this job, summed over batches.
        started_at_s: Workflow time (Unix seconds) the job started.
        updated_at_s: Workflow time the last batch finished.
        models: ``name@version`` -> documents scored by that model.
        runs: Workflow runs so far (1 + continue-as-new count).
    """

    stage: str = PLANNING
    batches_total: int = 0
    documents_total: int = 0
    batches_done: int = 0
    batches_reused: int = 0
    documents_scored: int = 0
    scoring_s: float = 0.0
    started_at_s: float = 0.0
    updated_at_s: float = 0.0
    models: dict[str, int] = field(default_factory=dict)
    runs: int = 1

    @property
    def documents_per_s(self) -> float:
        """Documents scored per second of wall time since the job started."""
        elapsed = self.updated_at_s - self.started_at_s
        return self.documents_scored / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class ScoringJobInput:
    """A scoring job.

    Attributes:
        input_path: JSONL or Parquet file with ``id``, ``domain``, ``text``
            per row, at the path every AI worker sees.
        output_dir: The job's folder, at the path every AI worker sees.
        domains: Domain id -> description, for every domain the rows name.
        options: Batch size, parallelism, timeouts.
        progress: None to start; set by the workflow when it continues as new.
    """

    input_path: str
    output_dir: str
    domains: dict[str, str]
    options: ScoringJobOptions = field(default_factory=ScoringJobOptions)
    progress: ScoringJobProgress | None = None


@dataclass(frozen=True)
class ScoringJobStatus:
    """The progress query's answer."""

    stage: str
    batches_total: int
    batches_done: int
    batches_reused: int
    documents_total: int
    documents_scored: int
    documents_per_s: float
    elapsed_s: float
    models: dict[str, int]
    runs: int
    output_dir: str


@dataclass(frozen=True)
class ScoringJobSummary:
    """What a finished job returns.

    Attributes:
        scores_path: The merged file: one JSON line per row, in input order.
        models: ``name@version`` -> rows it scored; more than one key means
            the production alias moved during the job.
    """

    scores_path: str
    documents: int
    batches: int
    batches_reused: int
    models: dict[str, int]
    mean_score: float
    elapsed_s: float
    documents_per_s: float
    runs: int


@workflow.defn(name=WORKFLOW_NAME)
class ScoringJobWorkflow:
    """Score a file of (id, domain, text) rows in batches over the AI workers."""

    def __init__(self) -> None:
        self._progress = ScoringJobProgress()
        self._output_dir = ""

    @workflow.run
    async def run(self, job: ScoringJobInput) -> ScoringJobSummary:
        """Plan (first run only), score the batches of this run, then merge.

        Raises:
            ActivityError: (failing the workflow) when the input is invalid,
                with the activity's message naming the bad rows or file.
        """
        options = job.options
        _check_options(options)
        self._output_dir = job.output_dir
        if job.progress is None:
            started_at_s = workflow.now().timestamp()
            self._progress = ScoringJobProgress(started_at_s=started_at_s)
            plan = await self._plan(job)
            self._progress = ScoringJobProgress(
                stage=SCORING,
                batches_total=plan.batches,
                documents_total=plan.rows,
                started_at_s=started_at_s,
                updated_at_s=started_at_s,
            )
        else:
            self._progress = job.progress

        first = self._progress.batches_done
        last = min(first + options.batches_per_run, self._progress.batches_total)
        await self._score_batches(job, first, last)

        if self._progress.batches_done < self._progress.batches_total:
            carried = dataclasses.replace(self._progress, runs=self._progress.runs + 1)
            workflow.continue_as_new(dataclasses.replace(job, progress=carried))

        self._progress = dataclasses.replace(self._progress, stage=MERGING)
        merged = await workflow.execute_activity(
            c.MERGE_SCORING_JOB,
            c.MergeScoringJobInput(job.output_dir),
            result_type=c.MergeScoringJobResult,
            **self._activity_options(options),
        )
        progress = self._progress = dataclasses.replace(self._progress, stage=DONE)
        summary = ScoringJobSummary(
            scores_path=merged.scores_path,
            documents=merged.rows,
            batches=merged.batches,
            batches_reused=progress.batches_reused,
            models=merged.models,
            mean_score=merged.mean_score,
            elapsed_s=round(progress.updated_at_s - progress.started_at_s, 3),
            documents_per_s=round(progress.documents_per_s, 3),
            runs=progress.runs,
        )
        if len(merged.models) > 1:
            workflow.logger.warning(
                "scoring_job_mixed_models", extra={"models": merged.models}
            )
        workflow.logger.info(
            "scoring_job_done",
            extra={"documents": merged.rows, "batches": merged.batches},
        )
        return summary

    @workflow.query(name="progress")
    def progress(self) -> ScoringJobStatus:
        """Where the job stands (workflow time of the last finished batch)."""
        p = self._progress
        return ScoringJobStatus(
            stage=p.stage,
            batches_total=p.batches_total,
            batches_done=p.batches_done,
            batches_reused=p.batches_reused,
            documents_total=p.documents_total,
            documents_scored=p.documents_scored,
            documents_per_s=round(p.documents_per_s, 3),
            elapsed_s=round(max(p.updated_at_s - p.started_at_s, 0.0), 3),
            models=dict(p.models),
            runs=p.runs,
            output_dir=self._output_dir,
        )

    async def _plan(self, job: ScoringJobInput) -> c.PlanScoringJobResult:
        request = c.PlanScoringJobInput(
            input_path=job.input_path,
            output_dir=job.output_dir,
            domains=dict(job.domains),
            batch_size=job.options.batch_size,
        )
        plan: c.PlanScoringJobResult = await workflow.execute_activity(
            c.PLAN_SCORING_JOB,
            request,
            result_type=c.PlanScoringJobResult,
            **self._activity_options(job.options),
        )
        return plan

    async def _score_batches(self, job: ScoringJobInput, first: int, last: int) -> None:
        """Run batches ``[first, last)``, at most ``max_parallel_batches`` at once.

        Stops starting batches once Temporal suggests continuing as new; the
        batches started are all finished when it returns.
        """
        options = job.options
        slots = asyncio.Semaphore(options.max_parallel_batches)
        next_index = first

        async def score(index: int) -> None:
            try:
                result = await workflow.execute_activity(
                    c.SCORE_DOCUMENT_BATCH,
                    c.ScoreBatchInput(job.output_dir, index),
                    result_type=c.ScoreBatchResult,
                    **self._activity_options(options),
                )
            finally:
                slots.release()
            self._record(result)

        running: list[asyncio.Task[None]] = []
        while next_index < last:
            await slots.acquire()
            if workflow.info().is_continue_as_new_suggested():
                slots.release()
                break
            running.append(asyncio.create_task(score(next_index)))
            next_index += 1
        # Fails the workflow with the first batch's error; a batch that
        # finished meanwhile is kept on disk and reused by the next attempt.
        await asyncio.gather(*running)

    def _record(self, result: c.ScoreBatchResult) -> None:
        p = self._progress
        key = f"{result.model_name}@{result.model_version}"
        self._progress = dataclasses.replace(
            p,
            batches_done=p.batches_done + 1,
            batches_reused=p.batches_reused + result.reused,
            documents_scored=p.documents_scored + result.rows,
            scoring_s=p.scoring_s + result.scoring_s,
            models={**p.models, key: p.models.get(key, 0) + result.rows},
            updated_at_s=workflow.now().timestamp(),
        )

    @staticmethod
    def _activity_options(options: ScoringJobOptions) -> dict[str, Any]:
        return {
            "task_queue": AI_PROCESSING_QUEUE + options.task_queue_suffix,
            "start_to_close_timeout": timedelta(seconds=options.batch_timeout_s),
            "heartbeat_timeout": timedelta(seconds=options.heartbeat_timeout_s),
            "retry_policy": _BATCH_RETRY,
        }


def _check_options(options: ScoringJobOptions) -> None:
    """Refuse options that would stall or never finish a job.

    Raises:
        ApplicationError: non-retryable, naming the option and its value.
    """
    for name in ("batch_size", "max_parallel_batches", "batches_per_run"):
        value = getattr(options, name)
        if value < 1:
            raise ApplicationError(
                f"{name} must be at least 1, got {value}",
                type=c.INVALID_INPUT_ERROR,
                non_retryable=True,
            )
    for name in ("batch_timeout_s", "heartbeat_timeout_s"):
        value = getattr(options, name)
        if value <= 0:
            raise ApplicationError(
                f"{name} must be positive, got {value}",
                type=c.INVALID_INPUT_ERROR,
                non_retryable=True,
            )
