"""The general queue's pipeline activity: run papermill notebooks for a workflow.

``run_pipeline`` is a thin adapter over :func:`heysh.research.pipeline.run_pipeline`
(the same function ``heysh pipeline`` calls): it loads the pipeline file,
executes its notebooks with the given overrides, and returns the MLflow run
that holds the executed copies. While the notebooks run it heartbeats, so a
worker that dies is noticed within the heartbeat timeout. A failing cell is a
non-retryable ``PipelineFailed`` error whose message names the step, notebook
and cell; a bad pipeline file or parameter is ``InvalidActivityInput``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from heysh.activities import contracts as c
from heysh.config import Settings
from heysh.errors import ConfigError, PipelineError

# How long a cancelled run may take to kill its kernel and close its MLflow run.
_STOP_GRACE_S = 60.0


class PipelineActivities:
    """The pipeline activity, holding the worker's settings.

    Args:
        settings: Where MLflow tracks (``HEYSH_HOME`` or ``MLFLOW_TRACKING_URI``)
            and where default output folders go.
        heartbeat_interval_s: Seconds between heartbeats while notebooks run,
            at most; a third of the activity's heartbeat timeout when shorter.
    """

    def __init__(
        self, *, settings: Settings, heartbeat_interval_s: float = 10.0
    ) -> None:
        self._settings = settings
        self._heartbeat_interval_s = heartbeat_interval_s

    def activities(self) -> list[Callable[..., Any]]:
        """Every pipeline activity, for the general Worker."""
        return [self.run_pipeline]

    @activity.defn(name=c.RUN_PIPELINE)
    def run_pipeline(self, request: c.RunPipelineInput) -> c.RunPipelineResult:
        """Execute the pipeline's notebooks and attach them to MLflow.

        Runs in the worker's thread pool; the notebooks execute on a helper
        thread while this one heartbeats the number of seconds elapsed.

        Cancelling the activity (cancelling the workflow, or a worker
        shutting down past its grace period) interrupts the running cell,
        kills the kernel and what it started, and starts no further step;
        the executed notebooks so far are kept and the pipeline's MLflow run
        ends KILLED. The cancellation reaches this thread with the next
        heartbeat.

        Raises:
            ApplicationError: ``PipelineFailed`` (non-retryable) naming the
                failing step, notebook and cell; ``InvalidActivityInput``
                (non-retryable) for a missing or invalid pipeline file or an
                undeclared parameter.
        """
        from heysh.research.pipeline import load_pipeline, run_pipeline

        try:
            pipeline = load_pipeline(Path(request.pipeline_file))
            overrides = _checked_overrides(request.parameters, pipeline)
        except ConfigError as err:
            raise ApplicationError(
                str(err), type=c.INVALID_INPUT_ERROR, non_retryable=True
            ) from None
        output = (
            Path(request.output_dir)
            if request.output_dir
            else self._settings.home / "pipelines" / _folder_name(pipeline.name)
        )
        activity.logger.info(
            "pipeline_activity_started",
            extra={"pipeline": pipeline.name, "output_dir": str(output)},
        )

        outcome: dict[str, Any] = {}
        stop = threading.Event()
        # Thread.join and is_alive are not used: a cancellation raised into
        # this thread inside join() leaves is_alive() False on Python 3.11
        # while the thread still runs; an Event stays right.
        finished = threading.Event()

        def execute() -> None:
            try:
                outcome["result"] = run_pipeline(
                    pipeline, output, self._settings, overrides=overrides, stop=stop
                )
            except BaseException as err:  # handed to the activity thread below
                outcome["error"] = err
            finally:
                finished.set()

        runner = threading.Thread(target=execute, name="heysh-pipeline", daemon=True)
        interval_s = self._heartbeat_interval_s
        heartbeat_timeout = activity.info().heartbeat_timeout
        if heartbeat_timeout:
            # Several heartbeats per timeout, however short the caller set it.
            interval_s = min(interval_s, heartbeat_timeout.total_seconds() / 3)
        started = time.monotonic()
        runner.start()
        try:
            while not finished.is_set():
                activity.heartbeat({"elapsed_s": round(time.monotonic() - started)})
                finished.wait(interval_s)
        except BaseException:
            # Cancellation is raised into this thread: stop the notebooks and
            # wait for their MLflow run to be closed before reporting it.
            stop.set()
            stopped = finished.wait(_STOP_GRACE_S)
            activity.logger.warning(
                "pipeline_stopped" if stopped else "pipeline_left_running",
                extra={"pipeline": pipeline.name, "output_dir": str(output)},
            )
            raise

        error = outcome.get("error")
        if isinstance(error, PipelineError):
            raise ApplicationError(
                str(error), type=c.PIPELINE_FAILED_ERROR, non_retryable=True
            ) from None
        if isinstance(error, ConfigError):
            raise ApplicationError(
                str(error), type=c.INVALID_INPUT_ERROR, non_retryable=True
            ) from None
        if error is not None:
            raise error
        result = outcome["result"]
        activity.logger.info(
            "pipeline_activity_finished",
            extra={"pipeline": pipeline.name, "mlflow_run_id": result.mlflow_run_id},
        )
        return c.RunPipelineResult(
            pipeline=result.pipeline,
            output_dir=str(result.output_dir),
            mlflow_run_id=result.mlflow_run_id or "",
            steps=[[step.name, step.status] for step in result.steps],
        )


def _checked_overrides(parameters: dict[str, Any], pipeline: Any) -> dict[str, Any]:
    """Refuse an override that no notebook of the pipeline declares.

    Raises:
        ConfigError: naming the parameter and the declared ones.
    """
    from heysh.research.pipeline import declared_parameters

    declared = set().union(*(declared_parameters(s.notebook) for s in pipeline.steps))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ConfigError(
            f"parameters {', '.join(unknown)}: no notebook of pipeline "
            f"{pipeline.name!r} declares them; they declare "
            f"{', '.join(sorted(declared))}"
        )
    return dict(parameters)


def _folder_name(pipeline_name: str) -> str:
    """``<pipeline>-<workflow id>``: one folder per run, the same on a retry."""
    info = activity.info()
    workflow_id = info.workflow_id or info.activity_id
    safe_id = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in workflow_id)
    return f"{pipeline_name}-{safe_id}"
