"""Time the local relevance scorers: documents per second, cold and warm.

Usage::

    python benchmarks/bench_scoring.py [--collection ag-news] [--fit-docs 60]
                                       [--score-docs 400] [--device cpu]
                                       [--kinds lexical,embedding-similarity,...]

Each scorer is calibrated on ``--fit-docs`` documents of a real collection
from ``../shared/datasets`` (every document against every domain), then scores
``--score-docs`` other documents against every domain. Two timings per scorer:

* cold: a new encoder on an empty disk cache, so every scored document is
  embedded (the MiniLM model is loaded before the clock starts; its load
  time is reported separately);
* warm: another new encoder on the same, now filled, disk cache, so every
  embedding is read from SQLite.

The lexical scorer uses no encoder: its two runs time the same work.
Documents are title plus body, cleaned with ``heysh.documents.normalise_text``.
Wall-clock and CPU seconds are both reported, since a shared machine's load
inflates wall time. One JSON line per scorer is appended to
``benchmarks/results/scoring.jsonl``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _machine import cpu_model

from heysh.documents import normalise_text
from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer
from heysh.models.embedding_cache import EmbeddingCache
from heysh.models.embeddings import SentenceEncoder
from heysh.models.factory import build_scorer

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / ".." / "shared" / "datasets"
RESULTS = REPO / "benchmarks" / "results" / "scoring.jsonl"
KINDS = ("lexical", "embedding-similarity", "embedding-classifier")


def _read_collection(
    name: str, fit_docs: int, score_docs: int, seed: int
) -> tuple[ScoringPairs, np.ndarray, ScoringPairs, dict[str, int]]:
    folder = (DATASETS / name).resolve()
    with (folder / "documents.jsonl").open(encoding="utf-8") as handle:
        documents = [json.loads(line) for line in handle]
    with (folder / "domains.jsonl").open(encoding="utf-8") as handle:
        domains = [json.loads(line) for line in handle]
    if any(d.get("relevance") != "labels" for d in domains):
        sys.exit(f"{name} is not a label collection; use e.g. ag-news or bbc-news")
    order = np.random.default_rng(seed).permutation(len(documents))
    if fit_docs + score_docs > len(order):
        sys.exit(f"{name} has {len(order)} documents, fewer than asked for")

    def pairs_of(indices: np.ndarray) -> tuple[ScoringPairs, np.ndarray]:
        ids, descriptions, texts, labels = [], [], [], []
        for index in indices:
            document = documents[index]
            text = normalise_text(f"{document['title'] or ''}\n{document['text']}")
            for domain in domains:
                ids.append(domain["domain_id"])
                descriptions.append(domain["description"])
                texts.append(text)
                relevant = set(document["labels"]) & set(domain["relevant_labels"])
                labels.append(int(bool(relevant)))
        return ScoringPairs(ids, descriptions, texts), np.array(labels)

    fit_pairs, fit_labels = pairs_of(order[:fit_docs])
    score_pairs, _ = pairs_of(order[fit_docs : fit_docs + score_docs])
    words = [len(t.split()) for t in dict.fromkeys(score_pairs.texts)]
    shape = {
        "domains": len(domains),
        "score_words_median": int(np.median(words)),
        "score_words_max": int(max(words)),
    }
    return fit_pairs, fit_labels, score_pairs, shape


def _timed(function: Any) -> tuple[Any, float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - start, time.process_time() - start_cpu


def _new_encoder(args: argparse.Namespace, cache_path: Path) -> SentenceEncoder:
    # memory_items=0: every lookup after the first goes to the disk cache,
    # which is what a fresh worker process sees.
    return SentenceEncoder(
        device=args.device,
        batch_size=args.batch_size,
        cache=EmbeddingCache(cache_path),
        memory_items=0,
    )


def _bench_kind(
    kind: str,
    args: argparse.Namespace,
    data: tuple[ScoringPairs, np.ndarray, ScoringPairs],
    folder: Path,
) -> dict[str, Any]:
    fit_pairs, fit_labels, score_pairs = data
    cache_path = folder / f"{kind}.sqlite"
    encoder = _new_encoder(args, cache_path)
    scorer: CalibratedScorer = build_scorer(kind, encoder=encoder)
    _, fit_s, _ = _timed(lambda: scorer.fit(fit_pairs, fit_labels))
    record: dict[str, Any] = {"kind": kind, "fit_s": round(fit_s, 3)}

    for phase in ("cold", "warm"):
        phase_encoder = _new_encoder(args, cache_path)
        _ = phase_encoder.model  # load outside the clock
        if hasattr(scorer.scorer, "encoder"):
            scorer.scorer.encoder = phase_encoder
        scores, wall_s, cpu_s = _timed(lambda: scorer.score(score_pairs))
        n_docs = len(set(score_pairs.texts))
        record[phase] = {
            "wall_s": round(wall_s, 3),
            "cpu_s": round(cpu_s, 3),
            "docs_per_s": round(n_docs / wall_s, 2),
            "docs_per_cpu_s": round(n_docs / max(cpu_s, 1e-9), 2),
            "pairs_per_s": round(len(score_pairs) / wall_s, 2),
            "computed_texts": phase_encoder.counters.computed_texts,
            "computed_windows": phase_encoder.counters.computed_windows,
            "cache_hits": phase_encoder.counters.cache_hits,
            "multi_window_texts": phase_encoder.counters.multi_window_texts,
        }
        record["score_mean"] = round(float(np.mean(scores)), 4)
    return record


def _machine(device: str) -> dict[str, Any]:
    import sentence_transformers
    import torch

    cpu = cpu_model()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection", default="ag-news")
    parser.add_argument("--fit-docs", type=int, default=60)
    parser.add_argument("--score-docs", type=int, default=400)
    parser.add_argument("--device", default=None, help="cpu, cuda; default: best")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    fit_pairs, fit_labels, score_pairs, shape = _read_collection(
        args.collection, args.fit_docs, args.score_docs, args.seed
    )
    probe = SentenceEncoder(device=args.device)
    _, load_s, _ = _timed(lambda: probe.model)
    args.device = probe.device
    run = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "collection": args.collection,
        "fit_docs": args.fit_docs,
        "score_docs": args.score_docs,
        "score_pairs": len(score_pairs),
        "batch_size": args.batch_size,
        "model_load_s": round(load_s, 2),
        **shape,
        "machine": _machine(args.device),
    }

    records = []
    with tempfile.TemporaryDirectory(prefix="heysh-bench-") as folder:
        for kind in args.kinds.split(","):
            record = {
                **run,
                **_bench_kind(
                    kind, args, (fit_pairs, fit_labels, score_pairs), Path(folder)
                ),
            }
            records.append(record)
            print(f"done {kind}", file=sys.stderr, flush=True)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")

    machine = run["machine"]
    print(
        f"{run['date']}  {args.collection}: {args.score_docs} docs x "
        f"{shape['domains']} domains (median {shape['score_words_median']} words), "
        f"fit on {args.fit_docs} docs; {machine['cpu']}, {machine['cores']} cores, "
        f"device {args.device}, load avg {machine['load_average_1m']}, "
        f"model load {run['model_load_s']} s"
    )
    header = (
        f"{'scorer':22} {'fit s':>6} {'cold docs/s':>12} {'cold docs/cpu-s':>16} "
        f"{'warm docs/s':>12} {'warm docs/cpu-s':>16} {'windows':>8}"
    )
    print(header)
    print("-" * len(header))
    for record in records:
        cold, warm = record["cold"], record["warm"]
        print(
            f"{record['kind']:22} {record['fit_s']:6.1f} {cold['docs_per_s']:12.1f} "
            f"{cold['docs_per_cpu_s']:16.1f} {warm['docs_per_s']:12.1f} "
            f"{warm['docs_per_cpu_s']:16.1f} {cold['computed_windows']:8d}"
        )
    print(f"appended {len(records)} lines to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
