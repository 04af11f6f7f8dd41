"""What the Weaviate adapter adds to the vector contract: URLs, tenants, restarts.

The shared behaviour is pinned by ``test_vector_contract.py``; these tests pin
the adapter's own choices. Tests marked ``integration`` need the server named
by ``HEYSH_TEST_WEAVIATE_URL`` (``scripts/servers/weaviate.sh start``).
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterator

import pytest

from heysh.errors import ConfigError, DataError, StoreUnavailableError
from heysh.stores.base import BatchFailure, VectorRecord
from heysh.stores.factory import open_vector_index
from heysh.stores.vector_weaviate import (
    WeaviateAddress,
    WeaviateVectorIndex,
    object_uuid,
    tenant_name,
)
from tests.stores.servers import is_script_server, restart_script_server

URL_VAR = "HEYSH_TEST_WEAVIATE_URL"
needs_server = pytest.mark.skipif(
    not os.environ.get(URL_VAR),
    reason=f"{URL_VAR} is not set; CI sets it to a running Weaviate server",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_weaviate_address_from_url_reads_every_part():
    """Check a full URL gives hosts, ports, TLS, collection and API key."""
    url = (
        "weaviate://:k%40y@db.example:443?grpc_port=50052&secure=true&collection=Docs2"
    )

    address = WeaviateAddress.from_url(url)

    assert address == WeaviateAddress(
        http_host="db.example",
        http_port=443,
        grpc_host="db.example",
        grpc_port=50052,
        secure=True,
        collection="Docs2",
        api_key="k@y",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080", "expected weaviate://HOST:PORT"),
        (
            "weaviate://127.0.0.1:8080?grpc=1",
            r"unknown Weaviate URL parameters \['grpc'\]",
        ),
        (
            "weaviate://127.0.0.1:8080?collection=docs",
            "'docs' is not a Weaviate collection",
        ),
        (
            "weaviate://127.0.0.1:8080?grpc_port=x1",
            r"grpc_port \('x1'\) must be a port",
        ),
        ("weaviate://127.0.0.1:99999", "invalid Weaviate URL"),
    ],
)
def test_weaviate_address_from_url_rejects_invalid_url(url, message):
    """Check a malformed URL is a ConfigError saying what is wrong."""
    with pytest.raises(ConfigError, match=message):
        WeaviateAddress.from_url(url)


def test_tenant_name_is_valid_and_one_to_one_for_look_alike_domains():
    """Check distinct domain ids, even ones mimicking the encoding, get distinct
    valid tenant names."""
    domains = [
        "news",
        "n-news",
        "h-news",
        "News",
        "x' OR '1'='1",
        'q"uote\\',
        "åäö",
        "דומיין",
        "a" * 62,
        "a" * 63,
        "a b",
        "",
    ]

    names = [tenant_name(domain) for domain in domains]

    assert len(set(names)) == len(domains)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) for name in names)
    assert names[:3] == ["n-news", "n-n-news", "n-h-news"]


def test_object_uuid_depends_on_domain_and_document_only():
    """Check the UUID is stable for one (domain, doc) and differs otherwise."""
    first = object_uuid("d", "doc")

    assert object_uuid("d", "doc") == first
    assert first.version == 5
    assert len({first, object_uuid("d2", "doc"), object_uuid("d", "doc2")}) == 3


def test_open_vector_index_unreachable_server_names_the_variable():
    """Check an unreachable Weaviate stops start-up with the variable named."""
    url = f"weaviate://127.0.0.1:{free_port()}?grpc_port={free_port()}"

    with pytest.raises(
        StoreUnavailableError,
        match=rf"HEYSH_VECTOR_URL='{re.escape(url)}': cannot reach Weaviate",
    ):
        open_vector_index(url)


# Against the real server.


@pytest.fixture
def collection_url() -> Iterator[str]:
    """A URL naming a fresh collection on the test server, deleted afterwards."""
    import weaviate

    base = os.environ[URL_VAR]
    name = f"HeyshTest{uuid.uuid4().hex[:10]}"
    yield f"{base}{'&' if '?' in base else '?'}collection={name}"
    address = WeaviateAddress.from_url(base)
    with weaviate.connect_to_custom(
        http_host=address.http_host,
        http_port=address.http_port,
        http_secure=address.secure,
        grpc_host=address.grpc_host,
        grpc_port=address.grpc_port,
        grpc_secure=address.secure,
    ) as client:
        client.collections.delete(name)


@pytest.mark.integration
@needs_server
def test_weaviate_index_keeps_each_domain_in_its_own_tenant(collection_url):
    """Check two domains' documents live in two tenants named by tenant_name."""
    index = WeaviateVectorIndex(collection_url)
    try:
        index.upsert(VectorRecord("a", "news", [1.0, 0.0]))
        index.upsert(VectorRecord("a", "x' OR '1'='1", [0.0, 1.0]))

        tenants = sorted(index._collection.tenants.get())
        stored = index._collection.with_tenant(
            tenant_name("news")
        ).query.fetch_objects()
    finally:
        index.close()

    assert tenants == sorted([tenant_name("news"), tenant_name("x' OR '1'='1")])
    assert [(o.uuid, o.properties["domain_id"]) for o in stored.objects] == [
        (object_uuid("news", "a"), "news")
    ]


@pytest.mark.integration
@needs_server
def test_weaviate_index_dimension_is_shared_by_every_client(collection_url):
    """Check a second client learns the first client's vector length."""
    first = WeaviateVectorIndex(collection_url)
    first.upsert(VectorRecord("a", "d", [1.0, 0.0, 0.0, 0.0]))
    second = WeaviateVectorIndex(collection_url)
    try:
        with pytest.raises(
            DataError, match="vector has 2 dimensions; this index holds 4"
        ):
            second.upsert(VectorRecord("b", "d", [1.0, 0.0]))

        assert second.dimension == 4
        assert second.count("d") == 1
    finally:
        first.close()
        second.close()


@pytest.mark.integration
@needs_server
def test_weaviate_batch_reports_record_the_client_cannot_send(collection_url):
    """Check a record that fails inside the client (a lone surrogate in its text)
    is reported alone while the rest of its request is stored."""
    index = WeaviateVectorIndex(collection_url)
    try:
        failures = index.upsert_batch(
            [
                VectorRecord("g0", "d", [1.0, 0.0]),
                VectorRecord("bad", "d", [0.0, 1.0], text="a\ud800b"),
                VectorRecord("g1", "d", [1.0, 1.0]),
            ]
        )

        assert [f.doc_id for f in failures] == ["bad"]
        assert "surrogates not allowed" in failures[0].reason
        assert sorted(h.doc_id for h in index.search("d", [1.0, 0.0])) == ["g0", "g1"]
    finally:
        index.close()


@pytest.mark.integration
@needs_server
def test_weaviate_index_refuses_collection_heysh_did_not_create(collection_url):
    """Check a collection without multi-tenancy is a ConfigError, not a mix-up."""
    index = WeaviateVectorIndex(collection_url)
    name = WeaviateAddress.from_url(collection_url).collection
    index._client.collections.create(name)
    index.close()

    with pytest.raises(ConfigError, match=f"collection '{name}' exists without multi"):
        WeaviateVectorIndex(collection_url)


@pytest.mark.integration
@needs_server
def test_weaviate_same_index_object_works_across_server_restart(collection_url):
    """Check one open index, never reopened, reads and writes after a restart."""
    if not is_script_server("weaviate"):
        pytest.skip("the server was not started by scripts/servers/weaviate.sh")
    index = WeaviateVectorIndex(collection_url)
    try:
        assert (
            index.upsert_batch(
                [
                    VectorRecord(f"d{i}", "d", [1.0, float(i)], text=f"t{i}")
                    for i in range(5)
                ]
            )
            == []
        )

        restart_script_server("weaviate")
        failures: list[BatchFailure] = index.upsert_batch(
            [VectorRecord("after", "d", [0.0, 1.0])]
        )

        assert failures == []
        assert index.count("d") == 6
        assert [index.get("d", f"d{i}").text for i in range(5)] == [
            f"t{i}" for i in range(5)
        ]
    finally:
        index.close()
