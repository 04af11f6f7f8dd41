"""End to end: ``heysh stack up``, a complete review session through the CLI, down.

Starts real processes (Temporal dev server, three worker processes with the
bundled MiniLM model) in a throwaway HEYSH_HOME on free ports; takes one to
three minutes depending on the machine's load.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from heysh.stack.processes import is_running
from tests.research_fixtures import CliRun, run_heysh
from tests.temporal_server import free_port

pytestmark = pytest.mark.e2e

DOCUMENT = (
    "Diplomats from both countries met in Geneva on Tuesday to negotiate a "
    "ceasefire after weeks of border clashes, the foreign ministry said.\n"
)


def _heysh(env: dict[str, str], cwd: Path, *args: str) -> CliRun:
    return run_heysh(*args, env=env, cwd=cwd, timeout_s=400)


def _assert_one_line_error(run: CliRun, message: str) -> None:
    errors = [line for line in run.stderr.splitlines() if line.startswith("heysh:")]
    assert run.returncode == 1, run.stderr
    assert errors == [f"heysh: error: {message}"]
    assert "Traceback" not in run.stderr


def test_stack_session_through_cli_decides_and_stops_every_process(
    tmp_path: Path,
) -> None:
    """Up, domain, members, submit, pending, two decisions, status, then down."""
    ui_port, *health_ports = (free_port() for _ in range(4))
    env = {
        "HEYSH_HOME": str(tmp_path / "home"),
        "HEYSH_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "HEYSH_WORKER_SHUTDOWN_GRACE_S": "5",
    }
    up_args = (
        "stack",
        "up",
        "--ui-port",
        str(ui_port),
        "--health-ports",
        ",".join(map(str, health_ports)),
    )
    up = _heysh(env, tmp_path, *up_args)
    state_file = tmp_path / "home" / "stack" / "stack.json"
    try:
        assert up.returncode == 0, up.stderr
        _session(env, tmp_path, up_args, ui_port)
    finally:
        recorded = json.loads(state_file.read_text()) if state_file.exists() else None
        down = _heysh(env, tmp_path, "stack", "down")
    assert recorded is not None
    after = _heysh(env, tmp_path, "stack", "status")

    assert up.stdout.startswith(
        "started: temporal, worker-ai-processing, worker-storage, worker-general\n"
    )
    assert down.returncode == 0, down.stderr
    assert sorted(down.stdout.split()) == sorted(
        ["worker-ai-processing", "worker-storage", "worker-general", "temporal"]
        + ["stopped"] * 4
    )
    assert [p["name"] for p in recorded["processes"]] == [
        "temporal",
        "worker-ai-processing",
        "worker-storage",
        "worker-general",
    ]
    assert [is_running(p["pid"], p["start_time"]) for p in recorded["processes"]] == [
        False
    ] * 4
    assert after.returncode == 3
    assert after.stdout == "not running: nothing recorded in stack.json\n"


def _session(
    env: dict[str, str], cwd: Path, up_args: tuple[str, ...], ui_port: int
) -> None:
    # The UI answers, and a second up starts nothing.
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/", timeout=10) as page:
        assert page.status == 200
    again = _heysh(env, cwd, *up_args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("already running: nothing to start\n")

    # A domain whose every document goes to a human; a bad config is refused.
    created = _heysh(
        env,
        cwd,
        "domain",
        "create",
        "news",
        "--name",
        "World news",
        "--description",
        "International news and world politics.",
        "--controller",
        "ann",
        "--auto-approve",
        "off",
        "--auto-reject",
        "off",
    )
    assert created.returncode == 0, created.stderr
    assert "members:     ann (controller)\n" in created.stdout
    bad = _heysh(
        env,
        cwd,
        "domain",
        "create",
        "bad",
        "--description",
        "x",
        "--controller",
        "ann",
        "--auto-reject",
        "8",
    )
    _assert_one_line_error(
        bad,
        "invalid domain config: config: Value error, auto_reject_threshold "
        "(8.0) must be below relevance_threshold (7.0); lower auto_reject_threshold "
        "or raise relevance_threshold",
    )
    member = _heysh(env, cwd, "member", "add", "news", "carl", "--role", "contributor")
    assert member.stdout == "carl is contributor in news\n"

    # Submit a file and wait until it waits for ann.
    document = cwd / "ceasefire.txt"
    document.write_text(DOCUMENT)
    submitted = _heysh(
        env,
        cwd,
        "submit",
        str(document),
        "--domain",
        "news",
        "--user",
        "carl",
        "--wait",
    )
    assert submitted.returncode == 0, submitted.stderr
    doc_id = re.search(r"doc +([0-9a-f]{64})", submitted.stdout).group(1)  # type: ignore[union-attr]
    assert f"workflow review-news-{doc_id}\n" in submitted.stdout
    assert "  awaiting decision by ann (score " in submitted.stdout
    resubmitted = _heysh(
        env, cwd, "submit", str(document), "--domain", "news", "--user", "carl"
    )
    assert f"{document}: already submitted\n" in resubmitted.stdout

    # Visibility may lag a moment behind the assignment.
    pending = _heysh(env, cwd, "pending", "--controller", "ann")
    for _ in range(20):
        if doc_id in pending.stdout:
            break
        time.sleep(0.5)
        pending = _heysh(env, cwd, "pending", "--controller", "ann")
    assert pending.stdout == f"news  {doc_id}  ceasefire.txt\n"

    # The contributor votes but may not decide; the assigned controller decides.
    voted = _heysh(
        env, cwd, "vote", doc_id, "--domain", "news", "--user", "carl", "--approve"
    )
    assert voted.returncode == 0, voted.stderr
    assert voted.stdout == f"{doc_id}: vote by carl recorded; 1 for, 0 against\n"
    refused = _heysh(
        env,
        cwd,
        "decide",
        doc_id[:12],
        "--domain",
        "news",
        "--user",
        "carl",
        "--approve",
    )
    _assert_one_line_error(
        refused,
        "carl is a contributor in this domain; only the assigned "
        "controller (ann) or an admin may decide",
    )
    decided = _heysh(
        env,
        cwd,
        "decide",
        doc_id,
        "--domain",
        "news",
        "--user",
        "ann",
        "--approve",
        "--reason",
        "about diplomacy",
    )
    assert decided.returncode == 0, decided.stderr
    assert decided.stdout == f"{doc_id}: approved by ann\n"

    # The status shows the decision's provenance and the audit trail.
    status = _heysh(env, cwd, "status", doc_id, "--domain", "news")
    assert status.returncode == 0, status.stderr
    for line in (
        "state:      done",
        "model:      heysh-default-minilm-zero-shot builtin-1",
        "  reason:     about diplomacy",
        "  thresholds: auto_approve None, auto_reject None, relevance 7.0",
        "votes:      carl (contributor) approve",
    ):
        assert line + "\n" in status.stdout
    assert re.search(r"decision:   approved by ann at \d{4}-", status.stdout)
    assert "decide accepted (ann: approve)" in status.stdout
    assert "vote accepted (carl: approve)" in status.stdout
    assert "decide accepted (carl" not in status.stdout
    assert "record_review_decision completed" in status.stdout
    running = _heysh(env, cwd, "stack", "status")
    assert running.returncode == 0, running.stdout
