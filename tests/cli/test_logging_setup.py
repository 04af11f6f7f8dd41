"""heysh's log handler follows sys.stderr instead of keeping a stale stream."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from heysh.logging_setup import setup_logging


@pytest.fixture
def restore_root_logger():
    """Put the root logger's handlers and level back after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_log_records_go_to_the_current_stderr_after_it_is_replaced(
    restore_root_logger, monkeypatch
):
    """A record after stderr was swapped and closed reaches the new stderr."""
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    setup_logging(json_format=False)
    logging.getLogger("heysh.test").info("before_swap")
    first.close()
    monkeypatch.setattr(sys, "stderr", second)

    logging.getLogger("heysh.test").info("after_swap", extra={"doc_id": "d1"})

    written = second.getvalue()
    assert "after_swap" in written
    assert "doc_id=d1" in written
    assert "Logging error" not in written
    assert "before_swap" not in written
