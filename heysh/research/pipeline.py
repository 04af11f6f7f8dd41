"""Run a pipeline of notebooks with papermill and keep what they produced.

A pipeline file (``pipelines/*.yaml``) is data: a name, shared parameters, and
the notebooks to execute in order, each with its own parameters. Executed
copies are kept in the output folder and attached to MLflow, to the
evaluation run the notebooks produced when there is one. A failing cell stops
the pipeline with an error that names the step, the notebook and the cell; a
stop requested from another thread interrupts the running notebook, then
kills its kernel.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heysh.config import Settings
from heysh.errors import ConfigError, PipelineCancelledError, PipelineError
from heysh.research._kernel_stopper import KernelStopper

_logger = logging.getLogger(__name__)


class PipelineStep(BaseModel):
    """One notebook to execute and the parameters papermill injects into it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    notebook: Path
    parameters: dict[str, Any] = Field(default_factory=dict)


class Pipeline(BaseModel):
    """A named, ordered list of notebook steps.

    Attributes:
        schedule: Optional cron expression for scheduled runs (for example a
            nightly Temporal schedule); the runner itself ignores it.
        parameters: Parameters given to every step; a step's own win.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    schedule: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    steps: tuple[PipelineStep, ...] = Field(min_length=1)


@dataclass
class StepResult:
    name: str
    status: str
    output_notebook: Path


@dataclass
class PipelineResult:
    pipeline: str
    output_dir: Path
    steps: list[StepResult] = field(default_factory=list)
    mlflow_run_id: str | None = None


def load_pipeline(path: Path) -> Pipeline:
    """Read a pipeline file; notebook paths are relative to the file.

    Raises:
        ConfigError: for a missing file, bad YAML, an invalid field or a
            notebook that does not exist.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read pipeline file {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"pipeline file {path} is not valid YAML: {err}") from None
    try:
        pipeline = Pipeline.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid pipeline {path}: {problems}") from None
    steps = []
    for step in pipeline.steps:
        notebook = (path.parent / step.notebook).resolve()
        if not notebook.is_file():
            raise ConfigError(
                f"pipeline {path} step {step.name!r} names notebook "
                f"{step.notebook}, which does not exist at {notebook}"
            )
        unknown = sorted(set(step.parameters) - declared_parameters(notebook))
        if unknown:
            raise ConfigError(
                f"pipeline {path} step {step.name!r} sets {', '.join(unknown)}, which "
                f"notebook {step.notebook} does not declare in its parameters cell; "
                f"it declares {', '.join(sorted(declared_parameters(notebook)))}"
            )
        steps.append(step.model_copy(update={"notebook": notebook}))
    return pipeline.model_copy(update={"steps": tuple(steps)})


def run_pipeline(
    pipeline: Pipeline,
    output_dir: Path,
    settings: Settings,
    *,
    overrides: dict[str, Any] | None = None,
    kernel_name: str = "python3",
    stop: threading.Event | None = None,
    stop_grace_s: float = 10.0,
) -> PipelineResult:
    """Execute every step in order and attach the executed notebooks to MLflow.

    Every step receives ``output_dir`` (a folder shared by the steps, so one
    notebook can read what the previous wrote) besides its parameters.

    Args:
        stop: When another thread sets it, the running cell is interrupted
            (``KeyboardInterrupt``, so ``with`` blocks close what they opened),
            the kernel and everything it started are killed, and no further
            step starts.
        stop_grace_s: How long an interrupted cell may take to stop before
            its kernel is killed.

    Raises:
        PipelineError: naming the step, notebook, cell and error of the first
            failure; the executed copy up to the failure is kept and logged.
        PipelineCancelledError: ``stop`` was set; the pipeline's own MLflow run
            ends KILLED with the notebooks executed so far.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    stop = stop or threading.Event()

    output_dir = output_dir.resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    result = PipelineResult(pipeline=pipeline.name, output_dir=output_dir)
    for number, step in enumerate(pipeline.steps, start=1):
        parameters = _parameters_for(
            step, pipeline, overrides or {}, {"output_dir": str(output_dir / "work")}
        )
        executed = output_dir / f"{number:02d}-{step.notebook.name}"
        if stop.is_set():
            _cancelled(result, settings, f"before step {step.name!r}")
        _logger.info(
            "pipeline_step_started",
            extra={"pipeline": pipeline.name, "step": step.name},
        )
        try:
            with KernelStopper(stop, grace_s=stop_grace_s) as stopper:
                papermill.execute_notebook(
                    str(step.notebook),
                    str(executed),
                    parameters=parameters,
                    kernel_name=kernel_name,
                    cwd=str(Path.cwd()),
                    progress_bar=False,
                    log_output=False,
                    kernel_manager_class=stopper.manager_class(),
                )
        except Exception as err:
            if stop.is_set():  # the kernel was killed on purpose
                result.steps.append(StepResult(step.name, "cancelled", executed))
                _cancelled(result, settings, f"during step {step.name!r}")
            if not isinstance(err, PapermillExecutionError):
                raise
            result.steps.append(StepResult(step.name, "failed", executed))
            result.mlflow_run_id = _attach_notebooks(result, settings, status="failed")
            raise PipelineError(
                f"pipeline {pipeline.name!r} step {step.name!r} failed: notebook "
                f"{step.notebook.name} cell {err.cell_index} (execution count "
                f"{err.exec_count}) raised {err.ename}: {err.evalue}. The executed "
                f"notebook is at {executed}"
            ) from None
        result.steps.append(StepResult(step.name, "ok", executed))
    result.mlflow_run_id = _attach_notebooks(result, settings, status="ok")
    return result


def _cancelled(result: PipelineResult, settings: Settings, when: str) -> None:
    """Record a stopped pipeline in MLflow and raise ``PipelineCancelledError``.

    Args:
        when: ``before step 'x'`` or ``during step 'x'``.
    """
    result.mlflow_run_id = _attach_notebooks(result, settings, status="cancelled")
    _logger.warning(
        "pipeline_cancelled", extra={"pipeline": result.pipeline, "when": when}
    )
    raise PipelineCancelledError(
        f"pipeline {result.pipeline!r} was cancelled {when}; the "
        f"notebooks executed so far are in {result.output_dir} and MLflow run "
        f"{result.mlflow_run_id}"
    )


def declared_parameters(notebook: Path) -> set[str]:
    """Names assigned in the notebook's ``parameters`` cell."""
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def _parameters_for(
    step: PipelineStep,
    pipeline: Pipeline,
    overrides: dict[str, Any],
    provided: dict[str, Any],
) -> dict[str, Any]:
    """Merge parameters, keeping shared ones only where the notebook declares them.

    Shared pipeline parameters and command-line overrides go to every step that
    declares them; a step's own parameters must all be declared (checked when
    the pipeline is loaded).
    """
    declared = declared_parameters(step.notebook)
    shared = {**pipeline.parameters, **provided, **overrides}
    return {
        **{k: v for k, v in shared.items() if k in declared},
        **step.parameters,
        **{k: v for k, v in overrides.items() if k in declared},
    }


# The pipeline's own MLflow run ends with the pipeline's status.
_RUN_STATUS = {"ok": "FINISHED", "failed": "FAILED", "cancelled": "KILLED"}


def _attach_notebooks(
    result: PipelineResult, settings: Settings, *, status: str
) -> str:
    """Log executed notebooks to the evaluation run, or to a pipeline run.

    Args:
        status: ``ok``, ``failed`` or ``cancelled``; the ``pipeline_status``
            tag, and the end state of a run this function creates.
    """
    import mlflow
    from mlflow import MlflowClient

    from heysh.tracking.setup import configure_tracking, ensure_experiment

    configure_tracking(settings.tracking_uri, settings.artifact_root)
    summary_path = result.output_dir / "work" / "summary.json"
    run_id: str | None = None
    created = False
    if summary_path.is_file():
        run_id = (
            json.loads(summary_path.read_text()).get("mlflow", {}).get("parent_run_id")
        )
    if run_id is None:
        local = settings.tracking_uri.startswith("sqlite:")
        experiment_id = ensure_experiment(
            "heysh-pipelines", settings.artifact_root if local else None
        )
        with mlflow.start_run(
            experiment_id=experiment_id, run_name=f"pipeline-{result.pipeline}"
        ) as run:
            run_id = run.info.run_id
            mlflow.set_tag("pipeline", result.pipeline)
        created = True
    client = MlflowClient()
    for step in result.steps:
        if step.output_notebook.is_file():
            client.log_artifact(run_id, str(step.output_notebook), "notebooks")
    client.set_tag(run_id, "pipeline_status", status)
    client.set_tag(run_id, "pipeline_output_dir", str(result.output_dir))
    if status != "ok" and created:
        # The run is the pipeline's own, so its status is the pipeline's. An
        # evaluation's run stays FINISHED: the evaluation itself succeeded.
        client.set_terminated(run_id, status=_RUN_STATUS[status])
    return run_id
