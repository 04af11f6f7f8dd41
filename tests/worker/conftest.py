"""Fixtures of the worker tests: the shared encoder, model and review stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.review_stack import ReviewStack, fast_test_model, shared_encoder
from tests.temporal_server import TemporalDevServer


@pytest.fixture(scope="session")
def encoder() -> Any:
    """The bundled MiniLM encoder, loaded once per session."""
    return shared_encoder()


@pytest.fixture(scope="session")
def fast_model() -> Any:
    """A real calibrated lexical scorer (fits in about a second)."""
    return fast_test_model()


@pytest.fixture(scope="module")
def stack(
    temporal_server: TemporalDevServer,
    tmp_path_factory: pytest.TempPathFactory,
    fast_model: Any,
    encoder: Any,
) -> Iterator[ReviewStack]:
    """Embedded stores and all three workers in this process, own task queues."""
    review_stack = ReviewStack(
        temporal_server.address,
        tmp_path_factory.mktemp("heysh"),
        model=fast_model,
        encoder=encoder,
    )
    yield review_stack
    review_stack.close()
