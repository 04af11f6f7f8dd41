"""What the benchmarks that drive the local stack share: machine, ports, output.

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


def describe_machine() -> dict[str, Any]:
    """Date, platform, Python, CPU model, CPU count and load, for a result line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def say(text: str) -> None:
    """Print one line of progress at once (the scripts run for minutes)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
