"""Scoring-job throughput with one and with two AI worker processes.

Usage::

    python benchmarks/bench_scoring_job.py [--collection ag-news] [--documents 2000]
        [--batch-size 100] [--slots 2] [--workers 1,2,1] [--home DIR]

What it does, on one Temporal dev server started for the run:

1. Writes the first ``--documents`` non-empty texts of the collection as a
   JSONL input, the i-th paired with the (i mod k)-th domain, and reads the
   domains' descriptions from its ``domains.jsonl``.
2. Starts a general worker process (the workflow) that stays up throughout.
3. For each count in ``--workers`` (default 1, 2, then 1 again, so the one-
   worker figure brackets the two-worker one on a shared machine): starts
   that many ``python -m heysh.worker`` processes with
   ``WORKER_TYPES=ai-processing``, each with ``--slots`` activity slots and
   serving the default MiniLM model, waits until they are ready, and runs a
   scoring job over the same input into a fresh folder with
   ``max_parallel_batches = slots x workers``. Reports documents per second
   (documents / wall time from start to the merged result, and the
   workflow's own rate from its start to the last batch) and how the batches
   were spread over the workers (from ``attempts.jsonl``). The AI workers are
   stopped before the next count; every run starts with cold processes, so
   no run reuses another's embeddings.

Prints machine and date and appends one JSON line to
``benchmarks/results/scoring_job.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from _machine import announce_machine, free_port, say

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / ".." / "shared" / "datasets"
RESULTS = REPO / "benchmarks" / "results"


def main() -> int:
    args = parse_args()
    from heysh.logging_setup import setup_logging
    from heysh.stack import processes
    from heysh.stack.temporal_dev import (
        DevServerOptions,
        dev_server_command,
        wait_for_temporal,
    )

    setup_logging(level=logging.WARNING)
    home = Path(args.home or tempfile.mkdtemp(prefix="heysh-bench-jobs-")).resolve()
    machine = announce_machine()
    input_path, domains = write_input(args.collection, args.documents, home)
    say(f"input:   {args.documents} {args.collection} documents -> {input_path}")

    server = DevServerOptions(port=free_port(), ui_port=0, db_path=home / "temporal.db")
    pids: list[int] = []
    suffix = f"-bench-{uuid.uuid4().hex[:8]}"
    try:
        pids.append(
            processes.spawn(
                dev_server_command(server),
                env=dict(os.environ),
                log_path=home / "logs" / "temporal.log",
            )
        )
        wait_for_temporal(server.address, timeout_s=60)
        general = start_worker(home, server.address, suffix, "general", 32, "general")
        pids.append(general[0])
        wait_ready([general], timeout_s=120)
        runs = []
        for n_workers in args.workers:
            runs.append(
                run_with_workers(
                    args, home, server.address, suffix, input_path, domains, n_workers
                )
            )
    finally:
        stop(pids)
    result = summarise(args, machine, runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / "scoring_job.jsonl"
    with open(target, "a") as out:
        out.write(json.dumps(result) + "\n")
    say(f"appended to {target.relative_to(REPO)}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    # The Temporal client's threads may abort the interpreter's teardown
    # (temporalio/sdk-python#300); everything is written, so skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--collection",
        default="ag-news",
        help="a folder of ../shared/datasets (default ag-news)",
    )
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--slots",
        type=int,
        default=2,
        help="activity slots per AI worker (HEYSH_AI_MAX_CONCURRENT_ACTIVITIES); "
        "the job runs slots x workers batches at once (default 2)",
    )
    parser.add_argument(
        "--workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2, 1],
        help="AI worker process counts, one timed job each (default 1,2,1)",
    )
    parser.add_argument("--home", help="HEYSH_HOME to keep (default: a temp dir)")
    return parser.parse_args()


def write_input(
    collection: str, documents: int, home: Path
) -> tuple[Path, dict[str, str]]:
    """Write the job's JSONL input; return it and the domain descriptions."""
    folder = DATASETS / collection
    with open(folder / "domains.jsonl", encoding="utf-8") as lines:
        domains = {d["domain_id"]: d["description"] for d in map(json.loads, lines)}
    order = sorted(domains)
    path = home / "input.jsonl"
    home.mkdir(parents=True, exist_ok=True)
    written = 0
    with (
        open(folder / "documents.jsonl", encoding="utf-8") as lines,
        open(path, "w", encoding="utf-8") as out,
    ):
        for line in lines:
            doc = json.loads(line)
            if not doc["text"].strip():
                continue
            domain = order[written % len(order)]
            out.write(
                json.dumps({"id": doc["id"], "domain": domain, "text": doc["text"]})
                + "\n"
            )
            written += 1
            if written == documents:
                break
    if written < documents:
        raise SystemExit(f"{collection} has only {written} non-empty documents")
    return path, domains


def run_with_workers(
    args: argparse.Namespace,
    home: Path,
    address: str,
    suffix: str,
    input_path: Path,
    domains: dict[str, str],
    n_workers: int,
) -> dict[str, Any]:
    """Start ``n_workers`` AI workers, time one job, stop them."""
    started = time.monotonic()
    workers = [
        start_worker(
            home, address, suffix, "ai-processing", args.slots, f"ai-{n_workers}-{i}"
        )
        for i in range(n_workers)
    ]
    try:
        wait_ready(workers, timeout_s=300)
        say(f"{n_workers} AI worker(s) ready in {time.monotonic() - started:.0f}s")
        output = home / f"out-{n_workers}w-{uuid.uuid4().hex[:6]}"
        load_before = round(os.getloadavg()[0], 2)
        timed = asyncio.run(
            time_job(address, suffix, input_path, output, domains, args, n_workers)
        )
    finally:
        stop([pid for pid, _ in workers])
    spread = Counter(
        event["worker"]
        for event in map(
            json.loads, (output / "attempts.jsonl").read_text().splitlines()
        )
        if event["event"] == "written"
    )
    timed.update(
        workers=n_workers,
        parallel_batches=args.slots * n_workers,
        batches_per_worker=sorted(spread.values(), reverse=True),
        load_1m_before=load_before,
        load_1m_after=round(os.getloadavg()[0], 2),
    )
    say(
        f"{n_workers} AI worker(s): {timed['documents']} documents in "
        f"{timed['wall_s']:.1f}s = {timed['documents_per_s']:.1f} documents/s "
        f"(workflow's rate {timed['workflow_documents_per_s']:.1f}); batches per "
        f"worker {timed['batches_per_worker']}"
    )
    return timed


async def time_job(
    address: str,
    suffix: str,
    input_path: Path,
    output: Path,
    domains: dict[str, str],
    args: argparse.Namespace,
    n_workers: int,
) -> dict[str, Any]:
    from temporalio.client import Client

    from heysh.constants import GENERAL_QUEUE
    from heysh.workflows.scoring_job import (
        ScoringJobInput,
        ScoringJobOptions,
        ScoringJobWorkflow,
    )

    client = await Client.connect(address)
    job = ScoringJobInput(
        input_path=str(input_path),
        output_dir=str(output),
        domains=domains,
        options=ScoringJobOptions(
            batch_size=args.batch_size,
            max_parallel_batches=args.slots * n_workers,
            task_queue_suffix=suffix,
        ),
    )
    started = time.perf_counter()
    summary = await client.execute_workflow(
        ScoringJobWorkflow.run,
        job,
        id=f"bench-score-job-{uuid.uuid4().hex[:8]}",
        task_queue=GENERAL_QUEUE + suffix,
    )
    wall_s = time.perf_counter() - started
    return {
        "documents": summary.documents,
        "batches": summary.batches,
        "wall_s": round(wall_s, 2),
        "documents_per_s": round(summary.documents / wall_s, 2),
        "workflow_elapsed_s": summary.elapsed_s,
        "workflow_documents_per_s": summary.documents_per_s,
        "models": summary.models,
        "mean_score": summary.mean_score,
    }


def summarise(
    args: argparse.Namespace, machine: dict[str, Any], runs: list[dict[str, Any]]
) -> dict[str, Any]:
    """One result line: every run, and two workers' rate over one worker's."""
    one = [r["documents_per_s"] for r in runs if r["workers"] == 1]
    two = [r["documents_per_s"] for r in runs if r["workers"] == 2]
    result: dict[str, Any] = {
        "date": machine["date"],
        "machine": {**machine, "load_1m_after": round(os.getloadavg()[0], 2)},
        "kind": "scoring_job",
        "collection": args.collection,
        "documents": args.documents,
        "batch_size": args.batch_size,
        "slots_per_worker": args.slots,
        "runs": runs,
    }
    if one and two:
        result["one_worker_documents_per_s"] = round(statistics.mean(one), 2)
        result["two_workers_documents_per_s"] = round(statistics.mean(two), 2)
        result["ratio_two_over_one"] = round(
            statistics.mean(two) / statistics.mean(one), 3
        )
        say(
            f"one worker {result['one_worker_documents_per_s']} documents/s, two "
            f"{result['two_workers_documents_per_s']}: ratio "
            f"{result['ratio_two_over_one']}"
        )
    return result


def start_worker(
    home: Path, address: str, suffix: str, worker_type: str, slots: int, name: str
) -> tuple[int, int]:
    """Start one worker process; return (pid, health port)."""
    from heysh.stack import processes

    port = free_port()
    env = {
        **os.environ,
        "HEYSH_HOME": str(home / name),
        "HEYSH_TEMPORAL_ADDRESS": address,
        "HEYSH_TASK_QUEUE_SUFFIX": suffix,
        "WORKER_TYPES": worker_type,
        "HEYSH_HEALTH_HOST": "127.0.0.1",
        "HEYSH_HEALTH_PORT": str(port),
        "HEYSH_AI_MAX_CONCURRENT_ACTIVITIES": str(slots),
    }
    pid = processes.spawn(
        [sys.executable, "-m", "heysh.worker"],
        env=env,
        log_path=home / "logs" / f"{name}.log",
    )
    return pid, port


def wait_ready(workers: list[tuple[int, int]], timeout_s: float) -> None:
    from heysh.stack import processes

    deadline = time.monotonic() + timeout_s
    for pid, port in workers:
        while True:
            if not processes.is_running(pid):
                raise SystemExit(f"worker {pid} exited at start; see its log")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/ready", timeout=5
                ) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"worker {pid} not ready in {timeout_s:.0f}s")
            time.sleep(0.5)


def stop(pids: list[int]) -> None:
    from heysh.stack import processes

    processes.stop_processes([(pid, None) for pid in pids], grace_s=30.0)


if __name__ == "__main__":
    sys.exit(main())
