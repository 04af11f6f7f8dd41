"""The vector index contract, run against every adapter in ``vector_harness``."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from heysh.errors import DataError
from heysh.stores.base import BatchFailure, VectorIndex, VectorRecord

DIM = 8
# Swedish, emoji (with a ZWJ sequence), Arabic and Hebrew (right to left).
UNICODE = "Åsa öppnar dörren 🚀👩‍🔬 مرحبا بالعالم שלום עולם"
MEGABYTE_TEXT = UNICODE * (1_000_000 // len(UNICODE.encode()) + 1)


def unit(*weights: float) -> list[float]:
    """A DIM-long vector starting with ``weights``, the rest zero."""
    return [*weights, *([0.0] * (DIM - len(weights)))]


def test_vector_contract_adapter_satisfies_protocol(vector_harness):
    """Check that the adapter implements every VectorIndex method."""
    assert isinstance(vector_harness.store, VectorIndex)


def test_vector_upsert_same_id_twice_keeps_one_object(vector_harness, uid):
    """Check that a second upsert of one id replaces the first."""
    index = vector_harness.store
    domain = f"{uid}-d"
    index.upsert(VectorRecord(doc_id="a", domain_id=domain, vector=unit(1), text="one"))
    index.upsert(
        VectorRecord(
            doc_id="a",
            domain_id=domain,
            vector=unit(0, 1),
            text="two",
            metadata={"v": 2},
        )
    )

    stored = index.get(domain, "a")
    assert index.count(domain) == 1
    assert (stored.text, dict(stored.metadata)) == ("two", {"v": 2})
    assert stored.vector == pytest.approx(unit(0, 1), abs=1e-6)


def test_vector_concurrent_writers_leave_one_object_each(vector_harness, uid):
    """Check that 20 threads upserting the same 5 documents leave 5 objects."""
    index = vector_harness.store
    domain = f"{uid}-d"
    start = threading.Barrier(20)

    def write(writer: int) -> list[BatchFailure]:
        records = [
            VectorRecord(doc_id=f"doc{i}", domain_id=domain, vector=unit(1, i, writer))
            for i in range(5)
        ]
        start.wait(timeout=60)
        if writer % 2:
            return index.upsert_batch(records)
        for record in records:
            index.upsert(record)
        return []

    with ThreadPoolExecutor(20) as pool:
        failures = list(pool.map(write, range(20)))

    assert failures == [[]] * 20
    assert index.count(domain) == 5
    assert [index.get(domain, f"doc{i}").doc_id for i in range(5)] == [
        f"doc{i}" for i in range(5)
    ]


def test_vector_delete_removes_from_search(vector_harness, uid):
    """Check that a deleted document is gone from search, get and count."""
    index = vector_harness.store
    domain = f"{uid}-d"
    for doc_id, vector in (("keep", unit(1, 1)), ("drop", unit(1))):
        index.upsert(VectorRecord(doc_id=doc_id, domain_id=domain, vector=vector))

    index.delete(domain, "drop")
    index.delete(domain, "never-stored")

    assert [hit.doc_id for hit in index.search(domain, unit(1), limit=10)] == ["keep"]
    assert index.get(domain, "drop") is None
    assert index.count(domain) == 1


@pytest.mark.parametrize("other", ["x' OR '1'='1", "b", 'q"uote\\'])
def test_vector_search_never_returns_another_domains_document(
    vector_harness, uid, other
):
    """Check that a search sees only its domain, even for look-alike domain ids."""
    index = vector_harness.store
    mine, theirs = f"{uid}-a", f"{uid}-{other}"
    index.upsert_batch(
        [
            VectorRecord(doc_id=f"m{i}", domain_id=mine, vector=unit(1, i))
            for i in range(3)
        ]
        + [
            VectorRecord(doc_id=f"t{i}", domain_id=theirs, vector=unit(1))
            for i in range(3)
        ]
    )

    mine_hits = index.search(mine, unit(1), limit=50)
    theirs_hits = index.search(theirs, unit(1), limit=50)

    assert sorted(h.doc_id for h in mine_hits) == ["m0", "m1", "m2"]
    assert {h.domain_id for h in mine_hits} == {mine}
    assert sorted(h.doc_id for h in theirs_hits) == ["t0", "t1", "t2"]
    assert index.search(f"{uid}-empty", unit(1)) == []


def test_vector_search_orders_by_cosine_similarity(vector_harness, uid):
    """Check hits come closest first with cosine similarities worked out by hand."""
    index = vector_harness.store
    domain = f"{uid}-d"
    index.upsert_batch(
        [
            VectorRecord(doc_id="orthogonal", domain_id=domain, vector=unit(0, 1)),
            VectorRecord(doc_id="same", domain_id=domain, vector=unit(3)),
            VectorRecord(doc_id="diagonal", domain_id=domain, vector=unit(1, 1)),
        ]
    )

    hits = index.search(domain, unit(2), limit=2)

    assert [h.doc_id for h in hits] == ["same", "diagonal"]
    assert [h.similarity for h in hits] == pytest.approx(
        [1.0, math.sqrt(0.5)], abs=1e-5
    )


def test_vector_record_round_trips_unicode_large_text_and_empty_field(
    vector_harness, uid
):
    """Check Unicode, a 1 MB text and an empty metadata value come back unchanged."""
    index = vector_harness.store
    domain = f"{uid}-åäö"
    text = MEGABYTE_TEXT
    metadata = {"title": UNICODE, "note": "", "pages": 3, "approved": True, "w": 0.25}
    record = VectorRecord(
        doc_id="dok-åäö-🚀-שלום",
        domain_id=domain,
        vector=unit(0.5, -2),
        text=text,
        metadata=metadata,
    )

    index.upsert(record)
    stored = index.get(domain, record.doc_id)

    assert (stored.doc_id, stored.domain_id, stored.text) == (
        record.doc_id,
        domain,
        text,
    )
    assert dict(stored.metadata) == metadata
    assert [type(v) for v in stored.metadata.values()] == [str, str, int, bool, float]
    assert stored.vector == pytest.approx(unit(0.5, -2), abs=1e-6)
    assert index.search(domain, unit(0.5, -2))[0].metadata == metadata


INVALID = {
    "wrong dimension": (VectorRecord("bad", "D", [1.0, 2.0]), "dimensions"),
    "nan": (VectorRecord("bad", "D", unit(1, math.nan)), "finite"),
    "infinity": (VectorRecord("bad", "D", unit(math.inf)), "finite"),
    "all zeros": (VectorRecord("bad", "D", unit()), "zeros"),
    "empty doc id": (VectorRecord("", "D", unit(1)), "doc_id"),
    "nested metadata": (VectorRecord("bad", "D", unit(1), metadata={"a": [1]}), "list"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_vector_batch_with_one_invalid_record_reports_exactly_it(
    vector_harness, uid, case
):
    """Check the invalid record is reported, not stored, and the others are stored."""
    index = vector_harness.store
    domain = f"{uid}-d"
    index.upsert(VectorRecord(doc_id="seed", domain_id=domain, vector=unit(1)))
    template, reason_word = INVALID[case]
    bad = VectorRecord(
        doc_id=template.doc_id,
        domain_id=domain,
        vector=template.vector,
        metadata=template.metadata,
    )
    good = [
        VectorRecord(doc_id=f"g{i}", domain_id=domain, vector=unit(1, i))
        for i in range(4)
    ]

    failures = index.upsert_batch([good[0], good[1], bad, good[2], good[3]])

    assert [f.doc_id for f in failures] == [bad.doc_id]
    assert reason_word in failures[0].reason
    assert index.count(domain) == 5
    assert sorted(h.doc_id for h in index.search(domain, unit(1), limit=10)) == [
        "g0",
        "g1",
        "g2",
        "g3",
        "seed",
    ]


def test_vector_upsert_invalid_record_raises_data_error(vector_harness, uid):
    """Check a single invalid upsert raises DataError naming the problem."""
    index = vector_harness.store
    domain = f"{uid}-d"
    index.upsert(VectorRecord(doc_id="seed", domain_id=domain, vector=unit(1)))

    with pytest.raises(DataError, match=r"vector has 3 dimensions; this index holds 8"):
        index.upsert(VectorRecord(doc_id="bad", domain_id=domain, vector=[1.0, 0, 0]))
    assert index.get(domain, "bad") is None


def test_vector_restart_loses_nothing_and_accepts_writes(vector_harness, uid):
    """Check documents written before a restart remain and new writes succeed."""
    domain = f"{uid}-d"
    vector_harness.store.upsert_batch(
        [
            VectorRecord(
                doc_id=f"d{i}", domain_id=domain, vector=unit(1, i), text=f"t{i}"
            )
            for i in range(10)
        ]
    )

    before_restart = vector_harness.store
    index = vector_harness.restart_server()
    index.upsert(VectorRecord(doc_id="after", domain_id=domain, vector=unit(0, 1)))

    assert index is not before_restart
    assert index.count(domain) == 11
    assert [index.get(domain, f"d{i}").text for i in range(10)] == [
        f"t{i}" for i in range(10)
    ]
    assert index.search(domain, unit(0, 1), limit=1)[0].doc_id == "after"
