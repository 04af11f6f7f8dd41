"""heysh's own Prometheus metrics, recorded by activities and the model source.

The names are part of the deployment contract (dashboards and the deployment
guide use them): ``heysh_decisions_total{outcome,domain}``,
``heysh_relevance_score`` (histogram, 0-10), ``heysh_model_latency_seconds``
(histogram, one observation per model call, which may hold a batch),
``heysh_llm_tokens_total{model,direction}`` and ``heysh_llm_cost_usd_total{model}``
(an LLM judge's billed tokens and list-price cost) and
``heysh_model_info{name,version}`` (1 for the model in use).

They live in their own registry rather than prometheus_client's global one,
so a worker's ``/metrics`` shows exactly these plus the Temporal SDK's.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

DECISIONS = Counter(
    "heysh_decisions",
    "Review decisions recorded, by outcome and domain.",
    ["outcome", "domain"],
    registry=REGISTRY,
)

RELEVANCE_SCORE = Histogram(
    "heysh_relevance_score",
    "Calibrated relevance scores (0-10) of assessed documents.",
    buckets=tuple(float(b) for b in range(11)),
    registry=REGISTRY,
)

MODEL_LATENCY = Histogram(
    "heysh_model_latency_seconds",
    "Seconds per relevance-model call (one call scores a whole batch).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)

LLM_TOKENS = Counter(
    "heysh_llm_tokens",
    "Tokens an LLM judge billed for relevance scoring, by model and direction.",
    ["model", "direction"],
    registry=REGISTRY,
)

LLM_COST = Counter(
    "heysh_llm_cost_usd",
    "List-price US dollars of LLM relevance scoring, by model.",
    ["model"],
    registry=REGISTRY,
)

MODEL_INFO = Gauge(
    "heysh_model_info",
    "The relevance model in use: 1 for its name and version.",
    ["name", "version"],
    registry=REGISTRY,
)


def set_model_info(name: str, version: str) -> None:
    """Mark ``name``/``version`` as the model in use, clearing any earlier one."""
    MODEL_INFO.clear()
    MODEL_INFO.labels(name=name, version=version).set(1)
