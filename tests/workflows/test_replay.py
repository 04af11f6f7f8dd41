"""Replay the committed review histories against the current workflow code.

A change to ``DocumentReviewWorkflow`` that would break running reviews (a
step added, removed or reordered without versioning) fails here. Record new
histories with ``HEYSH_RECORD_HISTORIES=1 pytest tests/workflows/test_review.py``
after a deliberate, versioned change.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

from temporalio import workflow

from heysh.workflows.review import (
    AUDIT_SAMPLING_PATCH,
    WORKFLOW_NAME,
    DocumentReviewWorkflow,
    ReviewInput,
)
from tests.replay import load_histories, replay_failures

HISTORIES = Path(__file__).parent / "histories"


@workflow.defn(name=WORKFLOW_NAME)
class _ReorderedReviewWorkflow:
    """The review with its first step changed: what an unversioned edit does."""

    @workflow.run
    async def run(self, review: ReviewInput) -> None:
        await workflow.execute_activity(
            "assess_document_relevance",
            review,
            start_to_close_timeout=timedelta(seconds=10),
        )


def test_replay_committed_histories_replay_without_nondeterminism() -> None:
    """Every committed history replays on the current workflow code."""
    histories = load_histories(HISTORIES, "*.json")

    failures = replay_failures([DocumentReviewWorkflow], histories)

    assert len(histories) == 8
    assert failures == {}


def test_replay_reordered_workflow_fails_on_committed_history() -> None:
    """A workflow whose steps differ from the history is caught by replay."""
    histories = load_histories(HISTORIES, "*.json")[:1]

    failures = replay_failures([_ReorderedReviewWorkflow], histories)

    assert len(failures) == 1
    failure = next(iter(failures.values()))
    assert isinstance(failure, workflow.NondeterminismError)
    assert "scheduled event 'store_document_metadata' does not match" in str(failure)


def patch_ids(name: str) -> set[str]:
    """The ids of the version markers (``workflow.patched``) in a history."""
    events = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    ids = set()
    for event in events:
        marker = event.get("markerRecordedEventAttributes", {})
        for payload in (
            marker.get("details", {}).get("patch-data", {}).get("payloads", [])
        ):
            ids.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return ids


def test_replay_audited_history_records_audit_step_behind_its_patch() -> None:
    """Only the audited review's history holds the patch marker and request_audit."""
    text = (HISTORIES / "auto_reject_audited.json").read_text()

    assert patch_ids("auto_reject_audited") == {AUDIT_SAMPLING_PATCH}
    assert '"request_audit"' in text
    assert all(
        patch_ids(name) == set()
        for name in ("auto_reject", "auto_approve", "ai_controller")
    )
