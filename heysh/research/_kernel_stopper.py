"""Stop a running notebook from another thread by killing its kernel.

papermill executes cells on its own event loop and offers no way to stop it
from outside. Every kernel it starts through :meth:`KernelStopper.manager_class`
is remembered; when the stop event is set, the kernel's descendants (found
through their parents, so also those that started a session of their own) and
its process group (jupyter_client launches kernels in a new session) get
SIGKILL, and nbclient then fails the cell with a dead kernel. A process that
detached completely (double fork to init) before the stop cannot be found.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from types import TracebackType
from typing import Any

import psutil

_logger = logging.getLogger(__name__)

# How often the watcher looks at the stop event; a cancel is noticed this late.
_POLL_S = 0.2


class KernelStopper:
    """Kills the kernels started for one papermill call once ``stop`` is set.

    Use as a context manager around ``papermill.execute_notebook`` and pass
    ``kernel_manager_class=stopper.manager_class()``.

    Args:
        stop: Set by another thread to stop the notebook.
    """

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._managers: list[Any] = []
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, name="heysh-kernel-stopper", daemon=True
        )
        self._killed_groups: set[int] = set()

    def manager_class(self) -> type:
        """An ``AsyncKernelManager`` subclass that reports each instance here."""
        from jupyter_client.manager import AsyncKernelManager

        stopper = self

        class _StoppableKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                with stopper._lock:
                    stopper._managers.append(self)

        return _StoppableKernelManager

    def __enter__(self) -> KernelStopper:
        self._watcher.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._finished.set()
        self._watcher.join()

    def _watch(self) -> None:
        # Keep killing until papermill returns: a kernel may still be starting
        # when the stop comes.
        while not self._finished.wait(_POLL_S):
            if self._stop.is_set():
                self._kill_kernels()

    def _kill_kernels(self) -> None:
        with self._lock:
            managers = list(self._managers)
        for manager in managers:
            provisioner = getattr(manager, "provisioner", None)
            pgid = getattr(provisioner, "pgid", None) or getattr(
                provisioner, "pid", None
            )
            if not pgid or pgid in self._killed_groups:
                continue  # not started yet, or done
            self._killed_groups.add(pgid)
            # Descendants first, while they still hang under the kernel.
            descendants = _descendants(pgid)
            # Already gone is fine: the notebook ended as we killed it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            for child in descendants:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            _logger.warning(
                "notebook_kernel_killed",
                extra={"pgid": pgid, "descendants": len(descendants)},
            )


def _descendants(pid: int) -> list[psutil.Process]:
    """Every live process below ``pid``, however deep; none if it is gone."""
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []
