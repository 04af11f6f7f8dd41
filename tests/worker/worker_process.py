"""Run ``python -m heysh.worker`` as a child process for crash and shutdown tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.temporal_server import free_port


class WorkerProcess:
    """One worker process with its own health port and log file.

    Args:
        home: heysh home shared with the test (embedded stores).
        temporal_address: The test server.
        suffix: Task-queue suffix shared with the test's other workers.
        worker_types: ``WORKER_TYPES`` of the child.
        log_path: Where the child's stderr goes.
        extra_env: More environment variables (e.g. the pause hook).
    """

    def __init__(
        self,
        home: Path,
        temporal_address: str,
        suffix: str,
        worker_types: str,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.health_port = free_port()
        self.log_path = log_path
        self.env = {
            **os.environ,
            "HEYSH_HOME": str(home),
            "HEYSH_TEMPORAL_ADDRESS": temporal_address,
            "HEYSH_TASK_QUEUE_SUFFIX": suffix,
            "WORKER_TYPES": worker_types,
            "HEYSH_HEALTH_HOST": "127.0.0.1",
            "HEYSH_HEALTH_PORT": str(self.health_port),
            "HEYSH_WORKER_SHUTDOWN_GRACE_S": "30",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout_s: float = 120.0) -> None:
        """Start the child and wait until its /ready answers 200."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "heysh.worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited early; see {self.log_path}:\n"
                    f"{self.log_path.read_text()[-3000:]}"
                )
            if self.ready()[0] == 200:
                return
            time.sleep(0.3)
        raise RuntimeError(
            f"worker not ready in {ready_timeout_s}s; see {self.log_path}"
        )

    def ready(self) -> tuple[int, dict]:
        """GET /ready: (status, body); (0, {}) while nothing listens."""
        url = f"http://127.0.0.1:{self.health_port}/ready"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())
        except OSError:
            return 0, {}

    def wait_for_log(self, text: str, timeout_s: float = 60.0) -> None:
        """Wait until ``text`` appears in the child's log."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared in {self.log_path}")

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the child by its process id."""
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def wait(self, timeout_s: float = 60.0) -> int:
        """Wait for the child to exit; return its exit code."""
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def stop(self) -> None:
        """SIGTERM the child (SIGKILL if it lingers); safe to call twice."""
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=30)
