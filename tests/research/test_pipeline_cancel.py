"""Stopping a pipeline from another thread kills its notebook and all it started."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from mlflow import MlflowClient

from heysh.config import Settings
from heysh.errors import PipelineCancelledError
from heysh.research.pipeline import load_pipeline, run_pipeline

pytestmark = pytest.mark.notebooks

# Starts a child in the kernel's process group and one in a session of its
# own, writes all three pids, then sleeps far longer than the test waits.
SPAWNING_CELL = """\
import os, subprocess, time
from pathlib import Path
same_group = subprocess.Popen(["sleep", "601"])
own_session = subprocess.Popen(["sleep", "602"], start_new_session=True)
Path(output_dir).mkdir(parents=True, exist_ok=True)
(Path(output_dir) / "pids.txt").write_text(
    f"{os.getpid()} {same_group.pid} {own_session.pid}"
)
time.sleep(600)
"""


def write_pipeline(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('output_dir = ""')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        parameters,
        nbformat.v4.new_code_cell(SPAWNING_CELL),
        nbformat.v4.new_code_cell("(Path(output_dir) / 'after.txt').write_text('ran')"),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, folder / "spawning.ipynb")
    pipeline = folder / "spawning.yaml"
    pipeline.write_text(
        "name: spawning\nsteps:\n"
        "  - name: first\n    notebook: spawning.ipynb\n"
        "  - name: second\n    notebook: spawning.ipynb\n"
    )
    return pipeline


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_stopped_pipeline_kills_kernel_and_its_children_and_starts_no_step(tmp_path):
    """Kernel, its child and a child in its own session are all killed."""
    settings = Settings(
        home=tmp_path / "home",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    output = tmp_path / "out"
    stop = threading.Event()
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            run_pipeline(
                load_pipeline(write_pipeline(tmp_path)), output, settings, stop=stop
            )
        except BaseException as err:  # handed to the test thread
            outcome["error"] = err

    runner = threading.Thread(target=run)
    runner.start()
    pid_file = output / "work" / "pids.txt"
    deadline = time.monotonic() + 120
    while not pid_file.is_file() and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "error" not in outcome, outcome
    pids = [int(p) for p in pid_file.read_text().split()]
    stop.set()
    runner.join(120)
    for _ in range(50):  # SIGKILLed processes take a moment to be reaped
        if not any(alive(pid) for pid in pids):
            break
        time.sleep(0.1)

    assert not runner.is_alive()
    error = outcome["error"]
    assert isinstance(error, PipelineCancelledError)
    assert str(error).startswith(
        "pipeline 'spawning' was cancelled during step 'first'"
    )
    assert [alive(pid) for pid in pids] == [False, False, False]
    assert not (output / "work" / "after.txt").exists()
    assert not (output / "02-spawning.ipynb").exists()
    client = MlflowClient(settings.tracking_uri)
    [run_info] = client.search_runs(
        [client.get_experiment_by_name("heysh-pipelines").experiment_id]
    )
    assert run_info.info.status == "KILLED"
    assert run_info.data.tags["pipeline_status"] == "cancelled"


def test_pipeline_stopped_before_it_starts_runs_no_notebook(tmp_path):
    """A stop set before the first step executes nothing and says so."""
    settings = Settings(
        home=tmp_path / "home",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    stop = threading.Event()
    stop.set()

    with pytest.raises(PipelineCancelledError) as cancelled:
        run_pipeline(
            load_pipeline(write_pipeline(tmp_path)),
            tmp_path / "out",
            settings,
            stop=stop,
        )

    assert str(cancelled.value).startswith(
        "pipeline 'spawning' was cancelled before step 'first'"
    )
    assert not list((tmp_path / "out").glob("*.ipynb"))
