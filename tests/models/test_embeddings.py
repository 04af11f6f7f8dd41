"""Tests of the sentence encoder: each text once, the cache, long texts, empties."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heysh.documents import split_into_windows
from heysh.errors import ModelError
from heysh.models.embedding_cache import EmbeddingCache
from heysh.models.embeddings import DEFAULT_MODEL_ID, SentenceEncoder, count_windows

SPORT = "The striker scored twice as the home side won the league match in extra time."
COOKING = (
    "Whisk the eggs with sugar, fold in the flour and bake the cake for forty minutes."
)


class CountingModel:
    """Counts the windows handed to the real sentence-transformers ``encode``."""

    def __init__(self, real_encode: Callable[..., Any]) -> None:
        self.real_encode = real_encode
        self.windows: list[str] = []

    def __call__(self, sentences: list[str], **kwargs: Any) -> Any:
        self.windows.extend(sentences)
        return self.real_encode(sentences, **kwargs)


@pytest.fixture
def counting(
    encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> CountingModel:
    """Wrap the real model's encode (shared by every encoder in the process)."""
    model = encoder.model
    wrapper = CountingModel(model.encode)
    monkeypatch.setattr(model, "encode", wrapper)
    return wrapper


def test_count_windows_matches_split_into_windows() -> None:
    """The window count formula agrees with the splitter for many lengths."""
    for n_words in range(0, 700, 7):
        text = " ".join(["w"] * n_words)

        expected = len(split_into_windows(text, max_words=160, overlap_words=32))

        assert count_windows(n_words, max_words=160, overlap_words=32) == expected


def test_encoder_constructor_loads_nothing() -> None:
    """Building an encoder neither loads the model nor resolves the device."""
    encoder = SentenceEncoder()

    assert not encoder.is_loaded
    assert encoder._device is None
    assert encoder.model_id == DEFAULT_MODEL_ID


def test_encoder_rejects_overlap_not_below_window() -> None:
    """An overlap as large as the window is refused with both numbers."""
    with pytest.raises(ModelError, match=r"overlap_words \(160\).*max_words \(160\)"):
        SentenceEncoder(max_words=160, overlap_words=160)


@pytest.mark.model
def test_encode_returns_unit_rows_and_zero_for_empty(encoder: SentenceEncoder) -> None:
    """Rows are float32 of unit norm; an empty or blank text gets the zero vector."""
    vectors = encoder.encode([SPORT, "", "  \n ", COOKING])

    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1, 0, 0, 1], atol=1e-5)


@pytest.mark.model
def test_encode_embeds_each_distinct_text_once(counting: CountingModel) -> None:
    """Duplicates, whitespace variants and repeated calls reach the model once."""
    encoder = SentenceEncoder(device="cpu")
    texts = [SPORT, COOKING, SPORT, f"  {SPORT}\n", "", COOKING]

    first = encoder.encode(texts)
    again = encoder.encode([COOKING, SPORT])

    assert sorted(counting.windows) == sorted([SPORT, COOKING])
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(first[0], first[3])
    np.testing.assert_array_equal(again, first[[1, 0]])
    assert encoder.counters.computed_texts == 2
    assert encoder.counters.memory_hits == 2


@pytest.mark.model
def test_encode_second_encoder_reads_the_disk_cache(
    counting: CountingModel, tmp_path: Path
) -> None:
    """A second encoder on the same cache file embeds nothing again."""
    path = tmp_path / "emb.sqlite"
    texts = [f"{SPORT} Round {i}." for i in range(5)]
    first = SentenceEncoder(device="cpu", cache=EmbeddingCache(path)).encode(texts)
    windows_after_first = len(counting.windows)
    second_encoder = SentenceEncoder(device="cpu", cache=EmbeddingCache(path))

    second = second_encoder.encode(texts)

    assert windows_after_first == 5
    assert len(counting.windows) == 5
    assert second_encoder.counters.cache_hits == 5
    np.testing.assert_array_equal(second, first)


@pytest.mark.model
def test_encode_long_text_uses_every_window(encoder: SentenceEncoder) -> None:
    """A long text's embedding differs from its head's and reflects its tail."""
    head = " ".join([SPORT] * 12)  # 12 x 15 = 180 words
    tail = " ".join([COOKING] * 12)
    head_words = " ".join(f"{head} {tail}".split()[:160])

    full, first_window, cooking = encoder.encode(
        [f"{head} {tail}", head_words, COOKING]
    )

    assert float(full @ first_window) < 0.95
    assert float(full @ cooking) > float(first_window @ cooking) + 0.1


@pytest.mark.model
def test_encoder_counts_texts_needing_several_windows() -> None:
    """windows_used counts distinct texts, those past one window, and windows."""
    encoder = SentenceEncoder(device="cpu", max_words=20, overlap_words=5)
    long_text = " ".join(["word"] * 50)  # windows start at 0, 15, 30: three

    encoder.encode([long_text, SPORT, long_text, ""])

    assert encoder.windows_used == {"texts": 2, "multi_window_texts": 1, "windows": 4}
    assert encoder.counters.empty_texts == 1


def test_encode_rejects_non_text() -> None:
    """A None among the texts is refused, naming its position and type."""
    with pytest.raises(ModelError, match="text 1 is NoneType, not str"):
        SentenceEncoder().encode(["fine", None])  # type: ignore[list-item]  # on purpose


@pytest.mark.model
def test_encoder_full_memory_without_cache_warns_and_recomputes(
    counting: CountingModel, caplog: pytest.LogCaptureFixture
) -> None:
    """With room for one text and no disk cache, an evicted text is embedded again."""
    encoder = SentenceEncoder(device="cpu", memory_items=1)

    with caplog.at_level(logging.WARNING, logger="heysh.models.embeddings"):
        encoder.encode([SPORT, COOKING])
        encoder.encode([SPORT])

    assert counting.windows.count(SPORT) == 2
    assert [r.getMessage() for r in caplog.records] == ["embedding_memory_full"]
