"""Micro-batching: concurrent requests are processed in one call in a thread.

A relevance model scores 64 documents in one call far faster than in 64
calls. The AI worker runs many ``assess_document_relevance`` activities at
once on one event loop; :class:`MicroBatcher` gathers the requests that
arrive while the model is busy (or within ``max_wait_s`` when it is idle) and
hands them to the model together. While one batch runs, the next one fills,
so batches grow with load without adding latency when the worker is quiet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

_logger = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


class MicroBatcher(Generic[ItemT, ResultT]):
    """Process items submitted concurrently in batches, one batch at a time.

    Args:
        process: Called in a worker thread with a batch; returns one result per
            item, in order. An exception fails every item of that batch.
        max_batch: Most items per call.
        max_wait_s: How long an idle batcher waits for more items before
            processing a batch that is not full.
        name: Used in log lines and the name of its thread.

    The batcher binds to the event loop of its first ``submit`` call.
    """

    def __init__(
        self,
        process: Callable[[list[ItemT]], Sequence[ResultT]],
        *,
        max_batch: int = 64,
        max_wait_s: float = 0.005,
        name: str = "batch",
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be at least 0, got {max_wait_s}")
        self._process = process
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._name = name
        # One thread of its own: a model call never queues behind other work
        # in the event loop's default executor, and calls never overlap.
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"heysh-{name}"
        )
        self._pending: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    async def submit(self, item: ItemT) -> ResultT:
        """Queue ``item`` and return its result once its batch is processed."""
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    def close(self) -> None:
        """Release the batcher's thread once the running call (if any) ends."""
        self._executor.shutdown(wait=False)

    @property
    def mean_batch_size(self) -> float:
        """Items per processed batch so far (0 before the first batch)."""
        return self.items / self.batches if self.batches else 0.0

    async def _drain(self) -> None:
        while self._pending:
            if len(self._pending) < self._max_batch and self._max_wait_s > 0:
                await asyncio.sleep(self._max_wait_s)
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            live = [(item, fut) for item, fut in batch if not fut.cancelled()]
            if not live:
                continue
            try:
                loop = asyncio.get_running_loop()
                results = await loop.run_in_executor(
                    self._executor, self._process, [i for i, _ in live]
                )
                if len(results) != len(live):
                    raise RuntimeError(
                        f"{self._name}: process returned {len(results)} results "
                        f"for {len(live)} items"
                    )
            except Exception as err:
                _logger.warning(
                    "batch_failed",
                    extra={
                        "batcher": self._name,
                        "items": len(live),
                        "error": repr(err),
                    },
                )
                for _, future in live:
                    if not future.done():
                        future.set_exception(err)
                continue
            self.batches += 1
            self.items += len(live)
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)
