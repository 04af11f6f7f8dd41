"""Fixtures of the schedule tests: a general worker and a tiny notebook pipeline.

The general worker runs in this process (``WorkerStack`` with only the
``general`` type) against the session's real Temporal dev server, on its own
task-queue suffix, with MLflow tracking to a SQLite file under a temporary
HEYSH_HOME.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from heysh.config import Settings
from heysh.stores.metadata_sql import SqlMetadataStore
from heysh.worker.runner import WorkerStack
from tests.review_stack import LoopThread, RecordingSender
from tests.temporal_server import TemporalDevServer

# The parameters cell of the test notebook; papermill injects after it.
PARAMETERS = """\
sleep_s = 0.0  # seconds to run, to hold the schedule's run open
fail = False  # raise in the third cell
marker = ""  # written to <output_dir>/marker.txt
output_dir = ""  # given by the pipeline runner
"""


def write_test_pipeline(folder: Path, name: str = "tiny") -> Path:
    """Write ``sleepy.ipynb`` and a one-step pipeline using it; return its path."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(PARAMETERS)
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        parameters,
        nbformat.v4.new_code_cell(
            "import os, time\n"
            "from pathlib import Path\n"
            "Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
            "(Path(output_dir) / 'kernel.pid').write_text(str(os.getpid()))\n"
            "time.sleep(float(sleep_s))"
        ),
        nbformat.v4.new_code_cell(
            'if fail:\n    raise RuntimeError("the notebook was told to fail")'
        ),
        nbformat.v4.new_code_cell(
            "from pathlib import Path\n"
            "Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
            "(Path(output_dir) / 'marker.txt').write_text(marker)"
        ),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "sleepy.ipynb")
    pipeline = folder / f"{name}.yaml"
    pipeline.write_text(
        f"name: {name}\nsteps:\n  - name: sleepy\n    notebook: sleepy.ipynb\n"
    )
    return pipeline


@dataclass
class GeneralWorker:
    """A running general worker, its settings and a way to run coroutines."""

    settings: Settings
    loop: LoopThread
    stack: WorkerStack
    pipeline_file: Path

    @property
    def client(self) -> Any:
        return self.stack.client

    def run(self, coro: Any, timeout_s: float = 120.0) -> Any:
        return self.loop.run(coro, timeout_s)

    def wait_for(
        self, check: Callable[[], Any], timeout_s: float = 60.0, every_s: float = 0.3
    ) -> Any:
        """Poll ``check`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(every_s)
        raise AssertionError(f"condition not met within {timeout_s}s")


@pytest.fixture(scope="module")
def general_worker(
    temporal_server: TemporalDevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeneralWorker]:
    """The general worker (review and pipeline workflows) on its own queues."""
    home = tmp_path_factory.mktemp("schedules-home")
    settings = Settings(
        home=home,
        temporal_address=temporal_server.address,
        task_queue_suffix=f"-sched-{uuid.uuid4().hex[:8]}",
        worker_types="general",
        health_host="127.0.0.1",
        health_port=0,
        worker_shutdown_grace_s=5.0,
        mlflow_tracking_uri=f"sqlite:///{home / 'mlflow' / 'mlflow.db'}",
    )
    (home / "mlflow").mkdir(parents=True)
    metadata = SqlMetadataStore(f"sqlite:///{home / 'heysh.db'}")
    loop = LoopThread()
    stack = WorkerStack(
        settings, stores=SimpleNamespace(metadata=metadata), send=RecordingSender()
    )
    loop.run(stack.start())
    pipeline_file = write_test_pipeline(tmp_path_factory.mktemp("pipeline"))
    yield GeneralWorker(settings, loop, stack, pipeline_file)
    loop.run(stack.shutdown(), timeout_s=120)
    loop.close()
    metadata.close()


@pytest.fixture
def schedule_id(general_worker: GeneralWorker) -> Iterator[str]:
    """A fresh schedule id, deleted after the test if it still exists."""
    from heysh.errors import ConfigError
    from heysh.schedules import delete_schedule

    sid = f"test-{uuid.uuid4().hex[:8]}"
    yield sid
    # Some tests delete their schedule themselves; ConfigError means it is gone.
    with contextlib.suppress(ConfigError):
        general_worker.run(delete_schedule(general_worker.client, sid))


# The research fixtures: a fresh HEYSH_HOME (own MLflow store) per test.
from tests.research_fixtures import (  # noqa: E402 - after the worker fixtures
    heysh_env,
    session_cache_root,
    shared_datasets,
)

__all__ = ["heysh_env", "session_cache_root", "shared_datasets"]
