"""What the benchmarks share: the machine description, ports, progress output.

Imported by the scripts next to it (``python benchmarks/<script>.py`` puts
this folder on ``sys.path``).
"""

from __future__ import annotations

import datetime
import os
import platform
import socket
import sys
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def describe_machine() -> dict[str, Any]:
    """Date, platform, Python, CPU model, CPU count and load, for a result line."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def announce_machine() -> dict[str, Any]:
    """Describe the machine and print it with the date; return the description."""
    machine = describe_machine()
    say(
        f"machine: {machine['cpu']} ({machine['cpus']} CPUs), load "
        f"{machine['load_1m']}, {machine['platform']}"
    )
    say(f"date:    {machine['date']}")
    return machine


def stack_settings(home: Path) -> tuple[Any, tuple[int, ...]]:
    """Settings for a fresh local stack under ``home`` on free ports.

    Sets ``HEYSH_HOME`` and ``HEYSH_TEMPORAL_ADDRESS`` for this process and the
    commands it starts; returns the settings and three free health ports.
    """
    from heysh.config import load_settings

    ports = [free_port() for _ in range(4)]
    os.environ["HEYSH_HOME"] = str(home)
    os.environ["HEYSH_TEMPORAL_ADDRESS"] = f"127.0.0.1:{ports[0]}"
    return load_settings(), tuple(ports[1:])


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def say(text: str) -> None:
    """Print one line of progress at once (the scripts run for minutes)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
