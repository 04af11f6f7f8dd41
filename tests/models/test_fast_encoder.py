"""The fast encoders: faithful to fp32 MiniLM, and drop-in SentenceEncoders."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from heysh.errors import ModelError
from heysh.models._exported_encoders import calibration_windows, export_model
from heysh.models.embedding_cache import EmbeddingCache
from heysh.models.embeddings import (
    DEFAULT_MODEL_ID,
    SentenceEncoder,
    default_model_path,
)
from heysh.models.fast_encoder import FastSentenceEncoder
from tests.models.conftest import DATASETS


def _read(collection: str, n: int, step: int, offset: int = 0) -> list[str]:
    path = DATASETS / collection / "documents.jsonl"
    if not path.exists():
        pytest.skip(f"the shared dataset {collection} is not at {path}")
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle][offset::step][:n]
    return [f"{r['title'] or ''}\n{r['text']}".strip() for r in rows]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export cache for this module (each export is built once, here)."""
    return tmp_path_factory.mktemp("encoders")


@pytest.fixture(scope="module")
def calibration() -> list[str]:
    """Calibration texts from collections the checked documents are not from."""
    return (
        _read("reuters21578", 60, 50) + _read("cisi", 40, 30) + _read("swefaq", 40, 5)
    )


@pytest.fixture(scope="module")
def real_documents() -> list[str]:
    """Long BBC articles, short AG News items and Swedish SIB-200 sentences."""
    return (
        _read("bbc-news", 12, 150)
        + _read("ag-news", 12, 500, offset=7)
        + _read("sib200-swedish", 12, 70)
    )


@pytest.fixture(scope="module")
def expected(encoder: SentenceEncoder, real_documents: list[str]) -> np.ndarray:
    """fp32 sentence-transformers embeddings of the real documents."""
    return encoder.encode(real_documents)


@pytest.mark.parametrize("backend", ["openvino-int8", "onnx-int8", "openvino-bf16"])
def test_fast_encoder_within_cosine_099_of_fp32_on_real_documents(
    backend: str,
    export_dir: Path,
    calibration: list[str],
    real_documents: list[str],
    expected: np.ndarray,
) -> None:
    """Every real document's fast embedding is within 0.99 cosine of fp32."""
    fast = FastSentenceEncoder(
        backend=backend,
        export_dir=export_dir,
        threads=1,
        allow_spinning=False,
        calibration_texts=calibration,
    )

    actual = fast.encode(real_documents)

    cosines = (expected * actual).sum(axis=1)
    assert fast.backend == backend  # no fallback was needed
    assert cosines.min() >= 0.99, sorted(cosines)[:3]
    assert fast.export_check_["min_cosine"] >= 0.99
    assert fast.counters.multi_window_texts >= 10  # BBC articles span windows


def test_fast_encoder_keeps_the_encode_contract(export_dir: Path) -> None:
    """Shape, dtype, unit norm, zero vector for empty text, duplicates once."""
    fast = FastSentenceEncoder(backend="onnx-int8", export_dir=export_dir, threads=1)

    out = fast.encode(["Oil prices rose.", "", "Oil  prices rose.", "Gold fell."])

    assert out.shape == (4, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out[[0, 2, 3]], axis=1), 1.0, atol=1e-5)
    assert not out[1].any()
    np.testing.assert_array_equal(out[0], out[2])
    assert fast.counters.computed_texts == 2


def test_fast_encoder_disk_cache_keyed_by_backend(
    export_dir: Path, tmp_path: Path
) -> None:
    """A second encoder reads vectors from the disk cache under its own model id."""
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    first = FastSentenceEncoder(backend="onnx-int8", export_dir=export_dir, cache=cache)
    vectors = first.encode(["Swifts nest under roof tiles."])
    second = FastSentenceEncoder(
        backend="onnx-int8", export_dir=export_dir, cache=cache
    )

    again = second.encode(["Swifts nest under roof tiles."])

    np.testing.assert_array_equal(again, vectors)
    assert second.counters.cache_hits == 1 and second.counters.computed_texts == 0
    assert second.model_id == f"{DEFAULT_MODEL_ID}+onnx-int8"


def test_export_model_reuses_cached_files(export_dir: Path) -> None:
    """A second export of the same model returns the cached file untouched."""
    path, check = export_model(default_model_path(), export_dir, variant="onnx-int8")
    modified = path.stat().st_mtime_ns

    again, check_again = export_model(
        default_model_path(), export_dir, variant="onnx-int8"
    )

    assert (again, again.stat().st_mtime_ns) == (path, modified)
    assert check_again == check and check["variant"] == "onnx-int8"


def test_fast_encoder_below_floor_falls_back(
    export_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An export under the cosine floor is refused for the next safer one."""
    strict = FastSentenceEncoder(
        backend="onnx-int8", export_dir=export_dir, threads=1, min_cosine=0.9999
    )

    with caplog.at_level(logging.WARNING, logger="heysh.models.fast_encoder"):
        out = strict.encode(["Oil prices rose."])

    assert strict.backend == "onnx-fp32"
    assert strict.model_id.endswith("+onnx-fp32")
    assert "encoder_export_below_cosine_floor" in caplog.messages
    assert out.shape == (1, 384)


def test_calibration_windows_too_few_refused() -> None:
    """int8 calibration on a handful of windows is refused with the fix named."""
    with pytest.raises(ModelError, match="at least 50 windows, got 2"):
        calibration_windows(["One text.", "Another."])


def test_fast_encoder_unknown_backend_refused() -> None:
    """A misspelt backend is an error naming the choices."""
    with pytest.raises(ModelError, match="unknown backend 'onnx-int4'"):
        FastSentenceEncoder(backend="onnx-int4")  # type: ignore[arg-type]
