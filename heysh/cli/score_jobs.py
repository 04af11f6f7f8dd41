"""Scoring-job commands: ``heysh score-job start``, ``status`` and ``wait``.

A job scores every row (``id``, ``domain``, ``text``) of a JSONL or Parquet
file with the production model, fanned out over the AI workers by
``heysh.workflows.scoring_job.ScoringJobWorkflow``. Input and output paths
are made absolute here and must be the same on every AI worker (one machine
or a shared volume). Each command is a :func:`temporal_command`, so the
process ends without interpreter teardown (see ``heysh.cli._temporal_calls``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from heysh.cli._temporal_calls import connect, run_async, temporal_command
from heysh.errors import ConfigError, DataError, HeyshError


def register(subparsers: Any) -> None:
    """Add the ``score-job`` commands to the ``heysh`` parser."""
    group = subparsers.add_parser(
        "score-job",
        help="score a large file of documents over the AI workers",
        description="Score every row (id, domain, text) of a JSONL or Parquet "
        "file with the production model, in batches spread over the AI workers.",
    )
    actions = group.add_subparsers(dest="score_job_action", metavar="ACTION")
    start = actions.add_parser("start", help="start a scoring job")
    start.add_argument(
        "--input", required=True, type=Path, help="a .jsonl or .parquet file"
    )
    start.add_argument(
        "--output",
        required=True,
        type=Path,
        help="the job's folder (an empty or new one, or the same job's to resume)",
    )
    start.add_argument("--batch-size", type=_positive, default=1000)
    start.add_argument(
        "--parallel",
        type=_positive,
        default=4,
        help="most batches running at once over all AI workers (4)",
    )
    start.add_argument(
        "--domains",
        type=Path,
        help="domain descriptions: a JSON object {id: description} or JSON "
        "Lines with domain_id and description; default: heysh's domains",
    )
    start.add_argument("--job-id", help="workflow id (default score-job-<random>)")
    start.add_argument(
        "--batches-per-run",
        type=_positive,
        default=500,
        help="batches per workflow run before it continues as new (500)",
    )
    start.set_defaults(handler=run_start)
    for name, verb in (
        ("status", "show a job's progress"),
        ("wait", "wait for a job to finish and show its summary"),
    ):
        parser = actions.add_parser(name, help=verb)
        parser.add_argument("job_id", metavar="JOB_ID")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(handler=run_status if name == "status" else run_wait)


@temporal_command
def run_start(args: argparse.Namespace) -> int:
    return run_async(_start(args))


@temporal_command
def run_status(args: argparse.Namespace) -> int:
    return run_async(_status(args))


@temporal_command
def run_wait(args: argparse.Namespace) -> int:
    return run_async(_wait(args))


async def _start(args: argparse.Namespace) -> int:
    from heysh.constants import GENERAL_QUEUE
    from heysh.workflows.scoring_job import (
        ScoringJobInput,
        ScoringJobOptions,
        ScoringJobWorkflow,
    )

    settings, client = await connect()
    domains = (
        read_domains_file(args.domains)
        if args.domains
        else _domains_of_metadata_store(settings)
    )
    job_id = args.job_id or f"score-job-{uuid.uuid4().hex[:12]}"
    job = ScoringJobInput(
        input_path=str(args.input.expanduser().resolve()),
        output_dir=str(args.output.expanduser().resolve()),
        domains=domains,
        options=ScoringJobOptions(
            batch_size=args.batch_size,
            max_parallel_batches=args.parallel,
            batches_per_run=args.batches_per_run,
            task_queue_suffix=settings.task_queue_suffix,
        ),
    )
    await client.start_workflow(
        ScoringJobWorkflow.run,
        job,
        id=job_id,
        task_queue=GENERAL_QUEUE + settings.task_queue_suffix,
    )
    _out(f"started {job_id}\n  input  {job.input_path}\n  output {job.output_dir}")
    return 0


async def _status(args: argparse.Namespace) -> int:
    from temporalio.client import WorkflowExecutionStatus

    from heysh.workflows.scoring_job import ScoringJobWorkflow

    _, client = await connect()
    handle = client.get_workflow_handle(args.job_id)
    description = await handle.describe()
    progress = await handle.query(ScoringJobWorkflow.progress)
    state = (description.status or WorkflowExecutionStatus.RUNNING).name.lower()
    if args.json:
        _out(json.dumps({"workflow": state, **dataclasses.asdict(progress)}))
        return 0
    share = (
        100.0 * progress.documents_scored / progress.documents_total
        if progress.documents_total
        else 0.0
    )
    _out(
        f"{args.job_id}: {state}, {progress.stage}\n"
        f"  batches   {progress.batches_done} of {progress.batches_total} "
        f"({progress.batches_reused} found already written)\n"
        f"  documents {progress.documents_scored:,} of "
        f"{progress.documents_total:,} ({share:.1f}%)\n"
        f"  rate      {progress.documents_per_s:.1f} documents/s over "
        f"{progress.elapsed_s:.0f}s\n"
        f"  models    {_models_line(progress.models)}\n"
        f"  output    {progress.output_dir}"
    )
    return 0


async def _wait(args: argparse.Namespace) -> int:
    from temporalio.client import WorkflowFailureError

    from heysh.workflows.scoring_job import ScoringJobSummary

    _, client = await connect()
    handle = client.get_workflow_handle(args.job_id, result_type=ScoringJobSummary)
    try:
        summary = await handle.result()
    except WorkflowFailureError as err:
        raise HeyshError(
            f"scoring job {args.job_id} failed: {_root_cause(err)}"
        ) from err
    if args.json:
        _out(json.dumps(dataclasses.asdict(summary)))
        return 0
    _out(
        f"{args.job_id}: done\n"
        f"  scores    {summary.scores_path}\n"
        f"  documents {summary.documents:,} in {summary.batches} batches "
        f"({summary.batches_reused} found already written), {summary.runs} run(s)\n"
        f"  rate      {summary.documents_per_s:.1f} documents/s over "
        f"{summary.elapsed_s:.0f}s\n"
        f"  models    {_models_line(summary.models)}\n"
        f"  mean      {summary.mean_score:.3f}"
    )
    return 0


def read_domains_file(path: Path) -> dict[str, str]:
    """Read domain descriptions from a JSON object or JSON Lines file.

    Args:
        path: ``{"id": "description", ...}``, or one object per line with
            ``domain_id`` and ``description`` (the shape of the collections'
            ``domains.jsonl``).

    Raises:
        DataError: the file is missing, not JSON, or lacks those fields.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot read domains file {path}: {err}") from err
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    # One line of JSON Lines is a JSON object too: it has a domain_id key.
    if isinstance(whole, dict) and "domain_id" not in whole:
        records: list[Any] = [
            {"domain_id": key, "description": value} for key, value in whole.items()
        ]
    else:
        try:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as err:
            raise DataError(
                f"domains file {path} is neither a JSON object nor JSON Lines: {err}"
            ) from err
    domains: dict[str, str] = {}
    for number, record in enumerate(records, start=1):
        domain_id = record.get("domain_id") if isinstance(record, dict) else None
        description = record.get("description") if isinstance(record, dict) else None
        if not isinstance(domain_id, str) or not isinstance(description, str):
            raise DataError(
                f"domains file {path}, entry {number}: needs string domain_id and "
                "description"
            )
        domains[domain_id] = description
    if not domains:
        raise DataError(f"domains file {path} names no domain")
    return domains


def _domains_of_metadata_store(settings: Any) -> dict[str, str]:
    from heysh.stores.factory import open_metadata_store, store_urls

    metadata = open_metadata_store(store_urls(settings).metadata)
    try:
        rows = metadata.list_domains()
    finally:
        close = getattr(metadata, "close", None)
        if close is not None:
            close()
    if not rows:
        raise ConfigError(
            "no domains in heysh yet: create them (heysh domain create) or give "
            "their descriptions with --domains FILE"
        )
    return {row["domain_id"]: row["description"] for row in rows}


def _models_line(models: dict[str, int]) -> str:
    if not models:
        return "none yet"
    line = ", ".join(f"{name} ({count:,})" for name, count in models.items())
    return line + ("  [the production alias moved during the job]" * (len(models) > 1))


def _root_cause(err: BaseException) -> str:
    """The innermost failure's message (the activity's, for bad input)."""
    from temporalio.exceptions import ApplicationError, FailureError

    cause: BaseException | None = err
    message = str(err)
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.message
        if isinstance(cause, FailureError):
            message = cause.message
        cause = cause.__cause__
    return message


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
