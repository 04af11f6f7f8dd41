"""Restart the real test servers that ``scripts/servers/`` started, from tests.

The contract suite's restart tests stop and start the server behind a server
adapter. When the server's URL variable (``HEYSH_TEST_<NAME>_URL``) is the URL
that the server's script prints, the server is the script's, and the script's
``restart`` subcommand restarts it by its pid file, keeping its data. A server
started some other way is restarted only through ``HEYSH_TEST_<NAME>_RESTART_CMD``
(see ``conftest.py``); without that, only the client reconnects.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "scripts" / "servers"

# Contract-suite adapter name -> (server script, URL variable).
SERVER_SCRIPTS = {
    "weaviate": ("weaviate.sh", "HEYSH_TEST_WEAVIATE_URL"),
    "neo4j": ("neo4j.sh", "HEYSH_TEST_NEO4J_URL"),
    "postgresql": ("postgres.sh", "HEYSH_TEST_POSTGRES_URL"),
}


class ServerScriptError(RuntimeError):
    """A server script failed; the message carries its stderr."""


def run_server_script(name: str, subcommand: str, timeout_s: float = 300.0) -> str:
    """Run ``scripts/servers/<script> <subcommand>`` and return its stdout.

    Raises:
        ServerScriptError: The script exited non-zero or timed out.
    """
    script = SCRIPTS_DIR / SERVER_SCRIPTS[name][0]
    try:
        done = subprocess.run(
            [str(script), subcommand],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise ServerScriptError(
            f"{script.name} {subcommand} did not finish in {timeout_s:.0f}s"
        ) from err
    if done.returncode != 0:
        raise ServerScriptError(
            f"{script.name} {subcommand} exited {done.returncode}:\n"
            f"{done.stderr[-4000:]}"
        )
    return done.stdout.strip()


def is_script_server(name: str) -> bool:
    """Whether the server the tests use for ``name`` is the one its script runs.

    True when ``HEYSH_TEST_<NAME>_URL`` equals the script's ``url`` output
    and the script reports the server running.
    """
    url = os.environ.get(SERVER_SCRIPTS[name][1])
    if not url:
        return False
    try:
        return (
            run_server_script(name, "url", 30) == url
            and run_server_script(name, "status", 30) == "running"
        )
    except ServerScriptError:
        return False


def restart_script_server(name: str) -> None:
    """Stop the script's server by its pid and start it again on the same data.

    Raises:
        ServerScriptError: The restart failed (the message has the log tail).
    """
    run_server_script(name, "restart")


def script_restart(name: str) -> Callable[[], None] | None:
    """A restart function for ``name``'s server if its script runs it, else ``None``."""
    if name not in SERVER_SCRIPTS or not is_script_server(name):
        return None
    return lambda: restart_script_server(name)
