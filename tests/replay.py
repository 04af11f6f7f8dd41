"""Load committed workflow histories and replay them against today's code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer


def load_histories(folder: Path, pattern: str = "*.json") -> list[WorkflowHistory]:
    """Every history in ``folder`` matching ``pattern``, by file name; id = stem."""
    return [
        WorkflowHistory.from_json(path.stem, path.read_text())
        for path in sorted(folder.glob(pattern))
    ]


def replay_failures(
    workflows: list[type], histories: list[WorkflowHistory]
) -> dict[str, Exception]:
    """Replay ``histories`` with ``workflows``; return failures by workflow id."""

    async def stream() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    async def replay() -> dict[str, Exception]:
        results = await Replayer(workflows=workflows).replay_workflows(
            stream(), raise_on_replay_failure=False
        )
        return dict(results.replay_failures)

    return asyncio.run(replay())
