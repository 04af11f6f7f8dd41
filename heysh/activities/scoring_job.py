"""Activities of large scoring jobs on the ai-processing queue: plan, score, merge.

A scoring job scores every row (``id``, ``domain``, ``text``) of a JSONL or
Parquet file against its domain's description with the AI worker's current
model, in batches that ``heysh.workflows.scoring_job.ScoringJobWorkflow``
fans out over the AI workers. Everything lives in one output folder, which
every AI worker must see at the same path (one machine, or a shared volume):

* ``job.json``: the plan (input fingerprint, batch size, domains, and for
  JSONL the byte offset where each batch starts), written once;
* ``batches/batch-000042.jsonl``: one file per batch, written atomically
  (temporary file, then rename), one line per row: ``id``, ``domain``,
  ``score`` (0-10), ``model_name``, ``model_version``;
* ``attempts.jsonl``: one line per batch attempt event (``started``,
  ``written``, ``reused``) with the worker's host and pid, the audit trail
  that shows which batches were scored and which were found done;
* ``scores.jsonl``: every batch merged in row order, written atomically.

A batch whose file exists is never scored again, so a job resumes after a
crash without redoing finished batches.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError

from heysh.activities import contracts as c
from heysh.activities.ai import MAX_SCORED_CHARS, ModelProvider
from heysh.constants import SCORE_MAX, SCORE_MIN
from heysh.errors import DataError
from heysh.models.base import ScoringPairs

PLAN_FILE = "job.json"
BATCHES_DIR = "batches"
ATTEMPTS_FILE = "attempts.jsonl"
SCORES_FILE = "scores.jsonl"
INPUT_SUFFIXES = (".jsonl", ".parquet")

_PLAN_FORMAT = 1
_COLUMNS = ("id", "domain", "text")
# Bad rows quoted in an error message; the message gives the total count too.
_ERRORS_SHOWN = 5
# Decimals kept of each score: far below any threshold's resolution.
_SCORE_DECIMALS = 6
_PARQUET_READ_ROWS = 65_536


def batch_file_name(batch_index: int) -> str:
    """Return the file name of a batch's scores.

    >>> batch_file_name(42)
    'batch-000042.jsonl'
    """
    return f"batch-{batch_index:06d}.jsonl"


@dataclass(frozen=True)
class JobPlan:
    """What ``job.json`` holds: the input's identity and how it is cut.

    Attributes:
        offsets: JSONL only: the byte offset of each batch's first line.
    """

    input_path: str
    input_format: str
    input_size: int
    input_mtime_ns: int
    rows: int
    batch_size: int
    batches: int
    domains: dict[str, str]
    offsets: list[int]

    def rows_of(self, batch_index: int) -> tuple[int, int]:
        """Return the batch's row range ``[start, stop)``."""
        start = batch_index * self.batch_size
        return start, min(start + self.batch_size, self.rows)

    def same_job(self, other: JobPlan) -> bool:
        """Whether ``other`` plans the same input, cut and domains."""
        keys = ("input_path", "input_size", "input_mtime_ns", "batch_size", "domains")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


@dataclass(frozen=True)
class _Row:
    doc_id: str
    domain: str
    text: str


class ScoringJobActivities:
    """The scoring-job activities, scoring with the AI worker's model source.

    Args:
        models: The same source as ``AiActivities``, so jobs score with the
            promoted model (``current()`` is read once per batch).
        chunk_size: Rows per model call.
        pause_after_write_s: Testing only: seconds a batch attempt sleeps
            after writing its file and before completing, so a test can kill
            the worker in that window.

    Model calls run on a thread of their own, one at a time: the model uses
    every core in one call, and batches running side by side on one worker
    take turns. Reviews score on ``AiActivities``' thread meanwhile.
    """

    def __init__(
        self,
        *,
        models: ModelProvider,
        chunk_size: int = 64,
        pause_after_write_s: float = 0.0,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self._models = models
        self._chunk_size = chunk_size
        self._pause_after_write_s = pause_after_write_s
        self._model_thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="heysh-scoring-job"
        )
        self._io = concurrent.futures.ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="heysh-scoring-job-io"
        )
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    def close(self) -> None:
        """Release the threads (after the worker has stopped)."""
        self._model_thread.shutdown(wait=False)
        self._io.shutdown(wait=False)

    def activities(self) -> list[Callable[..., Any]]:
        """Every scoring-job activity, for the ai-processing Worker."""
        return [
            self.plan_scoring_job,
            self.score_document_batch,
            self.merge_scoring_job,
        ]

    @activity.defn(name=c.PLAN_SCORING_JOB)
    async def plan_scoring_job(
        self, request: c.PlanScoringJobInput
    ) -> c.PlanScoringJobResult:
        """Check every row of the input and write ``job.json`` (once).

        Raises:
            ApplicationError: non-retryable, type ``InvalidActivityInput``:
                the file is missing or of an unknown kind, a row has no id,
                no text or an unknown domain, a pair repeats, or the output
                folder holds a different job.
        """
        progress = {"rows_checked": 0}
        async with _heartbeating(progress):
            try:
                plan, reused = await self._run(self._io, _plan_job, request, progress)
            except DataError as err:
                raise _invalid(str(err)) from err
        activity.logger.info(
            "scoring_job_planned",
            extra={"rows": plan.rows, "batches": plan.batches, "reused": reused},
        )
        return c.PlanScoringJobResult(plan.rows, plan.batches, reused)

    @activity.defn(name=c.SCORE_DOCUMENT_BATCH)
    async def score_document_batch(
        self, request: c.ScoreBatchInput
    ) -> c.ScoreBatchResult:
        """Score one batch and write its file, unless an earlier attempt did.

        Raises:
            ApplicationError: non-retryable, type ``InvalidActivityInput``:
                no plan, a batch index outside it, an input file changed
                since planning, or a bad row. Model failures raise normally,
                so Temporal retries them.
        """
        output = Path(request.output_dir)
        target = output / BATCHES_DIR / batch_file_name(request.batch_index)
        attempt = activity.info().attempt
        if await self._run(self._io, target.exists):
            reused: c.ScoreBatchResult = await self._run(
                self._io, _summarise_batch, target
            )
            self._log_attempt(output, request.batch_index, attempt, "reused", reused)
            return reused
        progress = {"rows_scored": 0}
        async with _heartbeating(progress):
            try:
                plan = await self._run(self._io, read_plan, output)
                rows = await self._run(
                    self._io, _read_batch_rows, plan, request.batch_index
                )
            except DataError as err:
                raise _invalid(str(err)) from err
            self._log_attempt(output, request.batch_index, attempt, "started")
            model = self._models.current()
            started = time.perf_counter()
            scores = await self._run(
                self._model_thread, self._score_rows, model, plan, rows, progress
            )
            scoring_s = time.perf_counter() - started
            await self._run(self._io, _write_batch, target, rows, scores, model)
        result = c.ScoreBatchResult(
            request.batch_index, len(rows), False, model.name, model.version, scoring_s
        )
        self._log_attempt(output, request.batch_index, attempt, "written", result)
        activity.logger.info(
            "scoring_batch_written",
            extra={
                "batch": request.batch_index,
                "rows": len(rows),
                "model": model.name,
                "model_version": model.version,
                "seconds": round(scoring_s, 3),
            },
        )
        if self._pause_after_write_s > 0:
            await asyncio.sleep(self._pause_after_write_s)
        return result

    @activity.defn(name=c.MERGE_SCORING_JOB)
    async def merge_scoring_job(
        self, request: c.MergeScoringJobInput
    ) -> c.MergeScoringJobResult:
        """Concatenate every batch file in order into ``scores.jsonl``.

        Raises:
            ApplicationError: non-retryable, type ``InvalidActivityInput``:
                no plan, or a batch file missing or not matching the plan.
        """
        progress = {"batches_merged": 0}
        async with _heartbeating(progress):
            try:
                result: c.MergeScoringJobResult = await self._run(
                    self._io, _merge_batches, Path(request.output_dir), progress
                )
            except DataError as err:
                raise _invalid(str(err)) from err
        activity.logger.info(
            "scoring_job_merged",
            extra={"rows": result.rows, "batches": result.batches},
        )
        return result

    def _score_rows(
        self,
        model: Any,
        plan: JobPlan,
        rows: list[_Row],
        progress: dict[str, int],
    ) -> np.ndarray:
        scores = np.empty(len(rows), dtype=np.float64)
        for start in range(0, len(rows), self._chunk_size):
            chunk = rows[start : start + self._chunk_size]
            pairs = ScoringPairs(
                domain_ids=[r.domain for r in chunk],
                descriptions=[plan.domains[r.domain] for r in chunk],
                texts=[r.text[:MAX_SCORED_CHARS] for r in chunk],
            )
            values = np.asarray(model.score(pairs), dtype=np.float64)
            if values.shape != (len(chunk),) or not np.all(np.isfinite(values)):
                # Retryable on purpose: moving the alias to a working model fixes it.
                raise RuntimeError(
                    f"model {model.name} version {model.version} returned scores "
                    f"of shape {values.shape} with non-finite values for "
                    f"{len(chunk)} rows; expected one finite score per row"
                )
            scores[start : start + len(chunk)] = np.clip(values, SCORE_MIN, SCORE_MAX)
            progress["rows_scored"] = start + len(chunk)
        return scores

    def _log_attempt(
        self,
        output: Path,
        batch_index: int,
        attempt: int,
        event: str,
        result: c.ScoreBatchResult | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "batch": batch_index,
            "attempt": attempt,
            "event": event,
            "worker": self._worker,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        if result is not None:
            record.update(
                rows=result.rows,
                model_name=result.model_name,
                model_version=result.model_version,
            )
        _append_line(output / ATTEMPTS_FILE, record)

    async def _run(
        self,
        executor: concurrent.futures.Executor,
        func: Callable[..., Any],
        *args: Any,
    ) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor, func, *args)


def read_plan(output_dir: Path) -> JobPlan:
    """Read ``job.json`` of a job's output folder.

    Raises:
        DataError: the folder has no plan, or an unreadable one.
    """
    path = Path(output_dir) / PLAN_FILE
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path} does not exist; plan the job (plan_scoring_job) first"
        ) from None
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read the scoring job plan {path}: {err}") from err
    if fields.pop("format", None) != _PLAN_FORMAT:
        raise DataError(f"{path} is not a format-{_PLAN_FORMAT} scoring job plan")
    return JobPlan(**fields)


def _plan_job(
    request: c.PlanScoringJobInput, progress: dict[str, int]
) -> tuple[JobPlan, bool]:
    """Validate the input and write the plan; reuse an identical existing plan."""
    if request.batch_size < 1:
        raise DataError(f"batch_size must be at least 1, got {request.batch_size}")
    if not request.domains:
        raise DataError("no domain descriptions given; the model needs them")
    path = Path(request.input_path).expanduser().resolve()
    if path.suffix.lower() not in INPUT_SUFFIXES:
        raise DataError(
            f"input {path} is neither JSONL nor Parquet; give a file ending in "
            f"{' or '.join(INPUT_SUFFIXES)}"
        )
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(
            f"input file {path} does not exist (as the AI worker sees it); every "
            "AI worker must see the input and output at the same paths"
        ) from None
    output = Path(request.output_dir)
    wanted = JobPlan(
        input_path=str(path),
        input_format=path.suffix.lower().lstrip("."),
        input_size=stat.st_size,
        input_mtime_ns=stat.st_mtime_ns,
        rows=0,
        batch_size=request.batch_size,
        batches=0,
        domains=dict(sorted(request.domains.items())),
        offsets=[],
    )
    if (output / PLAN_FILE).exists():
        existing = read_plan(output)
        if existing.same_job(wanted):
            return existing, True
        raise DataError(
            f"output folder {output} already holds a scoring job for "
            f"{existing.input_path} (batch size {existing.batch_size}, "
            f"{len(existing.domains)} domains); use an empty folder, or the same "
            "input, batch size and domains to resume that job"
        )
    counter = _RowChecker(wanted.domains)
    if wanted.input_format == "jsonl":
        offsets = _check_jsonl(path, request.batch_size, counter, progress)
    else:
        offsets = []
        _check_parquet(path, counter, progress)
    counter.raise_if_bad(path)
    plan = dataclasses.replace(
        wanted,
        rows=counter.rows,
        batches=-(-counter.rows // request.batch_size),
        offsets=offsets,
    )
    output.mkdir(parents=True, exist_ok=True)
    (output / BATCHES_DIR).mkdir(exist_ok=True)
    _write_atomically(
        output / PLAN_FILE,
        json.dumps({"format": _PLAN_FORMAT, **dataclasses.asdict(plan)}).encode(),
    )
    return plan, False


class _RowChecker:
    """Counts rows and collects what is wrong with them."""

    def __init__(self, domains: dict[str, str]) -> None:
        self._domains = domains
        # 16-byte digests of (id, domain): exact enough, and small for millions.
        self._seen: set[bytes] = set()
        self.rows = 0
        self.problems: list[str] = []
        self.bad_rows = 0

    def check(self, row: Any, where: str) -> _Row | None:
        self.rows += 1
        problem, parsed = _parse_row(row, self._domains)
        if parsed is not None:
            key = hashlib.blake2b(
                f"{parsed.doc_id}\0{parsed.domain}".encode(), digest_size=16
            ).digest()
            if key in self._seen:
                problem = f"repeats the pair ({parsed.doc_id!r}, {parsed.domain!r})"
            self._seen.add(key)
        if problem:
            self.bad_rows += 1
            if len(self.problems) < _ERRORS_SHOWN:
                self.problems.append(f"{where}: {problem}")
            return None
        return parsed

    def raise_if_bad(self, path: Path) -> None:
        if self.bad_rows:
            raise DataError(
                f"{self.bad_rows} of {self.rows} rows of {path} cannot be scored; "
                f"first: {'; '.join(self.problems)}. Each row needs a non-empty id, "
                f"text, and a domain among {sorted(self._domains)}"
            )
        if self.rows == 0:
            raise DataError(f"input {path} has no rows to score")


def _parse_row(row: Any, domains: dict[str, str]) -> tuple[str, _Row | None]:
    """Return (problem, row): an empty problem and the row when it can be scored."""
    if isinstance(row, _Unparsable):
        return f"is not JSON ({row.error})", None
    if not isinstance(row, dict):
        return f"is {type(row).__name__}, not an object", None
    doc_id, domain, text = (row.get(k) for k in _COLUMNS)
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or doc_id == "":
        return f"has no id (got {doc_id!r})", None
    if not isinstance(text, str) or not text.strip():
        return f"id {doc_id!r} has no text", None
    if domain not in domains:
        return f"id {doc_id!r} names unknown domain {domain!r}", None
    return "", _Row(str(doc_id), str(domain), text)


def _check_jsonl(
    path: Path, batch_size: int, checker: _RowChecker, progress: dict[str, int]
) -> list[int]:
    """Check every line; return the byte offset of each batch's first row."""
    offsets: list[int] = []
    for offset, line_number, value in _jsonl_rows(path, 0):
        if checker.rows % batch_size == 0:
            offsets.append(offset)
        checker.check(value, f"line {line_number}")
        progress["rows_checked"] = checker.rows
    return offsets


def _jsonl_rows(path: Path, offset: int) -> Iterator[tuple[int, int, Any]]:
    """Yield (byte offset, line number from ``offset``, value) per non-blank line."""
    with open(path, "rb") as lines:
        lines.seek(offset)
        position = offset
        for number, line in enumerate(lines, start=1):
            start, position = position, position + len(line)
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as err:
                value = _Unparsable(str(err))
            yield start, number, value


class _Unparsable:
    """A line that is not JSON (so the checker reports it with the others)."""

    def __init__(self, error: str) -> None:
        self.error = error


def _check_parquet(path: Path, checker: _RowChecker, progress: dict[str, int]) -> None:
    parquet = _open_parquet(path)
    for batch in parquet.iter_batches(
        batch_size=_PARQUET_READ_ROWS, columns=list(_COLUMNS)
    ):
        for row in batch.to_pylist():
            checker.check(row, f"row {checker.rows}")
        progress["rows_checked"] = checker.rows


def _open_parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read {path} as Parquet: {err}") from err
    missing = [k for k in _COLUMNS if k not in parquet.schema_arrow.names]
    if missing:
        raise DataError(
            f"{path} lacks the column(s) {missing}; a scoring job needs "
            f"{list(_COLUMNS)}"
        )
    return parquet


def _read_batch_rows(plan: JobPlan, batch_index: int) -> list[_Row]:
    """Read and re-check a batch's rows, after checking the input is unchanged."""
    if not 0 <= batch_index < plan.batches:
        raise DataError(
            f"batch {batch_index} is outside the plan's {plan.batches} batches"
        )
    path = Path(plan.input_path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(f"input file {path} has disappeared since planning") from None
    if (stat.st_size, stat.st_mtime_ns) != (plan.input_size, plan.input_mtime_ns):
        raise DataError(
            f"input file {path} changed since the job was planned (size "
            f"{plan.input_size} -> {stat.st_size}); start a new job in a new folder"
        )
    start, stop = plan.rows_of(batch_index)
    if plan.input_format == "jsonl":
        values = (
            (f"line {number} after byte {plan.offsets[batch_index]}", value)
            for _, number, value in _jsonl_rows(path, plan.offsets[batch_index])
        )
    else:
        values = (
            (f"row {start + i}", v)
            for i, v in enumerate(_parquet_rows(path, start, stop))
        )
    checker = _RowChecker(plan.domains)
    rows: list[_Row] = []
    for where, value in values:
        if len(rows) + checker.bad_rows == stop - start:
            break
        row = checker.check(value, where)
        if row is not None:
            rows.append(row)
    checker.raise_if_bad(path)
    if len(rows) != stop - start:
        raise DataError(
            f"batch {batch_index} of {path} holds {len(rows)} rows, the plan "
            f"{stop - start}; the file changed since planning"
        )
    return rows


def _parquet_rows(path: Path, start: int, stop: int) -> list[dict[str, Any]]:
    """Rows ``[start, stop)``, reading only the row groups that hold them."""
    parquet = _open_parquet(path)
    groups, first_row, offset = [], -1, 0
    for index in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(index).num_rows
        if offset < stop and offset + size > start:
            groups.append(index)
            first_row = offset if first_row < 0 else first_row
        offset += size
    table = parquet.read_row_groups(groups, columns=list(_COLUMNS))
    rows: list[dict[str, Any]] = table.slice(
        start - first_row, stop - start
    ).to_pylist()
    return rows


def _write_batch(
    target: Path, rows: list[_Row], scores: np.ndarray, model: Any
) -> None:
    lines = [
        json.dumps(
            {
                "id": row.doc_id,
                "domain": row.domain,
                "score": round(float(score), _SCORE_DECIMALS),
                "model_name": model.name,
                "model_version": model.version,
            }
        )
        for row, score in zip(rows, scores, strict=True)
    ]
    _write_atomically(target, ("\n".join(lines) + "\n").encode("utf-8"))


def _summarise_batch(target: Path) -> c.ScoreBatchResult:
    """What an existing batch file holds (the batch was scored before)."""
    rows, model_name, model_version = 0, "", ""
    with open(target, encoding="utf-8") as lines:
        for line in lines:
            if not rows:
                first = json.loads(line)
                model_name, model_version = first["model_name"], first["model_version"]
            rows += 1
    index = int(target.stem.rsplit("-", 1)[1])
    return c.ScoreBatchResult(index, rows, True, model_name, model_version, 0.0)


def _merge_batches(output: Path, progress: dict[str, int]) -> c.MergeScoringJobResult:
    plan = read_plan(output)
    target = output / SCORES_FILE
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    models: dict[str, int] = {}
    rows, score_sum = 0, 0.0
    try:
        with open(temporary, "w", encoding="utf-8") as merged:
            for index in range(plan.batches):
                batch_rows = _copy_batch(output, plan, index, merged, models)
                rows += batch_rows[0]
                score_sum += batch_rows[1]
                progress["batches_merged"] = index + 1
            merged.flush()
            os.fsync(merged.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return c.MergeScoringJobResult(
        scores_path=str(target),
        rows=rows,
        batches=plan.batches,
        models=dict(sorted(models.items())),
        mean_score=round(score_sum / rows, _SCORE_DECIMALS) if rows else 0.0,
    )


def _copy_batch(
    output: Path, plan: JobPlan, index: int, merged: Any, models: dict[str, int]
) -> tuple[int, float]:
    """Append one batch file to ``merged``; return its rows and score sum."""
    path = output / BATCHES_DIR / batch_file_name(index)
    start, stop = plan.rows_of(index)
    rows, score_sum = 0, 0.0
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                key = f"{record['model_name']}@{record['model_version']}"
                models[key] = models.get(key, 0) + 1
                score_sum += float(record["score"])
                merged.write(line)
                rows += 1
    except FileNotFoundError:
        raise DataError(
            f"batch {index} has no scores file {path}; run the job to the end "
            "before merging"
        ) from None
    if rows != stop - start:
        raise DataError(f"batch file {path} holds {rows} rows, the plan {stop - start}")
    return rows, score_sum


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, then rename it."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _append_line(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line with a single ``write`` (whole lines, even when shared)."""
    data = (json.dumps(record) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)


@contextlib.asynccontextmanager
async def _heartbeating(progress: dict[str, int]) -> AsyncIterator[None]:
    """Heartbeat ``progress`` every third of the heartbeat timeout (5 s without one)."""
    timeout = activity.info().heartbeat_timeout
    interval_s = timeout.total_seconds() / 3 if timeout else 5.0

    async def beat() -> None:
        while True:
            activity.heartbeat(dict(progress))
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=c.INVALID_INPUT_ERROR, non_retryable=True)
