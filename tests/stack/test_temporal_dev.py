"""Tests of heysh.stack.temporal_dev: the dev server's command line and checks."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from heysh.errors import ConfigError
from heysh.stack.temporal_dev import (
    DevServerOptions,
    dev_server_command,
    is_port_free,
    is_temporal_serving,
    split_local_address,
    temporal_binary,
)
from tests.temporal_server import TemporalDevServer


def _flag_values(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command) if part == flag]


def test_dev_server_command_default_profile_wal(tmp_path: Path) -> None:
    """The default profile turns on WAL; local IP, UI port and database are passed."""
    options = DevServerOptions(port=7300, ui_port=8300, db_path=tmp_path / "t.db")

    command = dev_server_command(options)

    assert command[:3] == [str(temporal_binary()), "server", "start-dev"]
    assert _flag_values(command, "--sqlite-pragma") == ["journal_mode=wal"]
    assert _flag_values(command, "--ip") == ["127.0.0.1"]
    assert _flag_values(command, "--port") == ["7300"]
    assert _flag_values(command, "--ui-port") == ["8300"]
    assert _flag_values(command, "--db-filename") == [str(tmp_path / "t.db")]
    assert _flag_values(command, "--search-attribute") == [
        "HeyshAssignedController=Keyword"
    ]
    assert "--headless" not in command


def test_dev_server_command_wal_normal_profile_relaxes_sync(tmp_path: Path) -> None:
    """Profile wal-normal adds synchronous=normal to WAL."""
    options = DevServerOptions(
        port=7300, ui_port=0, db_path=tmp_path / "t.db", pragma_profile="wal-normal"
    )

    command = dev_server_command(options)

    assert _flag_values(command, "--sqlite-pragma") == [
        "journal_mode=wal",
        "synchronous=normal",
    ]


def test_dev_server_command_default_sqlite_profile_no_pragmas(tmp_path: Path) -> None:
    """Profile 'default' leaves SQLite's settings alone; UI port 0 runs headless."""
    options = DevServerOptions(
        port=7300, ui_port=0, db_path=tmp_path / "t.db", pragma_profile="default"
    )

    command = dev_server_command(options)

    assert "--sqlite-pragma" not in command
    assert "--headless" in command
    assert options.ui_url == ""


def test_dev_server_command_unknown_profile_raises_config_error(tmp_path: Path) -> None:
    """An unknown SQLite profile is refused, listing the known ones."""
    options = DevServerOptions(
        port=1, ui_port=0, db_path=tmp_path / "t.db", pragma_profile="turbo"
    )

    with pytest.raises(
        ConfigError,
        match=r"'turbo' is unknown; use one of "
        r"\['default', 'wal', 'wal-normal'\]",
    ):
        dev_server_command(options)


@pytest.mark.parametrize("address", ["10.0.0.5:7233", "temporal.example.com:7233"])
def test_split_local_address_remote_host_raises_config_error(address: str) -> None:
    """The local stack refuses to start a server for a remote address."""
    with pytest.raises(ConfigError, match="not on this machine"):
        split_local_address(address)


def test_split_local_address_no_port_raises_config_error() -> None:
    """An address without a port is refused with an example."""
    with pytest.raises(ConfigError, match=r"is not host:port, e\.g\. 127\.0\.0\.1"):
        split_local_address("127.0.0.1")


def test_is_port_free_listening_socket_false() -> None:
    """A port someone listens on is not free; after closing it is."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        assert not is_port_free(port)
    assert is_port_free(port)


def test_is_temporal_serving_plain_tcp_listener_false() -> None:
    """Something that accepts TCP but is not Temporal does not count as serving."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        assert not is_temporal_serving(
            f"127.0.0.1:{listener.getsockname()[1]}", timeout_s=2
        )


@pytest.mark.integration
def test_is_temporal_serving_dev_server_true(
    temporal_server: TemporalDevServer,
) -> None:
    """A running dev server answers the health check."""
    assert is_temporal_serving(temporal_server.address)
