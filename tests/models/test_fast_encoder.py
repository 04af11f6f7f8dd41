"""The ONNX Runtime encoder: faithful to MiniLM, and a drop-in SentenceEncoder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from heysh.errors import ModelError
from heysh.models.embedding_cache import EmbeddingCache
from heysh.models.embeddings import DEFAULT_MODEL_ID, SentenceEncoder, default_model_path
from heysh.models.fast_encoder import FastSentenceEncoder, export_onnx
from tests.models.conftest import DATASETS


def _read(collection: str, n: int, step: int) -> list[str]:
    path = DATASETS / collection / "documents.jsonl"
    if not path.exists():
        pytest.skip(f"the shared dataset {collection} is not at {path}")
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle][::step][:n]
    return [f"{r['title'] or ''}\n{r['text']}".strip() for r in rows]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export cache for this module (the export runs once, here)."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def fast(onnx_dir: Path) -> FastSentenceEncoder:
    """The int8 ONNX encoder on one thread without spinning (a shared CPU)."""
    return FastSentenceEncoder(backend="onnx-int8", onnx_dir=onnx_dir, threads=1,
                               allow_spinning=False, memory_items=0)


@pytest.fixture(scope="module")
def real_documents() -> list[str]:
    """Real documents: long BBC articles, AG News items, Swedish SIB-200 sentences."""
    return (_read("bbc-news", 12, 150) + _read("ag-news", 12, 500)
            + _read("sib200-swedish", 12, 70))


def test_fast_encoder_within_cosine_099_of_fp32_on_real_documents(
    fast: FastSentenceEncoder, encoder: SentenceEncoder, real_documents: list[str]
) -> None:
    """Every document's int8 embedding is within 0.99 cosine of the fp32 one."""
    expected = encoder.encode(real_documents)

    actual = fast.encode(real_documents)

    cosines = (expected * actual).sum(axis=1)
    assert fast.backend == "onnx-int8"
    assert cosines.min() >= 0.99, sorted(cosines)[:3]
    assert fast.export_check_["min_cosine"] >= 0.99
    assert fast.counters.multi_window_texts >= 10  # BBC articles span windows


def test_fast_encoder_keeps_the_encode_contract(fast: FastSentenceEncoder) -> None:
    """Shape, dtype, unit norm, zero vector for empty text, duplicates once."""
    before = fast.counters.computed_texts

    out = fast.encode(["Oil prices rose.", "", "Oil  prices rose.", "Gold fell."])

    assert out.shape == (4, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out[[0, 2, 3]], axis=1), 1.0, atol=1e-5)
    assert not out[1].any()
    np.testing.assert_array_equal(out[0], out[2])
    assert fast.counters.computed_texts - before == 2


def test_fast_encoder_disk_cache_keyed_by_backend(
    fast: FastSentenceEncoder, onnx_dir: Path, tmp_path: Path
) -> None:
    """A second encoder reads vectors from the disk cache under its own model id."""
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    first = FastSentenceEncoder(backend="onnx-int8", onnx_dir=onnx_dir, threads=1,
                                cache=cache)
    vectors = first.encode(["Swifts nest under roof tiles."])
    second = FastSentenceEncoder(backend="onnx-int8", onnx_dir=onnx_dir, threads=1,
                                 cache=cache)

    again = second.encode(["Swifts nest under roof tiles."])

    np.testing.assert_array_equal(again, vectors)
    assert second.counters.cache_hits == 1 and second.counters.computed_texts == 0
    assert fast.model_id == f"{DEFAULT_MODEL_ID}+onnx-int8"


def test_export_onnx_reuses_cached_files(fast: FastSentenceEncoder, onnx_dir: Path) -> None:
    """A second export of the same model returns the cached file untouched."""
    _ = fast.model
    path, check = export_onnx(default_model_path(), onnx_dir, variant="int8")
    modified = path.stat().st_mtime_ns

    again, check_again = export_onnx(default_model_path(), onnx_dir, variant="int8")

    assert (again, again.stat().st_mtime_ns) == (path, modified)
    assert check_again == check and check["variant"] == "int8"


def test_fast_encoder_below_floor_falls_back_to_fp32(
    fast: FastSentenceEncoder, onnx_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An int8 export under the cosine floor is refused for the fp32 export."""
    _ = fast.model
    strict = FastSentenceEncoder(backend="onnx-int8", onnx_dir=onnx_dir, threads=1,
                                 min_cosine=0.9999)

    with caplog.at_level(logging.WARNING, logger="heysh.models.fast_encoder"):
        out = strict.encode(["Oil prices rose."])

    assert strict.backend == "onnx-fp32"
    assert strict.model_id.endswith("+onnx-fp32")
    assert "onnx_export_below_cosine_floor" in caplog.messages
    assert out.shape == (1, 384)


def test_fast_encoder_unknown_backend_refused() -> None:
    """A misspelt backend is an error naming the choices."""
    with pytest.raises(ModelError, match="unknown backend 'onnx-int4'"):
        FastSentenceEncoder(backend="onnx-int4")  # type: ignore[arg-type]
