"""The knowledge graph contract, run against every adapter in ``graph_harness``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from heysh.errors import DataError
from heysh.stores.base import GraphDocument, KnowledgeGraph

UNICODE = "Åsa öppnar dörren 🚀👩‍🔬 مرحبا بالعالم שלום עולם"
MEGABYTE_TEXT = UNICODE * (1_000_000 // len(UNICODE.encode()) + 1)


def test_graph_contract_adapter_satisfies_protocol(graph_harness):
    """Check that the adapter implements every KnowledgeGraph method."""
    assert isinstance(graph_harness.store, KnowledgeGraph)


def test_graph_upsert_same_id_twice_keeps_one_document_with_new_topics(
    graph_harness, uid
):
    """Check a re-upsert replaces title, topic set, uploader and reviewer."""
    graph = graph_harness.store
    before = graph.count_documents()
    graph.upsert_document(
        GraphDocument(f"{uid}-a", f"{uid}-d", "old", ["x", "y"], "ann", "bo")
    )
    graph.upsert_document(
        GraphDocument(f"{uid}-a", f"{uid}-d", "new", ["z", " y "], "cy")
    )

    assert graph.count_documents() - before == 1
    assert graph.get_document(f"{uid}-a") == GraphDocument(
        f"{uid}-a", f"{uid}-d", "new", ("y", "z"), "cy", ""
    )
    assert graph.domain_topics(f"{uid}-d") == [("y", 1), ("z", 1)]


def test_graph_concurrent_writers_leave_one_document_each(graph_harness, uid):
    """Check that 20 threads upserting the same 5 documents leave 5 documents."""
    graph = graph_harness.store
    before = graph.count_documents()
    start = threading.Barrier(20)

    def write(writer: int) -> None:
        start.wait(timeout=60)
        for i in range(5):
            graph.upsert_document(
                GraphDocument(
                    f"{uid}-{i}", f"{uid}-d", f"w{writer}", ["t", f"t{i}"], "ann"
                )
            )

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(write, range(20)))

    assert graph.count_documents() - before == 5
    assert [graph.get_document(f"{uid}-{i}").topics for i in range(5)] == [
        ("t", f"t{i}") for i in range(5)
    ]
    assert graph.domain_topics(f"{uid}-d") == [
        ("t", 5),
        ("t0", 1),
        ("t1", 1),
        ("t2", 1),
        ("t3", 1),
        ("t4", 1),
    ]


def test_graph_related_documents_share_topics_within_the_domain(graph_harness, uid):
    """Check related documents are ranked by shared topics and stay in the domain."""
    graph = graph_harness.store
    domain, other = f"{uid}-d", f"{uid}-o"
    for doc_id, domain_id, topics in [
        ("a", domain, ["x", "y", "z"]),
        ("b", domain, ["x", "y"]),
        ("c", domain, ["z"]),
        ("c2", domain, ["y"]),
        ("d", domain, ["q"]),
        ("e", other, ["x", "y", "z"]),
    ]:
        graph.upsert_document(
            GraphDocument(f"{uid}-{doc_id}", domain_id, topics=topics)
        )

    related = graph.related_documents(f"{uid}-a")
    top_one = graph.related_documents(f"{uid}-a", limit=1)

    assert related == [(f"{uid}-b", 2), (f"{uid}-c", 1), (f"{uid}-c2", 1)]
    assert top_one == [(f"{uid}-b", 2)]
    assert graph.related_documents(f"{uid}-unknown") == []


def test_graph_domain_topics_count_documents_per_topic(graph_harness, uid):
    """Check a domain's topics are counted, most frequent first, ties by name."""
    graph = graph_harness.store
    domain = f"{uid}-d"
    for doc_id, topics in [
        ("a", ["x", "y", "z"]),
        ("b", ["x", "y"]),
        ("c", ["x", "w"]),
    ]:
        graph.upsert_document(GraphDocument(f"{uid}-{doc_id}", domain, topics=topics))
    graph.upsert_document(GraphDocument(f"{uid}-o", f"{uid}-other", topics=["x"]))

    assert graph.domain_topics(domain) == [("x", 3), ("y", 2), ("w", 1), ("z", 1)]
    assert graph.domain_topics(f"{uid}-empty") == []


def test_graph_document_round_trips_unicode_large_title_and_empty_fields(
    graph_harness, uid
):
    """Check Unicode ids and topics, a 1 MB title and empty users round-trip."""
    graph = graph_harness.store
    document = GraphDocument(
        doc_id=f"{uid}-dok-åäö-🚀",
        domain_id=f"{uid}-דומיין",
        title=MEGABYTE_TEXT,
        topics=("مرحبا", "åäö", "🚀"),
        uploader="",
        reviewer="",
    )

    graph.upsert_document(document)

    assert graph.get_document(document.doc_id) == GraphDocument(
        document.doc_id,
        document.domain_id,
        MEGABYTE_TEXT,
        ("åäö", "مرحبا", "🚀"),
        "",
        "",
    )
    assert graph.get_document(f"{uid}-missing") is None


@pytest.mark.parametrize("field", ["doc_id", "domain_id"])
def test_graph_upsert_empty_id_raises_data_error(graph_harness, uid, field):
    """Check an empty id is refused with a DataError naming the field."""
    values = {"doc_id": f"{uid}-a", "domain_id": f"{uid}-d", field: ""}

    with pytest.raises(DataError, match=f"{field} must be a non-empty string"):
        graph_harness.store.upsert_document(GraphDocument(**values))


def test_graph_restart_loses_nothing_and_accepts_writes(graph_harness, uid):
    """Check documents written before a restart remain and new writes succeed."""
    before = graph_harness.store.count_documents()
    for i in range(5):
        graph_harness.store.upsert_document(
            GraphDocument(f"{uid}-{i}", f"{uid}-d", f"t{i}", ["shared"], "ann", "bo")
        )

    before_restart = graph_harness.store
    graph = graph_harness.restart_server()
    graph.upsert_document(GraphDocument(f"{uid}-after", f"{uid}-d", topics=["shared"]))

    assert graph is not before_restart
    assert graph.count_documents() - before == 6
    assert graph.get_document(f"{uid}-3") == GraphDocument(
        f"{uid}-3", f"{uid}-d", "t3", ("shared",), "ann", "bo"
    )
    assert graph.domain_topics(f"{uid}-d") == [("shared", 6)]
