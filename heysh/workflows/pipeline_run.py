"""One run of a papermill pipeline, as a Temporal workflow (what a schedule starts).

``PipelineRunWorkflow`` runs the ``run_pipeline`` activity on the general
queue and returns where the executed notebooks are and which MLflow run holds
them. A failing notebook cell fails the workflow at once, with the step,
notebook and cell in the failure message; a worker that dies mid-run is
noticed by the missed heartbeats and the pipeline is run again from the start;
cancelling the workflow interrupts, then kills, the running notebook.

Deterministic like every workflow here: no I/O and no heavy imports; the
activity is known by name (``heysh.activities.contracts``).
"""

# No ``from __future__ import annotations``: see heysh.activities.contracts.

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from heysh.activities import contracts as c
    from heysh.constants import GENERAL_QUEUE

WORKFLOW_NAME = "PipelineRunWorkflow"


@dataclass(frozen=True)
class PipelineRunInput:
    """What a scheduled (or manual) pipeline run executes.

    Attributes:
        pipeline_file: The pipeline YAML as the general worker sees it.
        parameters: ``-p NAME=VALUE`` overrides, as JSON values.
        output_dir: Folder for executed notebooks; empty: one per run under
            the worker's ``<HEYSH_HOME>/pipelines``.
        task_queue_suffix: Appended to the general queue, to run isolated
            workers on a shared server (tests, benchmarks).
        timeout_s: Longest a whole run may take (default 12 hours).
        heartbeat_timeout_s: A run whose worker stays silent this long is
            considered lost and started again on another worker. Heartbeats
            also carry cancellation, so a cancel takes effect within about
            this long.
        max_attempts: Runs of the activity after lost workers (a failing
            notebook is never retried).
    """

    pipeline_file: str
    parameters: dict[str, Any] = field(default_factory=dict)
    output_dir: str = ""
    task_queue_suffix: str = ""
    timeout_s: float = 12 * 3600.0
    heartbeat_timeout_s: float = 30.0
    max_attempts: int = 3


@workflow.defn(name=WORKFLOW_NAME)
class PipelineRunWorkflow:
    """Execute one pipeline through the ``run_pipeline`` activity."""

    @workflow.run
    async def run(self, request: PipelineRunInput) -> c.RunPipelineResult:
        """Run the pipeline; fail with the activity's message if it fails.

        Raises:
            ApplicationError: ``PipelineFailed`` naming the failing step,
                notebook and cell, or ``InvalidActivityInput`` for a pipeline
                file or parameter the worker refuses.
        """
        workflow.logger.info(
            "pipeline_run_started", extra={"pipeline_file": request.pipeline_file}
        )
        try:
            result: c.RunPipelineResult = await workflow.execute_activity(
                c.RUN_PIPELINE,
                c.RunPipelineInput(
                    pipeline_file=request.pipeline_file,
                    parameters=dict(request.parameters),
                    output_dir=request.output_dir,
                ),
                result_type=c.RunPipelineResult,
                task_queue=GENERAL_QUEUE + request.task_queue_suffix,
                start_to_close_timeout=timedelta(seconds=request.timeout_s),
                heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_s),
                # A cancelled run ends once the notebooks are stopped and their
                # MLflow run closed, not while they are still running.
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=10),
                    maximum_attempts=request.max_attempts,
                    non_retryable_error_types=[
                        c.PIPELINE_FAILED_ERROR,
                        c.INVALID_INPUT_ERROR,
                    ],
                ),
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, CancelledError):
                raise  # re-raised as is, the workflow ends cancelled, not failed
            message = cause.message if isinstance(cause, ApplicationError) else str(err)
            kind = cause.type if isinstance(cause, ApplicationError) else None
            # Raising ApplicationError fails the workflow (rather than retrying
            # the workflow task), with the failing cell in its message.
            raise ApplicationError(
                message, type=kind or c.PIPELINE_FAILED_ERROR, non_retryable=True
            ) from err
        workflow.logger.info(
            "pipeline_run_finished",
            extra={"pipeline": result.pipeline, "mlflow_run_id": result.mlflow_run_id},
        )
        return result
