"""Running Temporal client calls from a ``heysh`` command.

A process that created a Temporal client may abort while the interpreter shuts
down (temporalio/sdk-python#300, open: the SDK's Rust threads touch the GIL
after Python tore it down). With temporalio 1.35 here, 5 to 7 of 10
short-lived processes that only connected aborted with "PyGILState_Release"
or a segfault. Commands that talk to Temporal are therefore wrapped in
:func:`temporal_command`: they leave with ``os._exit`` once output and logs are
flushed, with the status ``heysh.cli.main`` returned. Call them in a
subprocess in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from heysh.errors import HeyshError

T = TypeVar("T")

# The status the process ends with; set by the last wrapped command.
_exit_status: list[int] = []


def temporal_command(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Make a command that uses a Temporal client exit without interpreter teardown."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        if not _exit_status:
            atexit.register(_exit_without_teardown)
            _exit_status.append(1)
        try:
            code = int(handler(args) or 0)
        except KeyboardInterrupt:
            _exit_status[0] = 130
            raise
        except BaseException:
            _exit_status[0] = 1
            raise
        _exit_status[0] = code
        return code

    return wrapper


def _exit_without_teardown() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(_exit_status[0])


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, turning Temporal failures into one-line errors."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError

    try:
        return asyncio.run(coro)
    except RPCError as err:
        raise HeyshError(f"Temporal refused the request: {err.message}") from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise HeyshError(f"the review refused the update: {cause or err}") from err


async def connect() -> tuple[Any, Any]:
    """Load settings and connect to Temporal; return both."""
    from heysh.client import connect_client
    from heysh.config import load_settings

    settings = load_settings()
    return settings, await connect_client(settings)
