"""The research commands run end to end as a user would type them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.research_fixtures import run_heysh

pytestmark = pytest.mark.e2e


def _env(tmp_path: Path, cache_root: Path) -> dict[str, str]:
    return {
        "HEYSH_HOME": str(tmp_path / "home"),
        "HEYSH_CACHE_ROOT": str(cache_root),
        "MLFLOW_TRACKING_URI": "",
    }


def test_evaluate_real_collection_slice_end_to_end(
    tmp_path: Path, session_cache_root: Path, shared_datasets: Path
) -> None:
    """`heysh evaluate` on a SweFAQ slice prints the table and writes summary.json."""
    out = tmp_path / "out"

    run = run_heysh(
        "evaluate",
        "--data",
        str(shared_datasets / "swefaq"),
        "--max-documents",
        "200",
        "--max-domains",
        "4",
        "--output",
        str(out),
        "--no-progress",
        env=_env(tmp_path, session_cache_root),
    )

    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"]["name"] == "swefaq"
    assert summary["dataset"]["domains"] == 4
    assert "embedding-classifier" in run.stdout
    assert f"summary: {out / 'summary.json'}" in run.stdout
    assert summary["registered"]["version"] == "1"
    for domain in summary["domains"].values():
        assert domain["scope"] in {"per-domain", "pooled"} or ";" in domain["scope"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "no/such/place.csv"], "no/such/place.csv"),
        (["--data", "demo", "--models", "lexical,telepathy"], "telepathy"),
        (["--data", "demo", "--false-approve", "0"], "false_approve"),
        (["--experiment", "no-such-experiment.yaml"], "no-such-experiment.yaml"),
    ],
)
def test_evaluate_bad_input_is_one_clear_line(
    tmp_path: Path, session_cache_root: Path, args: list[str], message: str
) -> None:
    """Bad input exits 1 with a one-line error naming the problem, no traceback."""
    run = run_heysh(
        "evaluate", *args, "--no-progress", env=_env(tmp_path, session_cache_root)
    )

    assert run.returncode == 1
    error_lines = [
        line for line in run.stderr.splitlines() if line.startswith("heysh: error:")
    ]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert "Traceback" not in run.stderr


def test_help_lists_the_commands() -> None:
    """`heysh --help` names the research commands."""
    run = run_heysh("--help")

    assert run.returncode == 0
    for command in ("evaluate", "promote", "pipeline", "mlflow-ui", "lab"):
        assert command in run.stdout


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["max_documents"], "must be NAME=VALUE"),
        (["max_documentz=3"], "no notebook of pipeline 'evaluation' declares it"),
    ],
)
def test_pipeline_parameters_typos_are_refused(items: list[str], message: str) -> None:
    """A -p without '=' or naming no declared parameter is an error, not ignored."""
    from heysh.cli.research import parse_parameters
    from heysh.errors import ConfigError
    from heysh.research.pipeline import load_pipeline
    from tests.research_fixtures import REPO_ROOT

    pipeline = load_pipeline(REPO_ROOT / "pipelines" / "evaluation.yaml")

    with pytest.raises(ConfigError, match=message):
        parse_parameters(items, pipeline)
    assert parse_parameters(["max_documents=200"], pipeline) == {"max_documents": 200}


def _processes_with_env(marker: str) -> list[int]:
    """Pids of this user's processes whose environment holds ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            pids.append(int(entry.name))
    return pids


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_mlflow_ui_answers_and_stopping_its_pid_stops_every_process(
    tmp_path: Path,
) -> None:
    """`heysh mlflow-ui` serves on 127.0.0.1; SIGTERM to its pid leaves nothing."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.temporal_server import free_port

    port = free_port()
    home = tmp_path / "ui-home"
    heysh = Path(sys.executable).with_name("heysh")
    env = {**os.environ, "HEYSH_HOME": str(home), "MLFLOW_TRACKING_URI": ""}
    process = subprocess.Popen(
        [str(heysh), "mlflow-ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status = None
        deadline = time.monotonic() + 120
        while status is None and time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/"
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
            except OSError:
                time.sleep(0.5)
        started = _processes_with_env(f"HEYSH_HOME={home}")
        commands = [_command_line(pid) for pid in started]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _processes_with_env(f"HEYSH_HOME={home}") and time.monotonic() < deadline:
        time.sleep(0.5)

    assert status == 200
    assert len(started) >= 2  # the server and its web workers
    # MLflow's job runner starts consumers that outlive the server; it is off.
    assert not [c for c in commands if "_job_runner" in c or "huey" in c]
    assert _processes_with_env(f"HEYSH_HOME={home}") == []
