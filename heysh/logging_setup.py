"""Configure logging once, in entry points: key-value text or JSON lines."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

# Attributes every LogRecord has; anything else was passed through ``extra``.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class KeyValueFormatter(logging.Formatter):
    """``time level logger event key=value ...`` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        pairs = " ".join(
            f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}"
            for k, v in _fields(record).items()
        )
        line = (
            f"{self.formatTime(record, '%H:%M:%S')} {record.levelname.lower():7} "
            f"{record.name} {record.getMessage()}"
        )
        if pairs:
            line = f"{line} {pairs}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for deployments that ship logs."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record is emitted.

    A handler holding the stream it was created with keeps writing to it after
    the program replaces ``sys.stderr`` (a test runner's capture, a notebook
    kernel) and fails with "I/O operation on closed file" once that stream is
    closed; the standard library's last-resort handler looks it up the same way.
    """

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # always the current sys.stderr


def setup_logging(level: int = logging.INFO, json_format: bool | None = None) -> None:
    """Install one stderr handler on the root logger.

    Args:
        level: Root level; noisy third-party loggers stay at WARNING.
        json_format: JSON lines if true; defaults to ``HEYSH_LOG_FORMAT=json``.
    """
    if json_format is None:
        json_format = os.environ.get("HEYSH_LOG_FORMAT", "text").lower() == "json"
    handler = _CurrentStderrHandler()
    handler.setFormatter(JsonFormatter() if json_format else KeyValueFormatter())
    # MLflow configures its own handler whenever it is imported; this keeps its
    # INFO chatter out of heysh's output.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in (
        "mlflow",
        "alembic",
        "urllib3",
        "httpx",
        "httpcore",
        "temporalio",
        "sentence_transformers",
        "transformers",
        "papermill",
        "filelock",
        "datasets",
        "matplotlib",
        "numexpr",
    ):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
