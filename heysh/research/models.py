"""Build the experiment's candidate models, sharing one encoder and its cache."""

from __future__ import annotations

from typing import Any

from heysh.config import Settings
from heysh.research.experiment import ExperimentSpec


def build_candidates(spec: ExperimentSpec, settings: Settings) -> tuple[list[Any], Any]:
    """Return one unfitted CalibratedScorer per model, and their shared encoder.

    All embedding-based models share one sentence encoder whose cache lives in
    ``<home>/cache``, so each text is embedded once across models and runs.

    Raises:
        ModelError: for an unknown model kind or invalid parameters, before any
            data is loaded.
    """
    from heysh.models.embedding_cache import EmbeddingCache
    from heysh.models.embeddings import SentenceEncoder
    from heysh.models.factory import build_scorer

    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    encoder = SentenceEncoder(
        cache=EmbeddingCache(settings.cache_dir / "embeddings.sqlite")
    )
    candidates = [
        build_scorer(model.kind, encoder=encoder, **dict(model.params))
        for model in spec.models
    ]
    return candidates, encoder


def uses_embeddings(spec: ExperimentSpec) -> bool:
    """Whether any of the experiment's models reads sentence embeddings."""
    from heysh.models.factory import scorer_kind

    return any(scorer_kind(model.kind).uses_encoder for model in spec.models)


def encode_corpus(encoder: Any, corpus: Any) -> dict[str, float]:
    """Embed every text and description once, before any model is timed.

    Scoring throughput is then measured with a warm cache for every model
    alike; the encoding cost is reported on its own.

    Returns:
        ``texts``, ``seconds`` and ``documents_per_second`` of the encoding
        (all cache hits on a repeated run).
    """
    import time

    texts = list(
        dict.fromkeys(
            [*corpus.texts.tolist(), *(d.description for d in corpus.domains)]
        )
    )
    started = time.perf_counter()
    encoder.encode(texts)
    seconds = time.perf_counter() - started
    return {
        "texts": len(texts),
        "seconds": round(seconds, 3),
        "documents_per_second": round(len(texts) / seconds, 1) if seconds else 0.0,
    }
