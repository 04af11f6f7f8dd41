"""LanceDB vector index specifics: the table's dimension and its lifecycle."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from heysh.errors import DataError, StoreUnavailableError
from heysh.stores.base import VectorRecord
from heysh.stores.vector_lance import LanceVectorIndex


def test_lance_index_dimension_is_set_by_the_first_write(tmp_path):
    """Check a new index has no dimension until a record fixes it."""
    index = LanceVectorIndex(tmp_path)
    empty = (index.dimension, index.count(), index.search("d", [1.0, 0.0, 0.0]))

    index.upsert(VectorRecord("a", "d", [1.0, 0.0, 0.0]))

    assert empty == (None, 0, [])
    assert index.dimension == 3
    assert LanceVectorIndex(tmp_path).dimension == 3


def test_lance_index_first_batch_takes_its_first_valid_records_dimension(tmp_path):
    """Check a first batch reports records whose length differs from the first one."""
    index = LanceVectorIndex(tmp_path)

    failures = index.upsert_batch(
        [
            VectorRecord("empty", "d", []),
            VectorRecord("a", "d", [1.0, 2.0]),
            VectorRecord("b", "d", [1.0, 2.0, 3.0]),
        ]
    )

    assert [(f.doc_id, f.reason) for f in failures] == [
        ("empty", "vector is empty"),
        ("b", "vector has 3 dimensions; this index holds 2"),
    ]
    assert index.count("d") == 1


def test_lance_index_query_of_wrong_dimension_raises(tmp_path):
    """Check a search vector of another length is a DataError, not an empty result."""
    index = LanceVectorIndex(tmp_path)
    index.upsert(VectorRecord("a", "d", [1.0, 0.0]))

    with pytest.raises(DataError, match="query vector: vector has 3 dimensions"):
        index.search("d", [1.0, 0.0, 0.0])
    with pytest.raises(DataError, match=r"limit \(0\) must be at least 1"):
        index.search("d", [1.0, 0.0], limit=0)


def test_lance_index_two_handles_on_one_folder_see_each_others_writes(tmp_path):
    """Check a second handle in the process reads what the first wrote, at once."""
    writer, reader = LanceVectorIndex(tmp_path), LanceVectorIndex(tmp_path)
    reader_count_before = reader.count()

    writer.upsert(VectorRecord("a", "d", [1.0, 0.0]))
    reader.upsert(VectorRecord("b", "d", [0.0, 1.0]))

    assert reader_count_before == 0
    assert (writer.count("d"), reader.count("d")) == (2, 2)


def test_lance_index_closed_handle_raises(tmp_path):
    """Check a closed index refuses calls with StoreUnavailableError."""
    index = LanceVectorIndex(tmp_path)
    index.close()

    with pytest.raises(StoreUnavailableError, match="was closed"):
        index.count()


def test_lance_index_two_handles_writing_together_leave_one_row_each(tmp_path):
    """Check handles on one folder share a write lock, so racing ids never double."""
    handles = [LanceVectorIndex(tmp_path), LanceVectorIndex(tmp_path)]
    start = threading.Barrier(20)

    def write(writer: int) -> None:
        start.wait(timeout=60)
        handles[writer % 2].upsert_batch(
            [
                VectorRecord(f"doc{i}", "d", [1.0, float(i), float(writer)])
                for i in range(5)
            ]
        )

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(write, range(20)))

    assert handles[0].count("d") == 5
