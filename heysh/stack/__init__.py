"""The embedded local stack: Temporal dev server and one worker per type, on 127.0.0.1.

``heysh stack up`` calls :func:`start_stack`, ``heysh stack down``
:func:`stop_stack` and ``heysh stack status`` :func:`stack_status`. Files
live under ``HEYSH_HOME`` (see :mod:`heysh.stack.state`).

The names below are imported on first use, not with the package: the
Temporal sandbox re-imports ``heysh.stack.yardstick``, and with it this
package, for every yardstick workflow run, so this file must stay cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ComponentStatus": "heysh.stack.launcher",
    "StackOptions": "heysh.stack.launcher",
    "StackReport": "heysh.stack.launcher",
    "stack_status": "heysh.stack.launcher",
    "start_stack": "heysh.stack.launcher",
    "stop_stack": "heysh.stack.launcher",
    "StackPaths": "heysh.stack.state",
    "StackState": "heysh.stack.state",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'heysh.stack' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
