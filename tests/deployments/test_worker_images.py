"""Each worker image's entry point and environment, run here as a process.

No container engine runs here, so this starts ``heysh worker`` exactly as each
Dockerfile's ENTRYPOINT does, with the variables its final stage sets (only
the data folder, the health port and the Temporal address are changed to
local ones), and checks /health, /ready and /metrics and a clean SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.deployments.files import dockerfile_env
from tests.temporal_server import TemporalDevServer, free_port

pytestmark = pytest.mark.integration

DOCKER = Path(__file__).resolve().parents[2] / "deployments" / "docker"
IMAGES = ["ai-worker", "storage-worker", "general-worker"]


def _entrypoint(dockerfile: Path) -> list[str]:
    match = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile.read_text(), re.MULTILINE)
    assert match, f"{dockerfile.name} has no exec-form ENTRYPOINT"
    return json.loads(match.group(1))


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _wait_for(
    url: str, status: int, process: subprocess.Popen, timeout_s: float
) -> str:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"worker exited with {process.returncode}")
        try:
            code, body = _get(url)
            if code == status:
                return body
            last = (code, body[:200])
        except OSError as err:
            last = err
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer {status} in {timeout_s}s: {last}")


@pytest.mark.parametrize("image", IMAGES)
def test_worker_image_entrypoint_serves_health_and_metrics(
    image: str, temporal_server: TemporalDevServer, tmp_path: Path
) -> None:
    """The image's command and environment start a worker that answers probes."""
    dockerfile = DOCKER / f"{image}.Dockerfile"
    image_env = dockerfile_env(dockerfile)
    command = _entrypoint(dockerfile)
    port = free_port()
    env = {
        **{k: v for k, v in image_env.items() if k != "PATH"},
        "PATH": os.environ["PATH"],
        "HEYSH_HOME": str(tmp_path / "home"),
        "HEYSH_HEALTH_HOST": "127.0.0.1",
        "HEYSH_HEALTH_PORT": str(port),
        "HEYSH_TEMPORAL_ADDRESS": temporal_server.address,
        "HEYSH_TEMPORAL_METRICS_PORT": str(free_port()),
        "HOME": os.environ.get("HOME", "/root"),
    }
    executable = Path(sys.executable).with_name(command[0])
    process = subprocess.Popen(
        [str(executable), *command[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/health", 200, process, timeout_s=120)
        _wait_for(f"{base}/ready", 200, process, timeout_s=240)
        _, metrics = _get(f"{base}/metrics")

        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert (
        image_env["WORKER_TYPES"]
        == {
            "ai-worker": "ai-processing",
            "storage-worker": "storage",
            "general-worker": "general",
        }[image]
    )
    assert (
        "heysh_decisions_total" in metrics or "heysh_model_latency_seconds" in metrics
    )
    assert "temporal_" in metrics
    assert returncode == 0
