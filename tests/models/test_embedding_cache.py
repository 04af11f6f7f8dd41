"""Tests of the SQLite embedding cache."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from heysh.errors import ModelError
from heysh.models.embedding_cache import EmbeddingCache, embedding_key
from tests.sqlite_writer import rollback_journal_writer


def _vector(seed: int, dim: int = 384) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def _write_keys(path: str, start: int, stop: int) -> None:
    cache = EmbeddingCache(Path(path))
    for first in range(start, stop, 10):
        batch = range(first, min(first + 10, stop))
        cache.put_many({f"k{i}": _vector(i, 8) for i in batch})


def test_embedding_cache_constructor_touches_no_file(tmp_path: Path) -> None:
    """Creating a cache creates neither its folder nor its file."""
    path = tmp_path / "sub" / "emb.sqlite"

    EmbeddingCache(path)

    assert not path.parent.exists()


def test_embedding_cache_round_trip_returns_identical_float32(tmp_path: Path) -> None:
    """A stored vector comes back bit for bit, as float32."""
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    vectors = {"a": _vector(1), "b": _vector(2).astype(np.float64)}

    cache.put_many(vectors)
    found = cache.get_many(["a", "b", "a"])

    assert set(found) == {"a", "b"}
    assert found["a"].dtype == np.float32
    np.testing.assert_array_equal(found["a"], vectors["a"])
    np.testing.assert_array_equal(found["b"], vectors["b"].astype(np.float32))


def test_embedding_cache_get_many_leaves_out_missing_keys(tmp_path: Path) -> None:
    """Only keys that were stored are returned."""
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    cache.put_many([("present", _vector(3))])

    found = cache.get_many(["absent", "present"])

    assert list(found) == ["present"]


def test_embedding_cache_put_many_keeps_the_first_vector(tmp_path: Path) -> None:
    """Writing a key twice keeps the first vector (content-addressed keys)."""
    cache = EmbeddingCache(tmp_path / "emb.sqlite")

    cache.put_many({"k": _vector(4)})
    cache.put_many({"k": _vector(5)})

    np.testing.assert_array_equal(cache.get_many(["k"])["k"], _vector(4))
    assert len(cache) == 1


def test_embedding_cache_is_shared_between_instances(tmp_path: Path) -> None:
    """A second cache object on the same file sees the first one's vectors."""
    EmbeddingCache(tmp_path / "emb.sqlite").put_many({"k": _vector(6)})

    found = EmbeddingCache(tmp_path / "emb.sqlite").get_many(["k"])

    np.testing.assert_array_equal(found["k"], _vector(6))


def test_embedding_cache_concurrent_processes_lose_no_vector(tmp_path: Path) -> None:
    """Three processes writing overlapping keys at once leave every key stored."""
    path = tmp_path / "emb.sqlite"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_write_keys, args=(str(path), start, start + 300))
        for start in (0, 150, 300)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    cache = EmbeddingCache(path)
    found = cache.get_many([f"k{i}" for i in range(600)])

    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert len(found) == 600
    np.testing.assert_array_equal(found["k299"], _vector(299, 8))


def test_embedding_cache_opens_while_another_program_writes_the_file(
    tmp_path: Path,
) -> None:
    """Opening waits for a rollback-journal writer instead of failing at once."""
    path = tmp_path / "emb.sqlite"
    with rollback_journal_writer(path, release_after_s=0.5):
        cache = EmbeddingCache(path)
        cache.put_many({"a": _vector(1)})

    np.testing.assert_array_equal(cache.get_many(["a"])["a"], _vector(1))


def test_embedding_cache_rejects_a_matrix(tmp_path: Path) -> None:
    """Only 1-D vectors can be stored."""
    cache = EmbeddingCache(tmp_path / "emb.sqlite")

    with pytest.raises(ModelError, match=r"shape \(2, 3\); the cache stores 1-D"):
        cache.put_many({"k": np.zeros((2, 3))})


def test_embedding_cache_unwritable_path_raises_model_error(tmp_path: Path) -> None:
    """A cache under a regular file fails with a ModelError naming the path."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = EmbeddingCache(blocker / "emb.sqlite")

    with pytest.raises(ModelError, match=r"cannot open the embedding cache .*file"):
        cache.get_many(["k"])


def test_embedding_key_depends_on_model_windows_and_text() -> None:
    """Changing any part of the key's input changes the key."""
    base = embedding_key("m", "text", max_words=160, overlap_words=32)
    variants = {
        embedding_key("m2", "text", max_words=160, overlap_words=32),
        embedding_key("m", "text2", max_words=160, overlap_words=32),
        embedding_key("m", "text", max_words=128, overlap_words=32),
        embedding_key("m", "text", max_words=160, overlap_words=16),
        embedding_key("mt", "ext", max_words=160, overlap_words=32),
    }

    assert base == embedding_key("m", "text", max_words=160, overlap_words=32)
    assert base not in variants
    assert len(variants) == 5
