"""Stop a running notebook from another thread: interrupt it, then kill it.

papermill executes cells on its own event loop and offers no way to stop it
from outside. Every kernel it starts through :meth:`KernelStopper.manager_class`
is remembered. When the stop event is set, the kernel's process group gets
SIGINT, as Jupyter's interrupt button sends: the running cell raises
``KeyboardInterrupt``, so ``with`` blocks close what they opened (an MLflow run
ends FAILED instead of staying RUNNING) and papermill fails the cell. A
kernel still running ``grace_s`` later (a cell that ignores SIGINT) gets
SIGKILL. Every process seen below the kernel while stopping (found through
their parents, so also those in a session of their own) is killed once
papermill returns. A process that detached completely (double fork to init)
before the stop cannot be found.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from types import TracebackType
from typing import Any

import psutil

_logger = logging.getLogger(__name__)

# How often the watcher looks at the stop event; a cancel is noticed this late.
_POLL_S = 0.2


class KernelStopper:
    """Stops the kernels started for one papermill call once ``stop`` is set.

    Use as a context manager around ``papermill.execute_notebook`` and pass
    ``kernel_manager_class=stopper.manager_class()``.

    Args:
        stop: Set by another thread to stop the notebook.
        grace_s: Seconds between the interrupt and SIGKILL.
    """

    def __init__(self, stop: threading.Event, grace_s: float = 10.0) -> None:
        self._stop = stop
        self._grace_s = grace_s
        self._managers: list[Any] = []
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, name="heysh-kernel-stopper", daemon=True
        )
        self._interrupted_at: dict[int, float] = {}
        self._killed_groups: set[int] = set()
        # Kernels and their descendants seen while stopping, by pid; psutil
        # refuses to signal a pid that was reused since.
        self._seen: dict[int, psutil.Process] = {}

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
        if self._stop.is_set():
            self._kill_leftovers()

    def _watch(self) -> None:
        # Keep at it until papermill returns: a kernel may still be starting
        # when the stop comes, and an interrupted one may not stop.
        while not self._finished.wait(_POLL_S):
            if self._stop.is_set():
                self._stop_kernels()

    def _kernel_groups(self) -> list[int]:
        with self._lock:
            managers = list(self._managers)
        groups = []
        for manager in managers:
            provisioner = getattr(manager, "provisioner", None)
            pgid = getattr(provisioner, "pgid", None) or getattr(
                provisioner, "pid", None
            )
            if pgid:  # None: not started yet
                groups.append(int(pgid))
        return groups

    def _stop_kernels(self) -> None:
        now = time.monotonic()
        for pgid in self._kernel_groups():
            if pgid in self._killed_groups:
                continue
            self._remember(pgid)
            if pgid not in self._interrupted_at:
                self._interrupted_at[pgid] = now
                _signal_group(pgid, signal.SIGINT)
                _logger.warning("notebook_kernel_interrupted", extra={"pgid": pgid})
            elif now - self._interrupted_at[pgid] >= self._grace_s:
                self._killed_groups.add(pgid)
                _signal_group(pgid, signal.SIGKILL)
                self._kill_leftovers()
                _logger.warning(
                    "notebook_kernel_killed",
                    extra={"pgid": pgid, "grace_s": self._grace_s},
                )

    def _remember(self, pid: int) -> None:
        """Note the kernel and every process below it, while they hang there."""
        try:
            kernel = psutil.Process(pid)
            found = [kernel, *kernel.children(recursive=True)]
        except psutil.Error:
            return  # the kernel is gone
        for process in found:
            self._seen.setdefault(process.pid, process)

    def _kill_leftovers(self) -> None:
        killed = 0
        for process in self._seen.values():
            with contextlib.suppress(psutil.Error):
                if process.is_running():
                    process.kill()
                    killed += 1
        if killed:
            _logger.warning("notebook_processes_killed", extra={"count": killed})


def _signal_group(pgid: int, signum: int) -> None:
    # Already gone is fine: the notebook ended as we stopped it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
