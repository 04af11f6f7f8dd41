"""``python -m heysh.worker``: run the workers of ``WORKER_TYPES`` until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import sys

from heysh.config import load_settings
from heysh.errors import ConfigError, HeyshError
from heysh.logging_setup import setup_logging
from heysh.worker.runner import run_workers

# Testing only: "activity=seconds[,activity=seconds]" pauses the named storage
# activities (and score_document_batch of scoring jobs) right after their
# write, so a test can kill the worker there.
PAUSE_VARIABLE = "HEYSH_TEST_PAUSE_AFTER_WRITE"


def parse_pauses(value: str) -> dict[str, float]:
    """Parse ``HEYSH_TEST_PAUSE_AFTER_WRITE``.

    >>> parse_pauses("index_to_weaviate=30")
    {'index_to_weaviate': 30.0}
    """
    pauses: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, seconds = item.partition("=")
        try:
            pauses[name.strip()] = float(seconds)
        except ValueError:
            raise ConfigError(
                f"{PAUSE_VARIABLE}: {item!r} is not activity=seconds"
            ) from None
    return pauses


def main() -> int:
    """Run the workers; return 0 after a graceful shutdown, 1 on failure."""
    setup_logging()
    try:
        settings = load_settings()
        pauses = parse_pauses(os.environ.get(PAUSE_VARIABLE, ""))
        asyncio.run(run_workers(settings, pause_after_write_s=pauses))
    except HeyshError as err:
        sys.stderr.write(f"heysh worker: error: {err}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
