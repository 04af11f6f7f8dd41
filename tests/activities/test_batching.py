"""MicroBatcher: concurrent items become few calls; failures reach every caller."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from heysh.activities.batching import MicroBatcher


def test_micro_batcher_groups_concurrent_items_into_one_call() -> None:
    """Items submitted together are processed in one call, results in order."""
    calls: list[list[int]] = []
    batcher = MicroBatcher(
        lambda items: calls.append(items) or [i * 10 for i in items],
        max_batch=64,
        max_wait_s=0.02,
    )

    async def submit_all() -> list[int]:
        return await asyncio.gather(*(batcher.submit(i) for i in range(25)))

    results = asyncio.run(submit_all())

    assert results == [i * 10 for i in range(25)]
    assert calls == [list(range(25))]
    assert batcher.mean_batch_size == 25.0


def test_micro_batcher_waits_for_items_arriving_shortly_after() -> None:
    """Items arriving a few milliseconds apart, within max_wait_s, share one call."""
    calls: list[list[int]] = []
    batcher = MicroBatcher(
        lambda items: calls.append(items) or items, max_batch=64, max_wait_s=0.2
    )

    async def trickle() -> list[int]:
        tasks = []
        for i in range(5):
            tasks.append(asyncio.create_task(batcher.submit(i)))
            await asyncio.sleep(0.01)
        return await asyncio.gather(*tasks)

    results = asyncio.run(trickle())

    assert results == [0, 1, 2, 3, 4]
    assert calls == [[0, 1, 2, 3, 4]]


def test_micro_batcher_respects_max_batch() -> None:
    """No call receives more than max_batch items."""
    calls: list[int] = []

    def process(items: list[int]) -> list[int]:
        calls.append(len(items))
        return items

    batcher = MicroBatcher(process, max_batch=8, max_wait_s=0.01)

    async def submit_all() -> list[int]:
        return await asyncio.gather(*(batcher.submit(i) for i in range(20)))

    results = asyncio.run(submit_all())

    assert results == list(range(20))
    assert calls == [8, 8, 4]


def test_micro_batcher_fills_next_batch_while_model_is_busy() -> None:
    """Items arriving during a slow call are processed together in the next call."""
    calls: list[list[int]] = []
    started = threading.Event()

    def slow(items: list[int]) -> list[int]:
        calls.append(items)
        started.set()
        time.sleep(0.3)
        return items

    batcher = MicroBatcher(slow, max_batch=64, max_wait_s=0.0)

    async def scenario() -> list[int]:
        first = asyncio.create_task(batcher.submit(0))
        while not started.is_set():
            await asyncio.sleep(0.01)
        later = [asyncio.create_task(batcher.submit(i)) for i in range(1, 11)]
        return await asyncio.gather(first, *later)

    results = asyncio.run(scenario())

    assert results == list(range(11))
    assert calls == [[0], list(range(1, 11))]


def test_micro_batcher_failure_reaches_every_item_of_the_batch() -> None:
    """An exception in the call fails each waiting caller with that exception."""

    def boom(items: list[int]) -> list[int]:
        raise OSError("model server gone")

    batcher = MicroBatcher(boom, max_batch=4, max_wait_s=0.01)

    async def submit_all() -> list[object]:
        return await asyncio.gather(
            *(batcher.submit(i) for i in range(3)), return_exceptions=True
        )

    results = asyncio.run(submit_all())

    assert [str(r) for r in results] == ["model server gone"] * 3


def test_micro_batcher_rejects_wrong_result_count() -> None:
    """A process function that returns too few results fails the batch clearly."""
    batcher = MicroBatcher(lambda items: items[:-1], max_batch=4, max_wait_s=0.01)

    async def submit_two() -> list[int]:
        return await asyncio.gather(batcher.submit(1), batcher.submit(2))

    with pytest.raises(RuntimeError, match="process returned 1 results for 2 items"):
        asyncio.run(submit_two())
