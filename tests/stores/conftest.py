"""Adapter fixtures for the one store contract suite.

Every contract test takes a ``*_harness`` fixture, parametrised over the
adapters of that store kind. Embedded adapters always run; a server adapter
runs only when its server URL variable is set (CI sets them), and is skipped
with that reason otherwise. Adding a server adapter means adding one
``_server_param`` and registering its scheme in ``heysh.stores.factory``; the
harness opens every adapter through the factory, by URL.

Server tests share one server, so contract tests isolate themselves with
unique ids (the ``uid`` fixture) and compare counts before and after, never
absolute counts.

A session check fails the run if a store kind's contract tests were selected
but none ran against any adapter (all skipped).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heysh.errors import StoreUnavailableError
from heysh.stores.factory import (
    open_archive,
    open_blob_store,
    open_knowledge_graph,
    open_metadata_store,
    open_vector_index,
)
from tests.stores.servers import script_restart

# Variables naming the server each server adapter is tested against.
SERVER_URL_VARS = {
    "weaviate": "HEYSH_TEST_WEAVIATE_URL",
    "neo4j": "HEYSH_TEST_NEO4J_URL",
    "postgresql": "HEYSH_TEST_POSTGRES_URL",
}


class StoreHarness:
    """An adapter under test, and how to reopen it as after a server restart.

    Attributes:
        name: The adapter's parameter id (``lance``, ``weaviate``, ...).
        store: The open adapter; replaced by :meth:`restart_server`.
    """

    def __init__(
        self,
        name: str,
        open_store: Callable[[], Any],
        restart: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._open_store = open_store
        self._restart = restart
        self.store = open_store()

    def restart_server(self, reopen_timeout_s: float = 60.0) -> Any:
        """Close the adapter, restart what holds its data, and open it again.

        For an embedded adapter this closes and reopens the same path. A
        server adapter's ``restart`` runs the command in
        ``HEYSH_TEST_<NAME>_RESTART_CMD`` (e.g. ``docker restart weaviate``);
        without one, only the client reconnects. The reopened adapter becomes
        :attr:`store` and is returned.
        """
        _close(self.store)
        if self._restart is not None:
            self._restart()
        deadline = time.monotonic() + reopen_timeout_s
        while True:
            try:
                self.store = self._open_store()
                return self.store
            except StoreUnavailableError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    def close(self) -> None:
        _close(self.store)


def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        close()


def _restart_command(name: str) -> Callable[[], None] | None:
    command = os.environ.get(f"HEYSH_TEST_{name.upper()}_RESTART_CMD")
    if not command:
        # A server that scripts/servers/ runs is restarted by its script.
        return script_restart(name)
    return lambda: subprocess.run(shlex.split(command), check=True, timeout=300)


def _server_param(name: str) -> Any:
    variable = SERVER_URL_VARS[name]
    return pytest.param(
        name,
        id=name,
        marks=[
            pytest.mark.integration,
            pytest.mark.skipif(
                not os.environ.get(variable),
                reason=f"{variable} is not set; CI sets it to a running {name} server",
            ),
        ],
    )


def _harness(
    request: pytest.FixtureRequest, open_store: Callable[[], Any], server: bool
) -> Iterator[StoreHarness]:
    name = request.param
    harness = StoreHarness(name, open_store, _restart_command(name) if server else None)
    yield harness
    harness.close()


@pytest.fixture
def uid() -> str:
    """A prefix unique to this test, for ids on servers shared between tests."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["lance", _server_param("weaviate")])
def vector_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreHarness]:
    """Every vector index adapter, opened by URL."""
    if request.param == "lance":
        url = f"lance://{tmp_path / 'vectors'}"
    else:
        url = os.environ[SERVER_URL_VARS[request.param]]
    yield from _harness(
        request, lambda: open_vector_index(url), request.param != "lance"
    )


@pytest.fixture(params=["kuzu", _server_param("neo4j")])
def graph_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreHarness]:
    """Every knowledge graph adapter, opened by URL."""
    if request.param == "kuzu":
        url = f"kuzu://{tmp_path / 'graph'}"
    else:
        url = os.environ[SERVER_URL_VARS[request.param]]
    yield from _harness(
        request, lambda: open_knowledge_graph(url), request.param != "kuzu"
    )


@pytest.fixture(params=["sqlite", _server_param("postgresql")])
def metadata_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreHarness]:
    """Every metadata store adapter, opened by URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'heysh.db'}"
    else:
        url = os.environ[SERVER_URL_VARS[request.param]]
    yield from _harness(
        request, lambda: open_metadata_store(url), request.param != "sqlite"
    )


@pytest.fixture(params=["folder"])
def archive_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreHarness]:
    """Every archive adapter, opened by URL."""
    url = f"file://{tmp_path / 'archive'}"
    yield from _harness(request, lambda: open_archive(url), server=False)


@pytest.fixture(params=["folder"])
def blob_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreHarness]:
    """Every blob store adapter, opened by URL."""
    url = f"file://{tmp_path / 'blobs'}"
    yield from _harness(request, lambda: open_blob_store(url), server=False)


# The session check: each selected store kind must run on at least one adapter.

_HARNESS_KINDS = {
    "vector_harness": "vector index",
    "graph_harness": "knowledge graph",
    "metadata_harness": "metadata store",
    "archive_harness": "archive",
    "blob_harness": "blob store",
}
_kind_by_nodeid: dict[str, str] = {}
_ran: Counter[str] = Counter()


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:
        for fixture, kind in _HARNESS_KINDS.items():
            if fixture in getattr(item, "fixturenames", ()):
                _kind_by_nodeid[item.nodeid] = kind


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = _kind_by_nodeid.get(report.nodeid)
    if kind is not None and report.when == "call" and not report.skipped:
        _ran[kind] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    idle = sorted(set(_kind_by_nodeid.values()) - set(_ran))
    if not idle:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_sep(
            "=",
            f"store contract suite ran on no adapter for: {', '.join(idle)}",
            red=True,
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
