"""Benchmark MiniLM encoding: plain sentence-transformers vs heysh's fast path.

Both encode the same real documents in the same run, repeats interleaved so
that load from other processes hits both alike; the figure is documents per
second, the median over repeats. Two comparisons:

* ``truncated``: each document as one input (cut at 256 word pieces), the
  call ``SentenceTransformer.encode`` makes, against the fast model's
  ``encode`` on identical inputs;
* ``windowed``: whole documents, every window embedded and pooled, through
  ``SentenceEncoder`` and ``FastSentenceEncoder`` (no caches).

The fast path's embeddings are compared with fp32 ones (cosine per document).
The result, with the machine, load, versions and date, is appended as one JSON
line to ``benchmarks/results/encoder.jsonl`` and printed as a table.

Usage::

    .venv/bin/python benchmarks/bench_encoder.py --docs 128 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / ".." / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "encoder.jsonl"
_FLAGS = (
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_bf16",
    "amx_int8",
    "amx_tile",
)


def load_documents(collection: str, n: int) -> list[str]:
    """``n`` documents spread evenly over a collection, title plus body, cleaned."""
    from heysh.documents import normalise_text

    with (DATASETS / collection / "documents.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rows = [r for r in rows if r["text"].strip()]
    step = max(1, len(rows) // n)
    return [
        normalise_text(f"{r['title'] or ''}\n{r['text']}") for r in rows[::step][:n]
    ]


def machine() -> dict[str, Any]:
    """CPU model, the instruction sets that matter here, cores, GPU, load."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True)
        for line in lscpu.stdout.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                info["cpu"] = value.strip()
            if key.strip() == "Flags":
                flags = set(value.split())
                info["flags"] = [f for f in _FLAGS if f in flags]
    except (OSError, subprocess.CalledProcessError):
        info["cpu"] = platform.processor()
    import torch

    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def versions() -> dict[str, str]:
    """Versions of the libraries that decide the speed."""
    import importlib.metadata as md

    found = {}
    for package in (
        "torch",
        "sentence-transformers",
        "onnxruntime",
        "transformers",
        "openvino",
        "nncf",
    ):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            continue
    return found


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds and process CPU seconds ``fn`` took, and what it returned.

    CPU seconds are what the work costs whatever else runs on the machine; on a
    shared machine they are the steadier of the two figures.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu_started, result


def cosine_summary(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Lowest, 1st percentile and median cosine of matching unit-norm rows."""
    cosines = (a * b).sum(axis=1)
    return {
        "min": round(float(cosines.min()), 5),
        "p1": round(float(np.percentile(cosines, 1)), 5),
        "median": round(float(np.median(cosines)), 5),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run both comparisons and return the result record."""
    import torch
    from sentence_transformers import SentenceTransformer

    from heysh.models.embeddings import SentenceEncoder, default_model_path
    from heysh.models.fast_encoder import FastSentenceEncoder

    load_before = os.getloadavg()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    documents = load_documents(args.collection, args.docs)
    plain = SentenceTransformer(str(default_model_path()), device=device)
    calibration = [
        text
        for name in args.calibration.split(",")
        if name
        for text in load_documents(name, 60)
    ]
    fast = FastSentenceEncoder(
        backend=args.backend,
        threads=args.threads,
        allow_spinning=not args.no_spinning,
        calibration_texts=calibration,
        batch_size=args.batch_size,
        memory_items=0,
    )
    fast_model = fast.model  # exports (once) and loads before any timing
    baseline_windowed = SentenceEncoder(
        device=device, batch_size=args.batch_size, memory_items=0
    )

    def plain_encode() -> np.ndarray:
        return plain.encode(
            documents,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def fast_encode() -> np.ndarray:
        return fast_model.encode(documents, batch_size=args.batch_size)

    # Warm-up: first calls allocate memory and pick kernels.
    plain.encode(documents[:8], batch_size=8, show_progress_bar=False)
    fast_model.encode(documents[:8], batch_size=8)

    times: dict[str, list[float]] = {
        k: []
        for k in (
            "plain_truncated",
            "fast_truncated",
            "plain_windowed",
            "fast_windowed",
        )
    }
    cpu_times: dict[str, list[float]] = {k: [] for k in times}
    outputs: dict[str, np.ndarray] = {}
    for repeat in range(args.repeats):
        runs = [("plain_truncated", plain_encode), ("fast_truncated", fast_encode)]
        if not args.skip_windowed:
            runs += [
                ("plain_windowed", lambda: baseline_windowed.encode(documents)),
                ("fast_windowed", lambda: fast.encode(documents)),
            ]
        if repeat % 2:
            runs.reverse()
        for name, fn in runs:
            seconds, cpu_seconds, out = timed(fn)
            times[name].append(seconds)
            cpu_times[name].append(cpu_seconds)
            outputs[name] = out

    def rate(name: str) -> float | None:
        if not times[name]:
            return None
        return round(len(documents) / statistics.median(times[name]), 2)

    record: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "device": device,
        "collection": args.collection,
        "documents": len(documents),
        "repeats": args.repeats,
        "threads": args.threads,
        "spinning": not args.no_spinning,
        "batch_size": args.batch_size,
        "fast_backend": fast.backend,
        "export_check": fast.export_check_,
        "calibration": args.calibration,
        "docs_per_s": {name: rate(name) for name in times},
        "seconds": {name: [round(t, 3) for t in ts] for name, ts in times.items()},
        "cpu_seconds": {
            name: [round(t, 3) for t in ts] for name, ts in cpu_times.items()
        },
        "cosine_truncated": cosine_summary(
            outputs["plain_truncated"], outputs["fast_truncated"]
        ),
    }
    speedup = (
        record["docs_per_s"]["fast_truncated"] / record["docs_per_s"]["plain_truncated"]
    )
    record["speedup_truncated"] = round(speedup, 2)
    record["cpu_speedup_truncated"] = round(
        statistics.median(cpu_times["plain_truncated"])
        / statistics.median(cpu_times["fast_truncated"]),
        2,
    )
    if not args.skip_windowed:
        record["cosine_windowed"] = cosine_summary(
            outputs["plain_windowed"], outputs["fast_windowed"]
        )
        record["speedup_windowed"] = round(
            record["docs_per_s"]["fast_windowed"]
            / record["docs_per_s"]["plain_windowed"],
            2,
        )
    record["machine"]["load_average"] = load_before
    record["machine"]["load_average_after"] = os.getloadavg()
    return record


def main() -> int:
    """Parse arguments, run, append the JSON line, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", default="bbc-news")
    parser.add_argument("--docs", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--backend",
        default="auto",
        help="fast backend: auto, openvino-int8, openvino-bf16, "
        "onnx-int8, onnx-fp32, torch-fp16",
    )
    parser.add_argument(
        "--calibration",
        default="reuters21578,cisi,swefaq",
        help="collections whose documents calibrate int8 (keep "
        "them apart from --collection)",
    )
    parser.add_argument(
        "--no-spinning",
        action="store_true",
        help="ONNX Runtime threads sleep when idle (shared machines)",
    )
    parser.add_argument("--skip-windowed", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    record = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")

    print(
        f"{record['date']}  {record['machine'].get('cpu', '?')}  "
        f"{record['device']}  threads={record['threads']}  "
        f"load={record['machine']['load_average'][0]:.1f}"
    )
    print(f"{'path':<18}{'docs/s':>10}")
    for name, value in record["docs_per_s"].items():
        if value is not None:
            print(f"{name:<18}{value:>10.2f}")
    print(
        f"speedup (truncated): {record['speedup_truncated']}x wall, "
        f"{record['cpu_speedup_truncated']}x CPU time, "
        f"cosine min {record['cosine_truncated']['min']}"
    )
    if "speedup_windowed" in record:
        print(
            f"speedup (windowed):  {record['speedup_windowed']}x  "
            f"cosine min {record['cosine_windowed']['min']}"
        )
    print(f"appended to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
