"""What the Neo4j adapter adds to the graph contract: URLs, constraints, restarts.

The shared behaviour is pinned by ``test_graph_contract.py``. Tests marked
``integration`` need the server named by ``HEYSH_TEST_NEO4J_URL``
(``scripts/servers/neo4j.sh start``).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import neo4j
import pytest

from heysh.errors import ConfigError, StoreUnavailableError
from heysh.stores.base import GraphDocument
from heysh.stores.factory import open_knowledge_graph
from heysh.stores.graph_neo4j import Neo4jKnowledgeGraph, split_neo4j_url
from tests.stores.servers import is_script_server, restart_script_server

URL_VAR = "HEYSH_TEST_NEO4J_URL"
needs_server = pytest.mark.skipif(
    not os.environ.get(URL_VAR),
    reason=f"{URL_VAR} is not set; CI sets it to a running Neo4j server",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("bolt://127.0.0.1:57687", ("bolt://127.0.0.1:57687", None, None, None)),
        (
            "neo4j+s://ann:p%40ss@db.example?database=heysh",
            ("neo4j+s://db.example", "ann", "p@ss", "heysh"),
        ),
        ("bolt://[::1]:7687", ("bolt://[::1]:7687", None, None, None)),
    ],
)
def test_split_neo4j_url_separates_credentials_and_database(url, expected):
    """Check the driver URI never carries the credentials or the database."""
    assert split_neo4j_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:7474", "expected bolt|bolt+s"),
        ("bolt://127.0.0.1:7687?db=x", r"unknown Neo4j URL parameters \['db'\]"),
        ("bolt://127.0.0.1:99999", "invalid Neo4j URL"),
    ],
)
def test_split_neo4j_url_rejects_invalid_url(url, message):
    """Check a malformed URL is a ConfigError saying what is wrong."""
    with pytest.raises(ConfigError, match=message):
        split_neo4j_url(url)


def test_open_knowledge_graph_unreachable_server_names_the_variable():
    """Check an unreachable Neo4j stops start-up with the variable named and the
    password hidden."""
    url = f"bolt://neo4j:s3cret@127.0.0.1:{free_port()}"

    with pytest.raises(StoreUnavailableError) as raised:
        open_knowledge_graph(url)

    message = str(raised.value)
    assert re.match(
        r"HEYSH_GRAPH_URL='bolt://neo4j:\*\*\*@127\.0\.0\.1:\d+': ", message
    )
    assert "cannot reach Neo4j" in message
    assert "s3cret" not in message


# Against the real server.


@pytest.mark.integration
@needs_server
def test_neo4j_graph_creates_uniqueness_constraints_at_start_up():
    """Check opening the graph leaves one uniqueness constraint per node key."""
    uri, user, password, database = split_neo4j_url(os.environ[URL_VAR])
    with neo4j.GraphDatabase.driver(
        uri, auth=(user, password) if user else None
    ) as driver:
        for name in ("document_id", "domain_id", "topic_name", "user_id"):
            driver.execute_query(
                f"DROP CONSTRAINT heysh_{name} IF EXISTS", database_=database
            )

    graph = Neo4jKnowledgeGraph(os.environ[URL_VAR])
    try:
        with graph._session() as session:
            rows = session.run(
                "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties "
                "WHERE name STARTS WITH 'heysh_' RETURN *"
            ).data()
    finally:
        graph.close()

    assert sorted(
        (r["labelsOrTypes"][0], r["properties"][0], r["type"]) for r in rows
    ) == [
        ("Document", "id", "UNIQUENESS"),
        ("Domain", "id", "UNIQUENESS"),
        ("Topic", "name", "UNIQUENESS"),
        ("User", "id", "UNIQUENESS"),
    ]


@pytest.mark.integration
@needs_server
def test_neo4j_concurrent_writers_in_separate_drivers_leave_one_node_each():
    """Check 8 graphs (separate connection pools, like separate workers) writing
    the same documents and topics leave one node per document, topic and user."""
    graphs = [Neo4jKnowledgeGraph(os.environ[URL_VAR]) for _ in range(8)]
    uid = f"t{uuid.uuid4().hex[:10]}"
    start = threading.Barrier(len(graphs))

    def write(graph: Neo4jKnowledgeGraph) -> None:
        start.wait()
        for i in range(4):
            graph.upsert_document(
                GraphDocument(
                    f"{uid}-{i}", f"{uid}-d", "", [f"{uid}-t", f"{uid}-{i}"], f"{uid}-u"
                )
            )

    try:
        with ThreadPoolExecutor(len(graphs)) as pool:
            list(pool.map(write, graphs))
        with graphs[0]._session() as session:
            counts = session.run(
                "MATCH (n) WHERE n.id STARTS WITH $uid OR n.name STARTS WITH $uid "
                "RETURN labels(n)[0] AS label, count(n) AS n ORDER BY label",
                uid=uid,
            ).data()
    finally:
        for graph in graphs:
            graph.close()

    assert counts == [
        {"label": "Document", "n": 4},
        {"label": "Domain", "n": 1},
        {"label": "Topic", "n": 5},
        {"label": "User", "n": 1},
    ]


@pytest.mark.integration
@needs_server
def test_neo4j_same_graph_object_works_across_server_restart():
    """Check one open graph, never reopened, reads and writes after a restart."""
    if not is_script_server("neo4j"):
        pytest.skip("the server was not started by scripts/servers/neo4j.sh")
    uid = f"t{uuid.uuid4().hex[:10]}"
    graph = Neo4jKnowledgeGraph(os.environ[URL_VAR])
    try:
        graph.upsert_document(GraphDocument(f"{uid}-a", f"{uid}-d", "A", ["x"], "ann"))

        restart_script_server("neo4j")
        graph.upsert_document(GraphDocument(f"{uid}-b", f"{uid}-d", "B", ["x"]))

        assert graph.get_document(f"{uid}-a") == GraphDocument(
            f"{uid}-a", f"{uid}-d", "A", ("x",), "ann", ""
        )
        assert graph.related_documents(f"{uid}-b") == [(f"{uid}-a", 1)]
    finally:
        graph.close()
