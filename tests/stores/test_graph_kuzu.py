"""Kùzu knowledge graph specifics: one process per database, shared handles."""

from __future__ import annotations

import subprocess
import sys

import pytest

from heysh.errors import DataError, StoreUnavailableError
from heysh.stores.base import GraphDocument
from heysh.stores.graph_kuzu import KuzuKnowledgeGraph

SECOND_PROCESS = """
import sys
from heysh.errors import StoreUnavailableError
from heysh.stores.graph_kuzu import KuzuKnowledgeGraph
try:
    KuzuKnowledgeGraph(sys.argv[1])
except StoreUnavailableError as err:
    print(err)
"""


def test_kuzu_graph_second_process_gets_a_clear_error(tmp_path):
    """Check a second process opening a held graph gets StoreUnavailableError."""
    graph = KuzuKnowledgeGraph(tmp_path)

    out = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    graph.close()

    assert "Only one process may open an embedded graph" in out
    assert "storage worker" in out


def test_kuzu_graph_handles_in_one_process_share_the_database(tmp_path):
    """Check two handles on one folder share data, and closing one keeps the other."""
    first, second = KuzuKnowledgeGraph(tmp_path), KuzuKnowledgeGraph(tmp_path)
    first.upsert_document(GraphDocument("a", "d", topics=["x"]))
    first.close()

    second.upsert_document(GraphDocument("b", "d", topics=["x"]))

    assert second.related_documents("a") == [("b", 1)]
    with pytest.raises(StoreUnavailableError, match="was closed"):
        first.count_documents()
    second.close()


def test_kuzu_graph_invalid_topic_keeps_earlier_version(tmp_path):
    """Check an upsert with a non-string topic is refused and changes nothing."""
    graph = KuzuKnowledgeGraph(tmp_path)
    graph.upsert_document(GraphDocument("a", "d", "title", ["x"], "ann"))

    with pytest.raises(DataError, match="topic 5 is not a string"):
        graph.upsert_document(GraphDocument("a", "d", "new", ["y", 5], "bo"))

    assert graph.get_document("a") == GraphDocument(
        "a", "d", "title", ("x",), "ann", ""
    )
    graph.close()


def test_kuzu_graph_upsert_failing_inside_the_transaction_rolls_back(tmp_path):
    """Check a statement failing after relationships were cleared undoes them all."""
    graph = KuzuKnowledgeGraph(tmp_path)
    graph.upsert_document(GraphDocument("a", "d", "title", ["x"], "ann"))
    real = graph._shared.connection

    class FailingOnUploader:
        """Passes statements through, failing the one that links the uploader."""

        def execute(self, query, parameters=None):
            if "UPLOADED]->(d)" in query:
                raise RuntimeError("simulated failure")
            return real.execute(query, parameters or {})

    graph._shared.connection = FailingOnUploader()
    with pytest.raises(RuntimeError, match="simulated failure"):
        graph.upsert_document(GraphDocument("a", "d", "new", ["y"], "bo"))
    graph._shared.connection = real

    assert graph.get_document("a") == GraphDocument(
        "a", "d", "title", ("x",), "ann", ""
    )
    graph.close()


def test_kuzu_graph_non_string_user_raises(tmp_path):
    """Check a non-string uploader is refused instead of silently cast to text."""
    graph = KuzuKnowledgeGraph(tmp_path)

    with pytest.raises(DataError, match="uploader must be a string, got 5"):
        graph.upsert_document(GraphDocument("a", "d", uploader=5))

    assert graph.get_document("a") is None
    graph.close()
