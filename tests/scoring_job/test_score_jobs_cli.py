"""``heysh score-job start``, ``status`` and ``wait`` as subprocesses.

The commands run as ``python -m heysh.cli.main`` children (they leave with
``os._exit``, see ``heysh.cli._temporal_calls``) against this module's
in-process AI and general workers on the test Temporal server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heysh.cli.score_jobs import read_domains_file
from heysh.errors import DataError
from tests.review_stack import ReviewStack
from tests.scoring_job.conftest import COLLECTION, write_jsonl


def _heysh(stack: ReviewStack, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HEYSH_HOME": str(home),
        "HEYSH_TEMPORAL_ADDRESS": stack.settings.temporal_address,
        "HEYSH_TASK_QUEUE_SUFFIX": stack.suffix,
    }
    return subprocess.run(
        [sys.executable, "-m", "heysh.cli.main", "score-job", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.integration
def test_score_job_cli_start_wait_status_reports_the_job(
    stack: ReviewStack, tmp_path: Path, ag_news_rows: list[dict[str, Any]]
) -> None:
    """start prints the job id; wait --json the summary; status the counts."""
    rows = write_jsonl(tmp_path / "rows.jsonl", ag_news_rows[:25])
    started = _heysh(
        stack,
        tmp_path / "home",
        "start",
        "--input",
        str(rows),
        "--output",
        str(tmp_path / "out"),
        "--batch-size",
        "10",
        "--parallel",
        "2",
        "--domains",
        str(COLLECTION / "domains.jsonl"),
        "--job-id",
        "score-job-cli-test",
    )
    waited = _heysh(stack, tmp_path / "home", "wait", "score-job-cli-test", "--json")
    status = _heysh(stack, tmp_path / "home", "status", "score-job-cli-test")

    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines()[0] == "started score-job-cli-test"
    assert waited.returncode == 0, waited.stderr
    summary = json.loads(waited.stdout)
    assert (summary["documents"], summary["batches"], summary["runs"]) == (25, 3, 1)
    assert summary["scores_path"] == str(tmp_path / "out" / "scores.jsonl")
    assert summary["models"] == {"overlap-test@7": 25}
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[:3] == [
        "score-job-cli-test: completed, done",
        "  batches   3 of 3 (0 found already written)",
        "  documents 25 of 25 (100.0%)",
    ]


@pytest.mark.integration
def test_score_job_cli_wait_on_bad_input_names_the_row(
    stack: ReviewStack, tmp_path: Path, ag_news_rows: list[dict[str, Any]]
) -> None:
    """wait exits 1 with the planning error that names the row without text."""
    rows = [*ag_news_rows[:3], {"id": "empty", "domain": "ag-news:world", "text": ""}]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    domains = tmp_path / "domains.json"
    domains.write_text(json.dumps({d: "News." for d in {r["domain"] for r in rows}}))

    started = _heysh(
        stack,
        tmp_path / "home",
        "start",
        "--input",
        str(path),
        "--output",
        str(tmp_path / "out"),
        "--domains",
        str(domains),
        "--job-id",
        "score-job-cli-bad",
    )
    waited = _heysh(stack, tmp_path / "home", "wait", "score-job-cli-bad")

    assert started.returncode == 0, started.stderr
    assert waited.returncode == 1
    assert "scoring job score-job-cli-bad failed: " in waited.stderr
    assert "id 'empty' has no text" in waited.stderr


def test_read_domains_file_accepts_an_object_and_collection_lines(
    tmp_path: Path,
) -> None:
    """A JSON object and the collections' domains.jsonl give id -> description."""
    as_object = tmp_path / "domains.json"
    as_object.write_text(json.dumps({"news": "News.", "sport": "Sport."}))

    from_lines = read_domains_file(COLLECTION / "domains.jsonl")

    assert read_domains_file(as_object) == {"news": "News.", "sport": "Sport."}
    assert sorted(from_lines) == [
        "ag-news:business",
        "ag-news:scitech",
        "ag-news:sports",
        "ag-news:world",
    ]
    assert from_lines["ag-news:sports"].startswith("Sports news")


def test_read_domains_file_without_descriptions_is_refused(tmp_path: Path) -> None:
    """Lines without a description are refused, naming the entry."""
    path = tmp_path / "domains.jsonl"
    path.write_text('{"domain_id": "news"}\n')

    with pytest.raises(DataError, match=r"domains\.jsonl, entry 1: needs string"):
        read_domains_file(path)
