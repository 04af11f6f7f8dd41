"""Token prices and per-call cost."""

from __future__ import annotations

import math

import pytest

from heysh.models.llm_costs import TOKEN_PRICES, cost_usd, price_of


def test_cost_usd_haiku_long_prompt_tier() -> None:
    """Haiku 5.5 prompts over 100,000 tokens are billed at the long-prompt rates."""
    short = cost_usd("claude-haiku-5-5", 100_000, 1_000)
    long = cost_usd("claude-haiku-5-5", 100_001, 1_000)

    assert short == pytest.approx((100_000 * 0.10 + 1_000 * 0.50) / 1e6)
    assert long == pytest.approx((100_001 * 0.50 + 1_000 * 2.50) / 1e6)


def test_price_of_dated_snapshot_falls_back_to_alias() -> None:
    """A dated model id without its own entry uses its alias's price."""
    assert price_of("claude-sonnet-5-5-20270101") == TOKEN_PRICES["claude-sonnet-5-5"]
    assert price_of("claude-sonnet-5-5-preview") is None


def test_cost_usd_unknown_model_is_nan() -> None:
    """An unpriced model costs nan, never a silent zero."""
    assert math.isnan(cost_usd("qwen-local", 1, 1))


def test_token_prices_all_positive() -> None:
    """Every listed price is positive (a zero would hide cost in reports)."""
    for model, price in TOKEN_PRICES.items():
        assert price.input_usd_per_mtok > 0, model
        assert price.output_usd_per_mtok >= price.input_usd_per_mtok, model
