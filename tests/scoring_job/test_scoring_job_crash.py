"""A scoring job survives a SIGKILLed AI worker process without rescoring batches.

The workflow runs on a general worker in this process; the batches run on a
real ``python -m heysh.worker`` child with ``WORKER_TYPES=ai-processing``,
serving the default MiniLM model. The child pauses 2.5 s after writing each
batch (``HEYSH_TEST_PAUSE_AFTER_WRITE``), so when it is killed some batches
are finished and some are written but not yet reported. A second child then
finishes the job. The attempt log (``attempts.jsonl``, one line per attempt
event with the worker's pid) shows what each worker did.
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heysh.activities.scoring_job import ATTEMPTS_FILE
from heysh.constants import GENERAL_QUEUE
from heysh.worker.model_source import DEFAULT_MODEL_NAME, DEFAULT_MODEL_VERSION
from heysh.workflows.scoring_job import (
    ScoringJobInput,
    ScoringJobOptions,
    ScoringJobSummary,
    ScoringJobWorkflow,
)
from tests.review_stack import ReviewStack
from tests.scoring_job.conftest import CountingModels, write_jsonl
from tests.temporal_server import TemporalDevServer
from tests.worker.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

PAUSE_ENV = "HEYSH_TEST_PAUSE_AFTER_WRITE"


@pytest.fixture
def general(
    temporal_server: TemporalDevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReviewStack]:
    """Only a general worker (the workflow) in this process, own task queues."""
    stack = ReviewStack(
        temporal_server.address,
        tmp_path_factory.mktemp("heysh-general"),
        model=CountingModels().model,
        encoder=None,
        worker_types="general",
    )
    yield stack
    stack.close()


def _events(output: Path) -> list[dict[str, Any]]:
    path = output / ATTEMPTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _pid_of(event: dict[str, Any]) -> int:
    return int(event["worker"].rsplit(":", 1)[1])


def test_scoring_job_killed_worker_resumes_without_rescoring(
    general: ReviewStack,
    temporal_server: TemporalDevServer,
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
) -> None:
    """After SIGKILL and a new worker, every row is scored once and no batch twice."""
    home = tmp_path / "ai-home"
    output = tmp_path / "out"

    def ai_worker(name: str, extra: dict[str, str]) -> WorkerProcess:
        return WorkerProcess(
            home,
            temporal_server.address,
            general.suffix,
            "ai-processing",
            tmp_path / f"{name}.log",
            extra,
        )

    first = ai_worker("ai-1", {PAUSE_ENV: "score_document_batch=2.5"})
    second = ai_worker("ai-2", {})
    job = ScoringJobInput(
        input_path=str(write_jsonl(tmp_path / "rows.jsonl", ag_news_rows)),
        output_dir=str(output),
        domains=ag_news_domains,
        options=ScoringJobOptions(
            batch_size=10,
            max_parallel_batches=2,
            batches_per_run=4,
            task_queue_suffix=general.suffix,
            heartbeat_timeout_s=3.0,
        ),
    )
    try:
        first.start()
        handle = general.run(
            general.client.start_workflow(
                ScoringJobWorkflow.run,
                job,
                id=f"score-job-crash-{uuid.uuid4().hex[:8]}",
                task_queue=GENERAL_QUEUE + general.suffix,
            )
        )
        # Four batches written: two reported, two inside their pause.
        deadline = time.monotonic() + 120
        while sum(e["event"] == "written" for e in _events(output)) < 4:
            assert time.monotonic() < deadline, "the first worker wrote < 4 batches"
            time.sleep(0.05)
        first.signal(signal.SIGKILL)
        first.wait(timeout_s=30)
        before_kill = _events(output)
        second.start()
        summary: ScoringJobSummary = general.run(handle.result(), timeout_s=240)
    finally:
        first.stop()
        second.stop()

    events = _events(output)
    assert first.process is not None and second.process is not None
    by_second = [e for e in events if _pid_of(e) == second.process.pid]
    written_first = {e["batch"] for e in before_kill if e["event"] == "written"}
    merged = [
        json.loads(line) for line in Path(summary.scores_path).read_text().splitlines()
    ]
    reused_by_second = {e["batch"] for e in by_second if e["event"] == "reused"}

    # Every row once, in order, scored by the real default model.
    assert [(r["id"], r["domain"]) for r in merged] == [
        (r["id"], r["domain"]) for r in ag_news_rows
    ]
    assert summary.models == {f"{DEFAULT_MODEL_NAME}@{DEFAULT_MODEL_VERSION}": 95}
    # Each of the 10 batches was scored and written exactly once.
    assert Counter(e["batch"] for e in events if e["event"] == "written") == {
        b: 1 for b in range(10)
    }
    # The new worker never started scoring a batch the killed one had written;
    # it found the written-but-unreported ones done.
    assert len(written_first) >= 4
    assert (
        not {e["batch"] for e in by_second if e["event"] == "started"} & written_first
    )
    assert reused_by_second
    assert reused_by_second <= written_first
    assert summary.batches_reused == len(reused_by_second)
    assert (summary.documents, summary.batches, summary.runs) == (95, 10, 3)
