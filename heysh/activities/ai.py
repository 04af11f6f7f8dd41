"""Activities of the ai-processing queue: relevance, topics, summaries, agent tasks.

Each activity is a thin adapter: read the document's normalised text from the
blob store, call a library function or the current model, return a result.
Model calls from concurrent activities are batched (:mod:`.batching`), which
is what lets one AI worker keep up with many review workflows.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError

from heysh.activities import contracts as c
from heysh.activities.batching import MicroBatcher
from heysh.activities.metrics import (
    LLM_COST,
    LLM_TOKENS,
    MODEL_LATENCY,
    RELEVANCE_SCORE,
)
from heysh.ai.summaries import summarise_lead
from heysh.ai.topics import derive_title, extract_topics
from heysh.constants import SCORE_MAX, SCORE_MIN
from heysh.models.base import ScoringPairs
from heysh.models.llm_client import (
    LlmNotConfiguredError,
    LlmRequestRejectedError,
    LlmRetryableError,
)
from heysh.stores.base import BlobStore

# Characters of a document that are scored and embedded. About 15,000 words,
# or a hundred MiniLM windows: a few seconds on a CPU. A longer document is
# judged on its first part, and the rationale says so.
MAX_SCORED_CHARS = 100_000

# Decimals kept of each embedding component; float32 carries about seven
# significant digits, and shorter numbers keep workflow history small.
_EMBEDDING_DECIMALS = 6

# ApplicationError types of LLM failures. A rate limit or overload is retried
# after the provider's retry-after (``next_retry_delay``) when it sent one;
# a rejected request (bad key, invalid request) is not retried.
LLM_RETRYABLE_ERROR = "LlmRetryable"
LLM_REJECTED_ERROR = "LlmRequestRejected"


@dataclass(frozen=True)
class LoadedModel:
    """A relevance model ready to score, with its provenance.

    Attributes:
        name: Registered model name (or the default model's name).
        version: Registry version, or the default model's version string.
        score: Calibrated scores (0-10), shape ``(len(pairs),)``.
        usage: Reads the latest call's per-pair LLM usage (None: local model).
    """

    name: str
    version: str
    score: Callable[[ScoringPairs], np.ndarray]
    # Per-pair usage (``tokens_in``, ``tokens_out``, ``cost_usd``) of the
    # latest ``score`` call, for an LLM judge; None for a local model.
    usage: Callable[[], Sequence[Any] | None] | None = None


class ModelProvider(Protocol):
    """Where the AI activities get their model (see ``heysh.worker.model_source``)."""

    def current(self) -> LoadedModel:
        """The model the registry alias points to now (or the default model)."""
        ...

    def for_override(self, model_uri: str) -> LoadedModel:
        """A domain's ``ai_model_override`` model, loaded once and cached."""
        ...


class TextEncoder(Protocol):
    """Unit-norm document embeddings (``heysh.models.embeddings.SentenceEncoder``)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class _ScoreRequest:
    model: LoadedModel
    domain_id: str
    description: str
    text: str


@dataclass(frozen=True)
class _Scored:
    score: float
    latency_s: float
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class AiActivities:
    """The ai-processing activities, holding the model source and encoder.

    Args:
        blobs: Where ``store_document_metadata`` put each document's text.
        models: The model source.
        encoder: Embeds documents for the vector index.
        batch_max_size: Most documents per model call.
        batch_wait_s: How long an idle model waits for more documents.
        llm_factory: Builds the LLM client for a model id ("" for the
            provider's default), or returns None when no LLM is configured
            (``heysh.models.llm_client.configured_llm_client``); None means
            agent tasks are refused.
    """

    def __init__(
        self,
        *,
        blobs: BlobStore,
        models: ModelProvider,
        encoder: TextEncoder,
        batch_max_size: int = 64,
        batch_wait_s: float = 0.005,
        llm_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self._blobs = blobs
        self._llm_factory = llm_factory
        self._llms: dict[str, Any] = {}
        # Blob reads get threads of their own, apart from the model's thread.
        self._io = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, thread_name_prefix="heysh-ai-io"
        )
        self._models = models
        self._encoder = encoder
        self.scoring = MicroBatcher(
            _score_batch,
            max_batch=batch_max_size,
            max_wait_s=batch_wait_s,
            name="relevance",
        )
        self.embedding = MicroBatcher(
            self._embed_batch,
            max_batch=batch_max_size,
            max_wait_s=batch_wait_s,
            name="embedding",
        )

    def close(self) -> None:
        """Release the activities' threads (after the worker has stopped)."""
        self.scoring.close()
        self.embedding.close()
        self._io.shutdown(wait=False)

    def activities(self) -> list[Callable[..., Any]]:
        """Every activity of the ai-processing queue, for a Worker."""
        return [
            self.assess_document_relevance,
            self.extract_document_topics,
            self.generate_summary_for_notification,
            self.execute_ai_agent_activity,
        ]

    @activity.defn(name=c.ASSESS_DOCUMENT_RELEVANCE)
    async def assess_document_relevance(
        self, request: c.AssessRelevanceInput
    ) -> c.AssessRelevanceResult:
        """Score the document against its domain's description (0-10).

        Raises:
            ApplicationError: for an LLM judge's failure (see
                ``_activity_failure``): retryable ``LlmRetryable`` with the
                provider's retry-after as ``next_retry_delay``, or
                non-retryable ``LlmRequestRejected`` / ``NoLlmConfigured``;
                non-retryable ``InvalidActivityInput`` for a missing text.
        """
        text = await self._read_text(request.text_key)
        scored_text = text[:MAX_SCORED_CHARS]
        if request.model_override:
            model = await asyncio.get_running_loop().run_in_executor(
                self._io, self._models.for_override, request.model_override
            )
        else:
            model = self._models.current()
        outcome = await self.scoring.submit(
            _ScoreRequest(
                model, request.domain_id, request.domain_description, scored_text
            )
        )
        if isinstance(outcome, Exception):
            failure = _activity_failure(
                outcome, f"{model.name} version {model.version}"
            )
            if failure is outcome:
                raise outcome
            raise failure from outcome
        scored = outcome
        rationale = (
            f"{model.name} version {model.version} scored {len(scored_text):,} "
            "characters against the domain description"
        )
        if len(text) > len(scored_text):
            rationale += f" (the first {len(scored_text):,} of {len(text):,})"
        RELEVANCE_SCORE.observe(scored.score)
        activity.logger.info(
            "document_assessed",
            extra={
                "doc_id": request.doc_id,
                "domain_id": request.domain_id,
                "score": round(scored.score, 3),
                "model": model.name,
                "model_version": model.version,
                "tokens_in": scored.tokens_in,
                "tokens_out": scored.tokens_out,
                "cost_usd": round(scored.cost_usd, 6),
            },
        )
        return c.AssessRelevanceResult(
            doc_id=request.doc_id,
            score=scored.score,
            model_name=model.name,
            model_version=model.version,
            rationale=rationale,
            latency_s=scored.latency_s,
            tokens_in=scored.tokens_in,
            tokens_out=scored.tokens_out,
            cost_usd=scored.cost_usd,
        )

    @activity.defn(name=c.EXTRACT_DOCUMENT_TOPICS)
    async def extract_document_topics(
        self, request: c.ExtractTopicsInput
    ) -> c.ExtractTopicsResult:
        """Extract topics and a title, and embed the document for the index."""
        if request.max_topics < 1:
            raise _invalid(f"max_topics must be at least 1, got {request.max_topics}")
        text = await self._read_text(request.text_key)
        vector = await self.embedding.submit(text[:MAX_SCORED_CHARS])
        return c.ExtractTopicsResult(
            doc_id=request.doc_id,
            title=derive_title(text),
            topics=extract_topics(text, max_topics=request.max_topics),
            embedding=[round(float(x), _EMBEDDING_DECIMALS) for x in vector],
            method="offline-frequency",
        )

    @activity.defn(name=c.GENERATE_SUMMARY_FOR_NOTIFICATION)
    async def generate_summary_for_notification(
        self, request: c.GenerateSummaryInput
    ) -> c.GenerateSummaryResult:
        """Summarise the document for a notification (its leading sentences)."""
        if request.max_chars < 20:
            raise _invalid(f"max_chars must be at least 20, got {request.max_chars}")
        text = await self._read_text(request.text_key)
        return c.GenerateSummaryResult(
            doc_id=request.doc_id,
            summary=summarise_lead(text, max_chars=request.max_chars),
            method="offline-lead",
        )

    @activity.defn(name=c.EXECUTE_AI_AGENT_ACTIVITY)
    async def execute_ai_agent_activity(
        self, request: c.AgentTaskInput
    ) -> c.AgentTaskResult:
        """Run a generic AI task through ``heysh.ai.agent.run_agent_task_detailed``.

        Raises:
            ApplicationError: non-retryable, type ``NoLlmConfigured``, when no
                LLM integration is installed or configured; non-retryable,
                type ``InvalidActivityInput``, for an invalid schema or an
                answer still invalid after repair; non-retryable, type
                ``LlmRequestRejected``, for a request the provider rejects
                (bad key, invalid request); retryable, type ``LlmRetryable``,
                for rate limits and overloads, with ``next_retry_delay`` set
                to the provider's retry-after when it sent one.
        """
        try:
            from heysh.ai import agent
        except ModuleNotFoundError:
            raise _no_llm("heysh.ai.agent is not installed (the llm extra)") from None
        try:
            llm = self._llm_for(request.model)
        except LlmNotConfiguredError as err:
            raise _no_llm(str(err)) from err
        if llm is None:
            raise _no_llm("set ANTHROPIC_API_KEY or OPENAI_API_KEY for the AI worker")
        try:
            task = functools.partial(
                agent.run_agent_task_detailed,
                request.prompt,
                request.input,
                request.output_schema,
                llm=llm,
            )
            result = await asyncio.get_running_loop().run_in_executor(self._io, task)
        except (agent.AgentSchemaError, agent.AgentOutputInvalidError) as err:
            raise _invalid(f"agent task failed for good: {err}") from err
        except (
            LlmRetryableError,
            LlmRequestRejectedError,
            LlmNotConfiguredError,
        ) as err:
            what = f"agent task on {request.model or 'the default model'}"
            raise _activity_failure(err, what) from err
        return c.AgentTaskResult(
            output=dict(result.output),
            model_name=result.model,
            model_version=result.model,
        )

    def _llm_for(self, model: str) -> Any:
        if self._llm_factory is None:
            return None
        if model not in self._llms:
            self._llms[model] = self._llm_factory(model)
        return self._llms[model]

    async def _read_text(self, key: str) -> str:
        if not key:
            raise _invalid("text_key is empty; store the document's metadata first")
        loop = asyncio.get_running_loop()
        exists = await loop.run_in_executor(self._io, self._blobs.exists, key)
        if not exists:
            raise _invalid(f"no document text under blob key {key!r}")
        data = await loop.run_in_executor(self._io, self._blobs.get, key)
        return data.decode("utf-8")

    def _embed_batch(self, texts: list[str]) -> list[np.ndarray]:
        return list(self._encoder.encode(texts))


def _score_batch(requests: list[_ScoreRequest]) -> list[_Scored | Exception]:
    """Score a batch, one model call per distinct model in it.

    A model call that fails fails only the requests that model was scoring:
    their result is the exception (raised by their own activity), while the
    requests of the batch's other models keep their scores.
    """
    results: list[_Scored | Exception | None] = [None] * len(requests)
    # Name and version identify a model; requests naming the same one share a call.
    by_model: dict[tuple[str, str], list[int]] = {}
    for index, request in enumerate(requests):
        key = (request.model.name, request.model.version)
        by_model.setdefault(key, []).append(index)
    for indices in by_model.values():
        scored: list[_Scored | Exception]
        try:
            scored = list(_score_one_model([requests[i] for i in indices]))
        except Exception as err:  # delivered to this model's activities only
            scored = [err] * len(indices)
        for i, result in zip(indices, scored, strict=True):
            results[i] = result
    return [r for r in results if r is not None]


def _score_one_model(requests: list[_ScoreRequest]) -> list[_Scored]:
    """Score requests that all name the same model, in one call."""
    model = requests[0].model
    pairs = ScoringPairs(
        domain_ids=[r.domain_id for r in requests],
        descriptions=[r.description for r in requests],
        texts=[r.text for r in requests],
    )
    started = time.perf_counter()
    scores = np.asarray(model.score(pairs), dtype=np.float64)
    latency_s = time.perf_counter() - started
    MODEL_LATENCY.observe(latency_s)
    if scores.shape != (len(requests),) or not np.all(np.isfinite(scores)):
        # Retryable on purpose: moving the alias to a working model fixes it.
        raise RuntimeError(
            f"model {model.name} version {model.version} returned scores of "
            f"shape {scores.shape} with non-finite values for {len(requests)} "
            "documents; expected one finite score per document"
        )
    usage = model.usage() if model.usage is not None else None
    if usage is None or len(usage) != len(requests):
        usage = [None] * len(requests)
    scored = []
    for score, pair in zip(scores, usage, strict=True):
        clipped = min(max(float(score), SCORE_MIN), SCORE_MAX)
        if pair is None:
            scored.append(_Scored(score=clipped, latency_s=latency_s))
            continue
        scored.append(
            _Scored(clipped, latency_s, pair.tokens_in, pair.tokens_out, pair.cost_usd)
        )
        LLM_TOKENS.labels(model=model.name, direction="in").inc(pair.tokens_in)
        LLM_TOKENS.labels(model=model.name, direction="out").inc(pair.tokens_out)
        LLM_COST.labels(model=model.name).inc(pair.cost_usd)
    return scored


def _activity_failure(err: Exception, what: str) -> Exception:
    """The error an activity raises for ``err``, a model or LLM call's failure.

    An LLM rate limit or overload becomes a retryable ``ApplicationError``
    whose ``next_retry_delay`` is the provider's retry-after (when it sent
    one), so Temporal waits as asked instead of by the policy's backoff; a
    rejected request or a missing LLM configuration becomes non-retryable.
    Anything else is raised as it is (retryable under the activity's policy).
    """
    if isinstance(err, LlmRetryableError):
        delay = (
            timedelta(seconds=err.retry_after_s)
            if err.retry_after_s is not None and err.retry_after_s > 0
            else None
        )
        return ApplicationError(
            f"{what}: {err} ({err.kind}); retrying"
            + (
                f" after {err.retry_after_s:g} s as the provider asked" if delay else ""
            ),
            type=LLM_RETRYABLE_ERROR,
            next_retry_delay=delay,
        )
    if isinstance(err, LlmRequestRejectedError):
        return ApplicationError(
            f"{what}: the LLM provider rejected the request ({err.kind}"
            f"{f', HTTP {err.status_code}' if err.status_code else ''}): {err}; "
            "a retry would be rejected too: check the API key and the request",
            type=LLM_REJECTED_ERROR,
            non_retryable=True,
        )
    if isinstance(err, LlmNotConfiguredError):
        return ApplicationError(
            f"{what}: no LLM configured: {err}",
            type=c.NO_LLM_ERROR,
            non_retryable=True,
        )
    return err


def _no_llm(how_to_fix: str) -> ApplicationError:
    return ApplicationError(
        f"no LLM configured for execute_ai_agent_activity: {how_to_fix}",
        type=c.NO_LLM_ERROR,
        non_retryable=True,
    )


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=c.INVALID_INPUT_ERROR, non_retryable=True)
