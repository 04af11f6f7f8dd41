"""The archive and blob store contracts, run against every adapter of each."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from heysh.errors import DataError
from heysh.stores.base import Archive, BlobStore

UNICODE = "Åsa öppnar dörren 🚀👩‍🔬 مرحبا بالعالم שלום עולם"
MEGABYTE = (UNICODE * (1_000_000 // len(UNICODE.encode()) + 1)).encode()
ALL_BYTES = bytes(range(256))


def race(function, count: int = 20) -> None:
    """Call ``function(i)`` for i in range(count), each from its own thread at once."""
    start = threading.Barrier(count)

    def call(i: int) -> None:
        start.wait(timeout=60)
        function(i)

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(call, range(count)))


# Archive.


def test_archive_contract_adapter_satisfies_protocol(archive_harness):
    """Check that the adapter implements every Archive method."""
    assert isinstance(archive_harness.store, Archive)


def test_archive_same_id_twice_keeps_one_object(archive_harness, uid):
    """Check archiving a document again replaces its body and metadata."""
    archive = archive_harness.store
    archive.archive(f"{uid}-d", "doc", b"first", {"v": 1})
    archive.archive(f"{uid}-d", "doc", b"second", {"v": 2})

    assert archive.list_ids(f"{uid}-d") == ["doc"]
    assert archive.retrieve(f"{uid}-d", "doc") == (b"second", {"v": 2})


def test_archive_concurrent_writers_leave_one_consistent_object(archive_harness, uid):
    """Check 20 racing writers leave one object whose body matches its metadata."""
    archive = archive_harness.store

    race(
        lambda i: archive.archive(
            f"{uid}-d", "doc", f"body {i}".encode() * 1000, {"writer": i}
        )
    )
    body, metadata = archive.retrieve(f"{uid}-d", "doc")

    assert archive.list_ids(f"{uid}-d") == ["doc"]
    assert body == f"body {metadata['writer']}".encode() * 1000


def test_archive_round_trips_unicode_large_body_and_empty_field(archive_harness, uid):
    """Check Unicode ids and metadata, 1 MB and binary bodies, empty values survive."""
    archive = archive_harness.store
    domain = f"{uid}-åäö/🚀"
    metadata = {
        "title": UNICODE,
        "note": "",
        "score": 3.25,
        "flags": ["a", "b"],
        "ok": True,
        "none": None,
        "nested": {"שלום": 1},
    }

    archive.archive(domain, "dok ..åäö/🚀", MEGABYTE, metadata)
    archive.archive(domain, "binary", ALL_BYTES, {})

    assert archive.retrieve(domain, "dok ..åäö/🚀") == (MEGABYTE, metadata)
    assert archive.retrieve(domain, "binary") == (ALL_BYTES, {})
    assert archive.list_ids(domain) == ["binary", "dok ..åäö/🚀"]


def test_archive_domains_are_isolated(archive_harness, uid):
    """Check a domain lists and retrieves only its own documents."""
    archive = archive_harness.store
    archive.archive(f"{uid}-a", "x", b"a", {})
    archive.archive(f"{uid}-b", "y", b"b", {})

    assert archive.list_ids(f"{uid}-a") == ["x"]
    assert archive.retrieve(f"{uid}-a", "y") is None
    assert archive.list_ids(f"{uid}-never") == []


def test_archive_metadata_that_is_not_json_raises(archive_harness, uid):
    """Check metadata that cannot round-trip is refused instead of altered."""
    with pytest.raises(DataError, match="metadata cannot be stored as JSON"):
        archive_harness.store.archive(f"{uid}-d", "doc", b"x", {"when": object()})
    assert archive_harness.store.retrieve(f"{uid}-d", "doc") is None


def test_archive_restart_loses_nothing_and_accepts_writes(archive_harness, uid):
    """Check archived documents survive a restart and new ones can be archived."""
    for i in range(3):
        archive_harness.store.archive(f"{uid}-d", f"doc{i}", f"b{i}".encode(), {"i": i})

    before_restart = archive_harness.store
    archive = archive_harness.restart_server()
    archive.archive(f"{uid}-d", "after", b"later", {})

    assert archive is not before_restart
    assert archive.list_ids(f"{uid}-d") == ["after", "doc0", "doc1", "doc2"]
    assert archive.retrieve(f"{uid}-d", "doc1") == (b"b1", {"i": 1})


# Blob store.


def test_blob_contract_adapter_satisfies_protocol(blob_harness):
    """Check that the adapter implements every BlobStore method."""
    assert isinstance(blob_harness.store, BlobStore)


def test_blob_put_twice_keeps_the_last_body(blob_harness, uid):
    """Check a second put under one key replaces the body."""
    blobs = blob_harness.store
    blobs.put(f"{uid}/doc/original", b"first")
    blobs.put(f"{uid}/doc/original", b"second")

    assert blobs.get(f"{uid}/doc/original") == b"second"
    assert (blobs.exists(f"{uid}/doc/original"), blobs.exists(f"{uid}/doc")) == (
        True,
        False,
    )


def test_blob_concurrent_writers_leave_one_whole_body(blob_harness, uid):
    """Check 20 racing writers of one key leave exactly one writer's whole body."""
    blobs = blob_harness.store
    bodies = [bytes([i]) * 200_000 for i in range(20)]

    race(lambda i: blobs.put(f"{uid}/doc", bodies[i]))

    assert blobs.get(f"{uid}/doc") in bodies


def test_blob_round_trips_unicode_key_large_and_binary_bodies(blob_harness, uid):
    """Check Unicode keys, a 1 MB body, all byte values and an empty body survive."""
    blobs = blob_harness.store
    cases = {
        f"{uid}/åäö 🚀/مرحبا": MEGABYTE,
        f"{uid}/bin": ALL_BYTES,
        f"{uid}/empty": b"",
    }
    for key, body in cases.items():
        blobs.put(key, body)

    assert {key: blobs.get(key) for key in cases} == cases


def test_blob_get_missing_key_raises_data_error(blob_harness, uid):
    """Check reading a key that was never written is a DataError naming it."""
    with pytest.raises(DataError, match=f"no blob is stored under key '{uid}/ghost'"):
        blob_harness.store.get(f"{uid}/ghost")


def test_blob_restart_loses_nothing_and_accepts_writes(blob_harness, uid):
    """Check bodies survive a restart and new ones can be stored."""
    blob_harness.store.put(f"{uid}/before", b"kept")

    before_restart = blob_harness.store
    blobs = blob_harness.restart_server()
    blobs.put(f"{uid}/after", b"new")

    assert blobs is not before_restart
    assert (blobs.get(f"{uid}/before"), blobs.get(f"{uid}/after")) == (b"kept", b"new")
