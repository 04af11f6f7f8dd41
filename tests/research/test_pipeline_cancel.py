"""Stopping a pipeline from another thread interrupts its notebook, then kills
the kernel and everything it started."""

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


def isolated_settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )


def run_and_stop(
    pipeline: Path, output: Path, settings: Settings, marker: str, **options: float
) -> BaseException | None:
    """Run the pipeline on a thread; stop it once ``work/<marker>`` exists.

    Returns what ``run_pipeline`` raised (None if it returned).
    """
    stop = threading.Event()
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            run_pipeline(
                load_pipeline(pipeline), output, settings, stop=stop, **options
            )
        except BaseException as err:  # handed to the test thread
            outcome["error"] = err

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 120
    while not (output / "work" / marker).is_file():
        assert runner.is_alive(), f"the pipeline ended before its marker: {outcome}"
        assert time.monotonic() < deadline, "the notebook never reached its marker"
        time.sleep(0.2)
    stop.set()
    runner.join(120)
    assert not runner.is_alive()
    return outcome.get("error")


def test_stopped_pipeline_kills_kernel_and_its_children_and_starts_no_step(tmp_path):
    """Kernel, its child and a child in its own session are all killed."""
    settings = isolated_settings(tmp_path)
    output = tmp_path / "out"

    error = run_and_stop(write_pipeline(tmp_path), output, settings, "pids.txt")
    pids = [int(p) for p in (output / "work" / "pids.txt").read_text().split()]
    for _ in range(50):  # SIGKILLed processes take a moment to be reaped
        if not any(alive(pid) for pid in pids):
            break
        time.sleep(0.1)

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
    settings = isolated_settings(tmp_path)
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


def run_until_marker(
    tmp_path: Path, cells: list[str], marker: str, **options: float
) -> tuple[BaseException | None, Path, Settings]:
    """Run a one-step pipeline of ``cells``; stop it once ``marker`` exists."""
    settings = isolated_settings(tmp_path)
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('output_dir = ""')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, *map(nbformat.v4.new_code_cell, cells)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, tmp_path / "cells.ipynb")
    (tmp_path / "cells.yaml").write_text(
        "name: cells\nsteps:\n  - name: only\n    notebook: cells.ipynb\n"
    )
    output = tmp_path / "out"
    error = run_and_stop(tmp_path / "cells.yaml", output, settings, marker, **options)
    return error, output, settings


def test_interrupted_notebook_closes_the_mlflow_run_it_opened(tmp_path):
    """The interrupt ends the notebook's own MLflow run FAILED, not RUNNING."""
    cell = (
        "import time, mlflow\n"
        "from pathlib import Path\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp_path / 'mlflow.db'}')\n"
        "mlflow.set_experiment('notebook-own')\n"
        "with mlflow.start_run() as run:\n"
        "    Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        "    (Path(output_dir) / 'run_id').write_text(run.info.run_id)\n"
        "    time.sleep(600)\n"
    )

    error, output, settings = run_until_marker(tmp_path, [cell], "run_id")

    assert isinstance(error, PipelineCancelledError)
    run_id = (output / "work" / "run_id").read_text()
    run = MlflowClient(settings.tracking_uri).get_run(run_id)
    assert run.info.status == "FAILED"
    executed = nbformat.read(output / "01-cells.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]  # fmt: skip
    assert [o["ename"] for o in errors] == ["KeyboardInterrupt"]


def test_notebook_that_ignores_the_interrupt_is_killed_after_the_grace(tmp_path):
    """A cell that ignores SIGINT is killed once the grace period is over."""
    cell = (
        "import os, signal, time\n"
        "from pathlib import Path\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        "(Path(output_dir) / 'pid').write_text(str(os.getpid()))\n"
        "time.sleep(600)\n"
    )

    error, output, _ = run_until_marker(tmp_path, [cell], "pid", stop_grace_s=1.0)

    assert isinstance(error, PipelineCancelledError)
    assert not alive(int((output / "work" / "pid").read_text()))
