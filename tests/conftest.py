"""Session-wide fixtures shared by several test folders: a real Temporal server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.temporal_server import TemporalDevServer


@pytest.fixture(scope="session")
def temporal_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TemporalDevServer]:
    """A Temporal dev server on 127.0.0.1, started once per session."""
    server = TemporalDevServer(tmp_path_factory.mktemp("temporal"))
    server.start()
    yield server
    server.stop()
