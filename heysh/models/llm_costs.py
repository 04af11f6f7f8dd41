"""Token prices of hosted LLMs, and the cost of one call in US dollars.

Prices are list prices per million tokens for standard (not batch, not cached)
requests, copied by hand with the page and the date they were read. They drift:
re-check the cited page before trusting a cost report older than a few months.
A model missing from the table costs ``nan``: unknown, never silently zero.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

_logger = logging.getLogger(__name__)
_unpriced_models_warned: set[str] = set()


@dataclass(frozen=True)
class TokenPrice:
    """List price of one model.

    Attributes:
        input_usd_per_mtok: US dollars per million prompt tokens.
        output_usd_per_mtok: US dollars per million generated tokens.
        long_prompt_tokens: Prompt length above which the long-prompt prices
            apply to the whole request; ``None`` when the model has one tier.
        long_input_usd_per_mtok: Prompt price above ``long_prompt_tokens``.
        long_output_usd_per_mtok: Output price above ``long_prompt_tokens``.
    """

    input_usd_per_mtok: float
    output_usd_per_mtok: float
    long_prompt_tokens: int | None = None
    long_input_usd_per_mtok: float | None = None
    long_output_usd_per_mtok: float | None = None


# Model id -> price. Each entry names where the price was read and when.
TOKEN_PRICES: dict[str, TokenPrice] = {
    # Source: https://platform.claude.com/docs/en/models/haiku-5-5/overview
    # ("Pricing": $0.10 / $0.50 per MTok for prompts up to 100,000 tokens,
    # $0.50 / $2.50 above), read 2026-12-04.
    "claude-haiku-5-5": TokenPrice(0.10, 0.50, 100_000, 0.50, 2.50),
    # Source: the comparison table on the same Haiku 5.5 overview page
    # (Sonnet 5.5: $2 / $10 per MTok), read 2026-12-04.
    "claude-sonnet-5-5": TokenPrice(2.00, 10.00),
    # Source: the comparison table on the same Haiku 5.5 overview page
    # (Opus 5.5: $4 / $20 per MTok), read 2026-12-04.
    "claude-opus-5-5": TokenPrice(4.00, 20.00),
    # Source: https://www.anthropic.com/pricing#anthropic-api as quoted by
    # https://c-ai.chat/model-guides/claude-haiku/ (Haiku 4.5: $1 / $5 per
    # MTok), read 2026-12-04; secondary source, the official page was not
    # reachable from here.
    "claude-haiku-4-5": TokenPrice(1.00, 5.00),
    "claude-haiku-4-5-20251001": TokenPrice(1.00, 5.00),
    # Source: https://dev.to/preecha/gpt-54-mini-pricing-and-how-to-use-gpt-54-mini-api-1jcg
    # quoting OpenAI's pricing page (GPT-5.4 mini: $0.75 input, $4.50 output
    # per 1M tokens; nano $0.20 / $1.25), read 2026-12-04; secondary source.
    "gpt-5.4-mini": TokenPrice(0.75, 4.50),
    "gpt-5.4-nano": TokenPrice(0.20, 1.25),
}


def price_of(model: str) -> TokenPrice | None:
    """Return the list price of ``model``, or ``None`` when it is not known.

    A dated snapshot id (``claude-haiku-4-5-20251001``) falls back to its alias
    when only the alias is listed.
    """
    if model in TOKEN_PRICES:
        return TOKEN_PRICES[model]
    head, _, tail = model.rpartition("-")
    if tail.isdigit() and len(tail) == 8 and head in TOKEN_PRICES:
        return TOKEN_PRICES[head]
    return None


def cost_usd(model: str, tokens_in: int, tokens_out: int) -> float:
    """Cost of one call in US dollars at list price.

    Args:
        model: The model id the provider reported (or was asked for).
        tokens_in: Prompt tokens billed.
        tokens_out: Generated tokens billed.

    Returns:
        The cost, or ``nan`` for a model without a listed price (self-hosted
        models behind an OpenAI-compatible API, or a new model id); a WARNING
        names such a model the first time it is priced.

    >>> round(cost_usd("claude-haiku-5-5", 1_000, 100), 6)
    0.00015
    >>> math.isnan(cost_usd("my-local-llama", 10, 10))
    True
    """
    price = price_of(model)
    if price is None:
        if model not in _unpriced_models_warned:
            _unpriced_models_warned.add(model)
            _logger.warning("llm_price_unknown", extra={"model": model})
        return math.nan
    rate_in, rate_out = price.input_usd_per_mtok, price.output_usd_per_mtok
    if price.long_prompt_tokens is not None and tokens_in > price.long_prompt_tokens:
        rate_in = price.long_input_usd_per_mtok or rate_in
        rate_out = price.long_output_usd_per_mtok or rate_out
    return (tokens_in * rate_in + tokens_out * rate_out) / 1_000_000
