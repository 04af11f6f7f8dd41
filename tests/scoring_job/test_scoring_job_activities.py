"""The scoring-job activities on their own: plan, score a batch, merge."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from heysh.activities import contracts as c
from heysh.activities.scoring_job import (
    ATTEMPTS_FILE,
    BATCHES_DIR,
    SCORES_FILE,
    ScoringJobActivities,
    batch_file_name,
    read_plan,
)
from tests.scoring_job.conftest import CountingModels, overlap_score, write_jsonl


def _run_activity(function: Any, request: Any) -> Any:
    """Run an async activity in a test activity context."""
    return asyncio.run(ActivityEnvironment().run(function, request))


def _plan(
    activities: ScoringJobActivities,
    input_path: Path,
    output: Path,
    domains: dict[str, str],
    batch_size: int = 20,
) -> c.PlanScoringJobResult:
    request = c.PlanScoringJobInput(str(input_path), str(output), domains, batch_size)
    result: c.PlanScoringJobResult = _run_activity(activities.plan_scoring_job, request)
    return result


def _score(activities: ScoringJobActivities, output: Path, index: int) -> Any:
    return _run_activity(
        activities.score_document_batch, c.ScoreBatchInput(str(output), index)
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def job(
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
    models: CountingModels,
) -> tuple[ScoringJobActivities, Path]:
    """A planned job over 95 ag-news rows in batches of 20: (activities, output)."""
    activities = ScoringJobActivities(models=models, chunk_size=8)
    input_path = write_jsonl(tmp_path / "rows.jsonl", ag_news_rows)
    output = tmp_path / "out"
    _plan(activities, input_path, output, ag_news_domains)
    return activities, output


def test_plan_scoring_job_jsonl_cuts_batches_at_line_offsets(
    tmp_path: Path, ag_news_rows: list[dict[str, Any]], ag_news_domains: dict[str, str]
) -> None:
    """The plan counts 95 rows into 5 batches of 20 and records each batch's offset."""
    activities = ScoringJobActivities(models=CountingModels())
    data = "".join(json.dumps(r) + "\n" for r in ag_news_rows)
    input_path = tmp_path / "rows.jsonl"
    # A blank line between rows is not a row.
    input_path.write_text("\n" + data, encoding="utf-8")
    expected_offsets = [
        1 + sum(len((json.dumps(r) + "\n").encode()) for r in ag_news_rows[:start])
        for start in range(0, 95, 20)
    ]

    result = _plan(activities, input_path, tmp_path / "out", ag_news_domains)
    plan = read_plan(tmp_path / "out")

    assert result == c.PlanScoringJobResult(rows=95, batches=5, reused=False)
    assert plan.offsets == expected_offsets
    assert [plan.rows_of(i) for i in range(5)] == [
        (0, 20),
        (20, 40),
        (40, 60),
        (60, 80),
        (80, 95),
    ]


def test_plan_scoring_job_missing_file_is_non_retryable(
    tmp_path: Path, ag_news_domains: dict[str, str]
) -> None:
    """A missing input file fails for good, naming the file."""
    activities = ScoringJobActivities(models=CountingModels())

    with pytest.raises(ApplicationError, match=r"nope\.jsonl does not exist") as err:
        _plan(activities, tmp_path / "nope.jsonl", tmp_path / "out", ag_news_domains)

    assert err.value.non_retryable
    assert err.value.type == c.INVALID_INPUT_ERROR


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ({"id": "x1", "domain": "ag-news:world", "text": "  "}, r"id 'x1' has no text"),
        ({"id": "x2", "domain": "ag-news:world"}, r"id 'x2' has no text"),
        (
            {"id": "x3", "domain": "cooking", "text": "Soup."},
            r"id 'x3' names unknown domain 'cooking'",
        ),
        ({"domain": "ag-news:world", "text": "No id."}, r"has no id \(got None\)"),
    ],
)
def test_plan_scoring_job_bad_row_is_non_retryable(
    tmp_path: Path,
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
    bad_row: dict[str, Any],
    message: str,
) -> None:
    """A row without text, id or a known domain fails the plan, quoting its line."""
    activities = ScoringJobActivities(models=CountingModels())
    rows = [*ag_news_rows[:10], bad_row, *ag_news_rows[10:20]]
    input_path = write_jsonl(tmp_path / "rows.jsonl", rows)

    with pytest.raises(ApplicationError, match=rf"1 of 21 rows .*line 11: {message}"):
        _plan(activities, input_path, tmp_path / "out", ag_news_domains)

    assert not (tmp_path / "out" / "job.json").exists()


def test_plan_scoring_job_repeated_pair_and_bad_json_are_reported(
    tmp_path: Path, ag_news_rows: list[dict[str, Any]], ag_news_domains: dict[str, str]
) -> None:
    """A repeated (id, domain) pair and a line that is not JSON both count as bad."""
    activities = ScoringJobActivities(models=CountingModels())
    input_path = write_jsonl(
        tmp_path / "rows.jsonl", ag_news_rows[:5] + ag_news_rows[:1]
    )
    with open(input_path, "a") as out:
        out.write("{not json\n")

    with pytest.raises(
        ApplicationError,
        match=r"2 of 7 rows .*line 6: repeats the pair.*line 7: is not",
    ):
        _plan(activities, input_path, tmp_path / "out", ag_news_domains)


def test_plan_scoring_job_other_job_in_output_is_refused(
    job: tuple[ScoringJobActivities, Path], ag_news_domains: dict[str, str]
) -> None:
    """Planning another job into a job's folder fails; the same plan is reused."""
    activities, output = job
    input_path = output.parent / "rows.jsonl"

    again = _plan(activities, input_path, output, ag_news_domains)
    with pytest.raises(ApplicationError, match=r"already holds a scoring job for .*20"):
        _plan(activities, input_path, output, ag_news_domains, batch_size=30)

    assert again == c.PlanScoringJobResult(rows=95, batches=5, reused=True)


def test_score_document_batch_writes_scores_with_provenance(
    job: tuple[ScoringJobActivities, Path],
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
    models: CountingModels,
) -> None:
    """The last batch's file holds rows 80-94 scored by the current model."""
    activities, output = job

    result = _score(activities, output, 4)
    written = _lines(output / BATCHES_DIR / batch_file_name(4))

    assert (result.batch_index, result.rows, result.reused) == (4, 15, False)
    assert (result.model_name, result.model_version) == ("overlap-test", "7")
    assert written == [
        {
            "id": row["id"],
            "domain": row["domain"],
            "score": pytest.approx(
                overlap_score(ag_news_domains[row["domain"]], row["text"]), abs=1e-6
            ),
            "model_name": "overlap-test",
            "model_version": "7",
        }
        for row in ag_news_rows[80:95]
    ]
    assert models.rows_scored == 15


def test_score_document_batch_written_batch_is_not_rescored(
    job: tuple[ScoringJobActivities, Path], models: CountingModels
) -> None:
    """A second attempt at a written batch reuses its file and calls no model."""
    activities, output = job
    first = _score(activities, output, 1)
    before = (output / BATCHES_DIR / batch_file_name(1)).read_bytes()

    second = _score(activities, output, 1)
    events = [(e["batch"], e["event"]) for e in _lines(output / ATTEMPTS_FILE)]

    assert models.rows_scored == 20
    assert second == c.ScoreBatchResult(1, 20, True, "overlap-test", "7", 0.0)
    assert first.reused is False
    assert (output / BATCHES_DIR / batch_file_name(1)).read_bytes() == before
    assert events == [(1, "started"), (1, "written"), (1, "reused")]


def test_score_document_batch_parquet_matches_jsonl(
    tmp_path: Path,
    job: tuple[ScoringJobActivities, Path],
    ag_news_rows: list[dict[str, Any]],
    ag_news_domains: dict[str, str],
) -> None:
    """Parquet input with small row groups gives the same batch file as JSONL."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    activities, output = job
    parquet_path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(ag_news_rows), parquet_path, row_group_size=7)
    parquet_output = tmp_path / "out-parquet"

    plan = _plan(activities, parquet_path, parquet_output, ag_news_domains)
    _score(activities, parquet_output, 2)
    _score(activities, output, 2)

    assert plan == c.PlanScoringJobResult(rows=95, batches=5, reused=False)
    assert (parquet_output / BATCHES_DIR / batch_file_name(2)).read_text() == (
        output / BATCHES_DIR / batch_file_name(2)
    ).read_text()


def test_score_document_batch_changed_input_is_non_retryable(
    job: tuple[ScoringJobActivities, Path], ag_news_rows: list[dict[str, Any]]
) -> None:
    """An input file rewritten after planning fails the batch for good."""
    activities, output = job
    write_jsonl(output.parent / "rows.jsonl", ag_news_rows[:50])

    with pytest.raises(ApplicationError, match=r"changed since the job was planned"):
        _score(activities, output, 0)

    assert not (output / BATCHES_DIR / batch_file_name(0)).exists()


def test_score_document_batch_non_finite_scores_are_retryable(
    job: tuple[ScoringJobActivities, Path], models: CountingModels
) -> None:
    """A model returning NaN raises a plain (retryable) error and writes nothing."""
    activities, output = job
    models.fail_with_nan = True

    with pytest.raises(RuntimeError, match=r"overlap-test version 7 returned scores"):
        _score(activities, output, 0)

    assert not (output / BATCHES_DIR / batch_file_name(0)).exists()


def test_merge_scoring_job_concatenates_batches_in_order(
    job: tuple[ScoringJobActivities, Path], ag_news_rows: list[dict[str, Any]]
) -> None:
    """The merged file holds every row once, in input order, with the model counts."""
    activities, output = job
    for index in (3, 0, 4, 2, 1):
        _score(activities, output, index)

    result = _run_activity(
        activities.merge_scoring_job, c.MergeScoringJobInput(str(output))
    )
    merged = _lines(output / SCORES_FILE)
    batch_scores = [
        row["score"]
        for index in range(5)
        for row in _lines(output / BATCHES_DIR / batch_file_name(index))
    ]

    assert [(r["id"], r["domain"]) for r in merged] == [
        (r["id"], r["domain"]) for r in ag_news_rows
    ]
    assert result == c.MergeScoringJobResult(
        scores_path=str(output / SCORES_FILE),
        rows=95,
        batches=5,
        models={"overlap-test@7": 95},
        mean_score=pytest.approx(sum(batch_scores) / 95, abs=1e-6),
    )
    assert not [p for p in os.listdir(output) if p.endswith(".tmp")]


def test_merge_scoring_job_missing_batch_is_non_retryable(
    job: tuple[ScoringJobActivities, Path],
) -> None:
    """Merging before every batch is written fails, naming the missing batch."""
    activities, output = job
    _score(activities, output, 0)

    with pytest.raises(ApplicationError, match=r"batch 1 has no scores file"):
        _run_activity(activities.merge_scoring_job, c.MergeScoringJobInput(str(output)))
