"""Pipeline schedules on a real Temporal dev server, run by the general worker."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError

from heysh.activities.contracts import RunPipelineResult
from heysh.errors import ConfigError
from heysh.schedules import (
    create_pipeline_schedule,
    delete_schedule,
    describe_pipeline_schedule,
    list_pipeline_schedules,
    parse_interval,
    pause_schedule,
    trigger_schedule,
    unpause_schedule,
)
from heysh.workflows.pipeline_run import PipelineRunInput, PipelineRunWorkflow
from tests.research_fixtures import run_heysh

pytestmark = pytest.mark.integration

HISTORIES = Path(__file__).parent / "histories"

# Far from any test run: only triggers start runs.
NEVER_DUE = "0 3 1 1 *"


def create(worker: Any, sid: str, **parameters: object) -> None:
    worker.run(
        create_pipeline_schedule(
            worker.client,
            sid,
            str(worker.pipeline_file),
            cron=NEVER_DUE,
            parameters=parameters,
            task_queue_suffix=worker.settings.task_queue_suffix,
        )
    )


def started_workflow_ids(worker: Any, sid: str) -> list[str]:
    """Ids of the runs the schedule has started, oldest first."""
    summary = worker.run(describe_pipeline_schedule(worker.client, sid))
    return summary.recent_workflow_ids


def heartbeats_of(worker: Any, workflow_id: str) -> list[dict]:
    """Heartbeat details of the run's pending activity (empty before the first)."""
    handle = worker.client.get_workflow_handle(workflow_id)
    description = worker.run(handle.describe())
    converter = worker.client.data_converter.payload_converter
    return [
        converter.from_payloads(list(p.heartbeat_details.payloads))[0]
        for p in description.raw_description.pending_activities
        if p.HasField("heartbeat_details")
    ]


def save_history(worker: Any, workflow_id: str, name: str) -> None:
    """Write the run's history for the replay tests when asked to."""
    if os.environ.get("HEYSH_RECORD_HISTORIES") == "1":
        handle = worker.client.get_workflow_handle(workflow_id)
        history = worker.run(handle.fetch_history())
        (HISTORIES / f"{name}.json").write_text(history.to_json())


def run_result(worker: Any, workflow_id: str) -> RunPipelineResult:
    handle = worker.client.get_workflow_handle(
        workflow_id, result_type=RunPipelineResult
    )
    return worker.run(handle.result(), timeout_s=300)


def test_schedule_trigger_runs_pipeline_and_logs_it_to_mlflow(
    general_worker, schedule_id
):
    """A triggered schedule runs the notebooks with its parameters into MLflow."""
    create(general_worker, schedule_id, marker="from the schedule")

    general_worker.run(trigger_schedule(general_worker.client, schedule_id))
    [workflow_id] = general_worker.wait_for(
        lambda: started_workflow_ids(general_worker, schedule_id)
    )
    result = run_result(general_worker, workflow_id)
    save_history(general_worker, workflow_id, "pipeline_run_ok")

    assert workflow_id.startswith(f"pipeline-{schedule_id}-")
    assert (result.pipeline, result.steps) == ("tiny", [["sleepy", "ok"]])
    output = Path(result.output_dir)
    assert output.parent == general_worker.settings.home / "pipelines"
    assert (output / "work" / "marker.txt").read_text() == "from the schedule"
    mlflow = MlflowClient(general_worker.settings.tracking_uri)
    run = mlflow.get_run(result.mlflow_run_id)
    assert run.data.tags["pipeline"] == "tiny"
    assert run.data.tags["pipeline_status"] == "ok"
    assert run.data.tags["pipeline_output_dir"] == str(output)
    logged = [a.path for a in mlflow.list_artifacts(result.mlflow_run_id, "notebooks")]
    assert logged == ["notebooks/01-sleepy.ipynb"]


def test_schedule_failing_notebook_fails_run_naming_the_cell(
    general_worker, schedule_id
):
    """A cell that raises fails the run at once, with step, notebook and cell."""
    create(general_worker, schedule_id, fail=True)

    general_worker.run(trigger_schedule(general_worker.client, schedule_id))
    [workflow_id] = general_worker.wait_for(
        lambda: started_workflow_ids(general_worker, schedule_id)
    )
    with pytest.raises(WorkflowFailureError) as failure:
        run_result(general_worker, workflow_id)
    save_history(general_worker, workflow_id, "pipeline_run_failed")

    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "PipelineFailed"
    assert cause.non_retryable
    assert cause.message.startswith(
        "pipeline 'tiny' step 'sleepy' failed: notebook sleepy.ipynb cell 3 "
    )
    assert "RuntimeError: the notebook was told to fail" in cause.message
    history = general_worker.run(
        general_worker.client.get_workflow_handle(workflow_id).fetch_history()
    )
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert attempts == [1]


def test_schedule_trigger_while_running_is_skipped(general_worker, schedule_id):
    """With overlap policy SKIP a second trigger during a run starts nothing."""
    create(general_worker, schedule_id, sleep_s=12)
    client = general_worker.client

    general_worker.run(trigger_schedule(client, schedule_id))
    general_worker.wait_for(
        lambda: (
            general_worker.run(
                describe_pipeline_schedule(client, schedule_id)
            ).running_workflow_ids
        )
    )
    general_worker.run(trigger_schedule(client, schedule_id))
    summary = general_worker.wait_for(
        lambda: (
            (
                s := general_worker.run(describe_pipeline_schedule(client, schedule_id))
            ).skipped_overlap
            and s
        )
    )
    [workflow_id] = summary.running_workflow_ids
    heartbeats = general_worker.wait_for(
        lambda: heartbeats_of(general_worker, workflow_id)
    )
    result = run_result(general_worker, workflow_id)
    after = general_worker.run(describe_pipeline_schedule(client, schedule_id))

    assert (summary.actions, summary.skipped_overlap) == (1, 1)
    assert list(heartbeats[0]) == ["elapsed_s"]
    assert result.steps == [["sleepy", "ok"]]
    assert (after.actions, after.skipped_overlap) == (1, 1)
    assert after.recent_workflow_ids == [workflow_id]


def test_schedule_lifecycle_list_pause_unpause_delete(general_worker, schedule_id):
    """A schedule is listed with its spec, pauses, resumes and is deleted."""
    client = general_worker.client
    general_worker.run(
        create_pipeline_schedule(
            client,
            schedule_id,
            str(general_worker.pipeline_file),
            every=parse_interval("6h"),
            parameters={"marker": "x"},
            note="made by a test",
        )
    )

    listed = general_worker.wait_for(
        lambda: [
            s
            for s in general_worker.run(list_pipeline_schedules(client))
            if s.schedule_id == schedule_id
        ]
    )
    general_worker.run(pause_schedule(client, schedule_id, "maintenance"))
    paused = general_worker.run(describe_pipeline_schedule(client, schedule_id))
    general_worker.run(unpause_schedule(client, schedule_id))
    resumed = general_worker.run(describe_pipeline_schedule(client, schedule_id))
    general_worker.run(delete_schedule(client, schedule_id))

    [item] = listed
    assert (item.pipeline_file, item.parameters, item.spec, item.paused) == (
        str(general_worker.pipeline_file),
        {"marker": "x"},
        "every 6h",
        False,
    )
    assert item.note == "made by a test"
    assert item.next_run is not None
    assert (paused.paused, paused.note) == (True, "maintenance")
    assert resumed.paused is False
    with pytest.raises(ConfigError, match=f"no schedule '{schedule_id}' to describe"):
        general_worker.run(describe_pipeline_schedule(client, schedule_id))


def test_create_schedule_refuses_bad_specs_and_duplicates(general_worker, schedule_id):
    """Both or neither spec, a bad id or interval, and a taken id are refused."""
    client = general_worker.client
    pipeline = str(general_worker.pipeline_file)
    create(general_worker, schedule_id)

    with pytest.raises(ConfigError, match="exactly one of a cron expression"):
        general_worker.run(create_pipeline_schedule(client, "x1", pipeline))
    with pytest.raises(ConfigError, match="exactly one of a cron expression"):
        general_worker.run(
            create_pipeline_schedule(
                client, "x1", pipeline, cron="* * * * *", every=timedelta(hours=1)
            )
        )
    with pytest.raises(ConfigError, match="must start with a letter or digit"):
        general_worker.run(
            create_pipeline_schedule(client, "../x", pipeline, cron="* * * * *")
        )
    with pytest.raises(ConfigError, match="positive number followed by s, m, h or d"):
        parse_interval("10 minutes")
    with pytest.raises(ConfigError, match=f"schedule '{schedule_id}' already exists"):
        create(general_worker, schedule_id)


def test_pipeline_run_with_undeclared_parameter_fails_as_invalid_input(
    general_worker,
):
    """A parameter no notebook declares fails the run without executing it."""
    request = PipelineRunInput(
        pipeline_file=str(general_worker.pipeline_file),
        parameters={"sleep_seconds": 1},
        task_queue_suffix=general_worker.settings.task_queue_suffix,
    )

    with pytest.raises(WorkflowFailureError) as failure:
        general_worker.run(
            general_worker.client.execute_workflow(
                PipelineRunWorkflow.run,
                request,
                id=f"pipeline-bad-{general_worker.settings.task_queue_suffix}",
                task_queue="general-queue" + general_worker.settings.task_queue_suffix,
            )
        )

    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "InvalidActivityInput"
    assert "parameters sleep_seconds: no notebook of pipeline 'tiny'" in cause.message


def test_schedule_cli_create_list_trigger_delete(general_worker, schedule_id):
    """The heysh schedule commands drive a schedule end to end."""
    env = cli_env(general_worker)
    pipeline = str(general_worker.pipeline_file)

    created = run_heysh(
        "schedule", "create", schedule_id, "--pipeline", pipeline, "--every", "1d",
        "-p", "marker=cli", "-p", "sleep_s=0.5", env=env, timeout_s=120,
    )  # fmt: skip
    typo = run_heysh(
        "schedule", "create", "other", "--pipeline", pipeline, "--every", "1d",
        "-p", "markr=cli", env=env, timeout_s=120,
    )  # fmt: skip
    triggered = run_heysh("schedule", "trigger", schedule_id, env=env, timeout_s=120)
    [workflow_id] = general_worker.wait_for(
        lambda: started_workflow_ids(general_worker, schedule_id)
    )
    result = run_result(general_worker, workflow_id)
    listed = general_worker.wait_for(
        lambda: (
            (out := run_heysh("schedule", "list", env=env, timeout_s=120)).stdout.count(
                schedule_id
            )
            and out
        )
    )
    deleted = run_heysh("schedule", "delete", schedule_id, env=env, timeout_s=120)
    missing = run_heysh("schedule", "pause", schedule_id, env=env, timeout_s=120)

    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"created schedule {schedule_id}: pipeline tiny")
    assert typo.returncode == 1
    assert "-p markr: no notebook of pipeline 'tiny' declares it" in typo.stderr
    assert triggered.returncode == 0, triggered.stderr
    assert (Path(result.output_dir) / "work" / "marker.txt").read_text() == "cli"
    line = next(x for x in listed.stdout.splitlines() if x.startswith(schedule_id))
    assert "active" in line and "every 1d" in line
    assert f"{pipeline} marker=cli sleep_s=0.5" in line
    assert deleted.returncode == 0, deleted.stderr
    assert missing.returncode == 1
    assert f"no schedule '{schedule_id}' to pause" in missing.stderr


def test_schedule_cli_cancel_stops_the_running_run(general_worker, schedule_id):
    """heysh schedule cancel ends the schedule's running run as cancelled."""
    env = cli_env(general_worker)
    create(general_worker, schedule_id, sleep_s=600, marker="the sleep ended")
    general_worker.run(trigger_schedule(general_worker.client, schedule_id))
    workflow_id = general_worker.wait_for(lambda: running(general_worker, schedule_id))
    general_worker.wait_for(lambda: heartbeats_of(general_worker, workflow_id))

    cancelled = run_heysh("schedule", "cancel", schedule_id, env=env, timeout_s=120)
    with pytest.raises(WorkflowFailureError) as failure:
        run_result(general_worker, workflow_id)
    again = run_heysh("schedule", "cancel", schedule_id, env=env, timeout_s=120)
    unknown = run_heysh("schedule", "cancel", "no-such-one", env=env, timeout_s=120)

    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == f"cancel requested for {workflow_id}\n"
    assert isinstance(failure.value.cause, CancelledError)
    assert again.stdout == f"{schedule_id} has no run going; nothing to cancel\n"
    assert unknown.returncode == 1
    assert "no schedule 'no-such-one' to cancel" in unknown.stderr


def cli_env(worker: Any) -> dict[str, str]:
    """What the heysh command needs to reach this worker's server and queues."""
    return {
        "HEYSH_HOME": str(worker.settings.home),
        "HEYSH_TEMPORAL_ADDRESS": worker.settings.temporal_address,
        "HEYSH_TASK_QUEUE_SUFFIX": worker.settings.task_queue_suffix,
    }


def running(worker: Any, sid: str) -> str:
    """The workflow id of the schedule's running run, or '' when none runs."""
    summary = worker.run(describe_pipeline_schedule(worker.client, sid))
    return (summary.running_workflow_ids or [""])[0]


def test_scheduled_parameters_must_be_json(general_worker):
    """Parameters a workflow payload cannot carry are refused before creating."""
    with pytest.raises(ConfigError, match="must be JSON values"):
        general_worker.run(
            create_pipeline_schedule(
                general_worker.client,
                "x2",
                str(general_worker.pipeline_file),
                cron=NEVER_DUE,
                parameters={"when": {1, 2}},
            )
        )

    with pytest.raises(ConfigError, match="no schedule 'x2'"):
        general_worker.run(describe_pipeline_schedule(general_worker.client, "x2"))


def test_cancelled_pipeline_run_kills_the_notebook_and_ends_its_mlflow_run(
    general_worker, tmp_path
):
    """Cancelling a run kills the running kernel; MLflow records it as KILLED."""
    output = tmp_path / "run"
    workflow_id = f"pipeline-cancel-{general_worker.settings.task_queue_suffix}"
    request = PipelineRunInput(
        pipeline_file=str(general_worker.pipeline_file),
        parameters={"sleep_s": 600, "marker": "the sleep ended"},
        output_dir=str(output),
        task_queue_suffix=general_worker.settings.task_queue_suffix,
        heartbeat_timeout_s=6,
    )
    handle = general_worker.run(
        general_worker.client.start_workflow(
            PipelineRunWorkflow.run,
            request,
            id=workflow_id,
            task_queue="general-queue" + general_worker.settings.task_queue_suffix,
        )
    )
    pid_file = output / "work" / "kernel.pid"
    kernel_pid = int(
        general_worker.wait_for(lambda: pid_file.is_file() and pid_file.read_text())
    )

    general_worker.run(handle.cancel())
    with pytest.raises(WorkflowFailureError) as failure:
        general_worker.run(handle.result(), timeout_s=90)
    gone = general_worker.wait_for(lambda: not _alive(kernel_pid), timeout_s=10)

    assert isinstance(failure.value.cause, CancelledError)
    assert gone
    assert not (output / "work" / "marker.txt").exists()
    assert (output / "01-sleepy.ipynb").is_file()
    mlflow = MlflowClient(general_worker.settings.tracking_uri)
    [run] = mlflow.search_runs(
        [mlflow.get_experiment_by_name("heysh-pipelines").experiment_id],
        filter_string=f"tags.pipeline_output_dir = '{output}'",
    )
    assert run.info.status == "KILLED"
    assert run.data.tags["pipeline_status"] == "cancelled"
    logged = [a.path for a in mlflow.list_artifacts(run.info.run_id, "notebooks")]
    assert logged == ["notebooks/01-sleepy.ipynb"]


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
