"""Run Temporal workers for the configured ``WORKER_TYPES`` in one process.

One ``temporalio`` Worker per type, each polling its own task queue with its
own concurrency limits:

* ``ai-processing``: relevance, topics, summaries, agent tasks (async
  activities; concurrent model calls are micro-batched), and the batches of
  scoring jobs;
* ``storage``: metadata, decisions, votes, audits, vector index, graph,
  archive (sync activities on a thread pool);
* ``general``: the review, scoring-job and pipeline-run workflows, controller
  assignment, notifications, and the notebook pipelines that schedules run.

Each type opens only the stores it needs, so three worker processes on one
machine do not contend for an embedded database's lock. A ``HealthServer``
serves ``/health``, ``/ready`` and ``/metrics``. On SIGTERM (or SIGINT) the
workers stop polling, give in-flight activities ``HEYSH_WORKER_SHUTDOWN_GRACE_S``
seconds to finish, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from heysh.activities.general import GeneralActivities, MessageSender
from heysh.config import Settings
from heysh.constants import QUEUE_BY_WORKER_TYPE
from heysh.errors import HeyshError
from heysh.worker.health import HealthServer

_logger = logging.getLogger(__name__)

AI, STORAGE, GENERAL = "ai-processing", "storage", "general"

# Which stores each worker type opens.
_STORES_BY_TYPE: dict[str, tuple[str, ...]] = {
    AI: ("blobs",),
    STORAGE: ("metadata", "vectors", "graph", "blobs", "archive"),
    GENERAL: ("metadata",),
}


@dataclass
class _OpenedStores:
    """The stores this process opened (or was given), by kind."""

    by_kind: dict[str, Any] = field(default_factory=dict)
    owned: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for store in reversed(self.owned):
            close = getattr(store, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    _logger.exception(
                        "store_close_failed", extra={"store": type(store).__name__}
                    )


class WorkerStack:
    """The workers, health server and model watcher of one worker process.

    Args:
        settings: Worker types, Temporal address, limits, ports, store URLs.
        stores: Already opened stores (an object with ``metadata``,
            ``vectors``, ``graph``, ``blobs``, ``archive``), used as given and
            not closed; None opens what the worker types need from settings.
        encoder: The AI worker's text encoder; None builds the bundled MiniLM.
        model_source: The AI worker's model source; None follows the registry
            alias of ``settings``.
        send: The general worker's notification sender; None uses the
            channel configured per domain (see :mod:`heysh.worker.notify`).
        pause_after_write_s: Testing only; see ``StorageActivities`` and
            ``ScoringJobActivities``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        stores: Any = None,
        encoder: Any = None,
        model_source: Any = None,
        send: MessageSender | None = None,
        pause_after_write_s: Mapping[str, float] | None = None,
    ) -> None:
        self.settings = settings
        self.types = settings.worker_type_list
        self._given_stores = stores
        self._encoder = encoder
        self.model_source = model_source
        self._send = send
        self._pause_after_write_s = pause_after_write_s
        self._stores = _OpenedStores()
        self._executors: list[concurrent.futures.ThreadPoolExecutor] = []
        self.workers: dict[str, Worker] = {}
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._watch_stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._started = False
        self.client: Client | None = None
        self.health: HealthServer | None = None
        self.activity_objects: dict[str, Any] = {}

    @property
    def health_port(self) -> int:
        """The port ``/health``, ``/ready`` and ``/metrics`` are served on."""
        if self.health is None:
            raise HeyshError("the worker's health server has not started")
        return self.health.port

    async def start(self) -> None:
        """Connect, open stores, load the model and start polling.

        Raises:
            ConfigError: Temporal or a store cannot be reached, or the review
                workflow's search attributes cannot be registered.
        """
        from heysh.client import connect_client, ensure_search_attributes

        self._loop = asyncio.get_running_loop()
        metrics_port = self.settings.temporal_metrics_port or _free_port()
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"127.0.0.1:{metrics_port}")
            )
        )
        self.health = HealthServer(
            self.settings.health_host,
            self.settings.health_port,
            readiness=self._readiness,
            sdk_metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
        )
        self.health.start()
        self.client = await connect_client(self.settings, runtime=runtime)
        await asyncio.to_thread(self._open_stores)
        if GENERAL in self.types:
            await ensure_search_attributes(self.client)
        for worker_type in self.types:
            self.workers[worker_type] = await self._build_worker(worker_type)
        for worker_type, worker in self.workers.items():
            self._runs[worker_type] = asyncio.create_task(
                worker.run(), name=f"heysh-worker-{worker_type}"
            )
        self._started = True
        _logger.info(
            "workers_started",
            extra={
                "types": ",".join(self.types),
                "health_port": self.health.port,
                "suffix": self.settings.task_queue_suffix,
            },
        )

    async def wait(self, stop: asyncio.Event) -> None:
        """Return when ``stop`` is set; raise if a worker stopped by itself.

        Raises:
            HeyshError: naming the worker type that failed.
        """
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait(
                [stopper, *self._runs.values()], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopper.cancel()
        for worker_type, run in self._runs.items():
            if run in done:
                error = run.exception()
                raise HeyshError(
                    f"the {worker_type} worker stopped unexpectedly: {error!r}"
                ) from error

    async def shutdown(self) -> None:
        """Stop polling, let in-flight activities finish (grace period), close."""
        if self._stopping:
            return
        self._stopping = True
        _logger.info(
            "workers_stopping", extra={"grace_s": self.settings.worker_shutdown_grace_s}
        )
        self._watch_stop.set()
        if self.workers:
            await asyncio.gather(
                *(w.shutdown() for w in self.workers.values() if w.is_running),
                return_exceptions=True,
            )
        if self._runs:
            await asyncio.gather(*self._runs.values(), return_exceptions=True)
        if self._watcher is not None:
            await asyncio.gather(self._watcher, return_exceptions=True)
        for executor in self._executors:
            executor.shutdown(wait=True)
        for activities in self.activity_objects.values():
            close = getattr(activities, "close", None)
            if close is not None:
                close()
        await asyncio.to_thread(self._stores.close)
        if self.health is not None:
            self.health.stop()
        _logger.info("workers_stopped", extra={"types": ",".join(self.types)})

    async def __aenter__(self) -> WorkerStack:
        try:
            await self.start()
        except BaseException:
            await self.shutdown()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # --- building ---------------------------------------------------------------

    def _open_stores(self) -> None:
        kinds = sorted({k for t in self.types for k in _STORES_BY_TYPE[t]})
        if self._given_stores is not None:
            self._stores.by_kind = {k: getattr(self._given_stores, k) for k in kinds}
            return
        from heysh.stores import factory

        urls = factory.store_urls(self.settings)
        openers: dict[str, Callable[[str], Any]] = {
            "metadata": factory.open_metadata_store,
            "vectors": factory.open_vector_index,
            "graph": factory.open_knowledge_graph,
            "blobs": factory.open_blob_store,
            "archive": factory.open_archive,
        }
        try:
            for kind in kinds:
                store = openers[kind](getattr(urls, kind))
                self._stores.by_kind[kind] = store
                self._stores.owned.append(store)
        except BaseException:
            self._stores.close()
            raise

    async def _build_worker(self, worker_type: str) -> Worker:
        settings = self.settings
        queue = QUEUE_BY_WORKER_TYPE[worker_type] + settings.task_queue_suffix
        grace = timedelta(seconds=settings.worker_shutdown_grace_s)
        if self.client is None:
            raise HeyshError("connect to Temporal before building workers")
        if worker_type == AI:
            activities = await self._ai_activities()
            return Worker(
                self.client,
                task_queue=queue,
                activities=[
                    *activities.activities(),
                    *self._scoring_job_activities().activities(),
                ],
                max_concurrent_activities=settings.ai_max_concurrent_activities,
                graceful_shutdown_timeout=grace,
            )
        if worker_type == STORAGE:
            limit = settings.storage_max_concurrent_activities
            storage = self._storage_activities()
            return Worker(
                self.client,
                task_queue=queue,
                activities=storage.activities(),
                activity_executor=self._executor(limit, worker_type),
                max_concurrent_activities=limit,
                graceful_shutdown_timeout=grace,
            )
        from heysh.activities.pipelines import PipelineActivities
        from heysh.workflows.pipeline_run import PipelineRunWorkflow
        from heysh.workflows.review import DocumentReviewWorkflow
        from heysh.workflows.scoring_job import ScoringJobWorkflow

        limit = settings.general_max_concurrent_activities
        general = GeneralActivities(
            metadata=self._stores.by_kind["metadata"], send=self._sender()
        )
        self.activity_objects[GENERAL] = general
        return Worker(
            self.client,
            task_queue=queue,
            workflows=[DocumentReviewWorkflow, PipelineRunWorkflow, ScoringJobWorkflow],
            activities=[
                *general.activities(),
                *PipelineActivities(settings=settings).activities(),
            ],
            activity_executor=self._executor(limit, worker_type),
            max_concurrent_activities=limit,
            max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
            graceful_shutdown_timeout=grace,
        )

    async def _ai_activities(self) -> Any:
        from heysh.activities.ai import AiActivities

        if self._encoder is None:
            from heysh.models.embeddings import SentenceEncoder

            self._encoder = SentenceEncoder()
        if self.model_source is None:
            from heysh.worker.model_source import ModelSource, RegistryModelLoader

            self.model_source = ModelSource(
                encoder=self._encoder,
                loader=RegistryModelLoader(self.settings.tracking_uri),
                model_name=self.settings.registered_model_name,
                alias=self.settings.model_alias,
            )
        await asyncio.to_thread(self.model_source.load)
        if hasattr(self.model_source, "watch"):
            self._watcher = asyncio.create_task(
                self.model_source.watch(self.settings.model_refresh_s, self._watch_stop)
            )
        activities = AiActivities(
            blobs=self._stores.by_kind["blobs"],
            models=self.model_source,
            encoder=self._encoder,
            batch_max_size=self.settings.model_batch_max_size,
            batch_wait_s=self.settings.model_batch_wait_ms / 1000.0,
            llm_factory=self._llm_factory,
        )
        self.activity_objects[AI] = activities
        return activities

    def _scoring_job_activities(self) -> Any:
        """Large scoring jobs' activities, on the AI worker's model source."""
        from heysh.activities.contracts import SCORE_DOCUMENT_BATCH
        from heysh.activities.scoring_job import ScoringJobActivities

        pauses = self._pause_after_write_s or {}
        jobs = ScoringJobActivities(
            models=self.model_source,
            chunk_size=self.settings.model_batch_max_size,
            pause_after_write_s=pauses.get(SCORE_DOCUMENT_BATCH, 0.0),
        )
        self.activity_objects["scoring-job"] = jobs
        return jobs

    def _llm_factory(self, model: str) -> Any:
        try:
            from heysh.models.llm_client import configured_llm_client
        except ModuleNotFoundError:
            return None
        return configured_llm_client(self.settings, model=model)

    def _storage_activities(self) -> Any:
        from heysh.activities.storage import StorageActivities

        stores = self._stores.by_kind
        storage = StorageActivities(
            metadata=stores["metadata"],
            vectors=stores["vectors"],
            graph=stores["graph"],
            blobs=stores["blobs"],
            archive=stores["archive"],
            max_document_bytes=self.settings.max_document_bytes,
            pause_after_write_s=self._pause_after_write_s,
        )
        self.activity_objects[STORAGE] = storage
        return storage

    def _sender(self) -> MessageSender:
        if self._send is not None:
            return self._send
        from heysh.worker.notify import DomainChannelSender

        return DomainChannelSender()

    def _executor(self, limit: int, name: str) -> concurrent.futures.ThreadPoolExecutor:
        executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=limit, thread_name_prefix=f"heysh-{name}"
        )
        self._executors.append(executor)
        return executor

    # --- readiness --------------------------------------------------------------

    def _readiness(self) -> tuple[bool, dict[str, str]]:
        """Run the readiness checks on the worker's loop (called from a thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False, {"worker": "event loop not running"}
        future = asyncio.run_coroutine_threadsafe(self._check_ready(), loop)
        try:
            return future.result(timeout=5)
        except (concurrent.futures.TimeoutError, RuntimeError) as err:
            future.cancel()
            return False, {"worker": f"readiness check did not finish: {err!r}"}

    async def _check_ready(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, str] = {}
        if self._stopping:
            checks["worker"] = "shutting down"
        elif not self._started:
            checks["worker"] = "starting"
        else:
            stopped = [t for t, run in self._runs.items() if run.done()]
            checks["worker"] = f"stopped: {', '.join(stopped)}" if stopped else "ok"
        checks["temporal"] = await self._temporal_check()
        if AI in self.types:
            loaded = self.model_source is not None and self.model_source.is_loaded
            checks["model"] = "ok" if loaded else "no model loaded yet"
        return all(v == "ok" for v in checks.values()), checks

    async def _temporal_check(self) -> str:
        if self.client is None:
            return "not connected yet"
        try:
            healthy = await self.client.service_client.check_health(
                timeout=timedelta(seconds=2)
            )
        except Exception as err:
            return f"unreachable: {type(err).__name__}: {err}"
        return "ok" if healthy else "health check returned not serving"


async def run_workers(
    settings: Settings, *, stop: asyncio.Event | None = None, **dependencies: Any
) -> None:
    """Run the workers of ``settings.worker_types`` until SIGTERM, SIGINT or ``stop``.

    Args:
        settings: See :class:`WorkerStack`.
        stop: Set it to shut down as on SIGTERM; None makes a new event.
        **dependencies: Passed to :class:`WorkerStack` (stores, encoder,
            model_source, send, pause_after_write_s).

    Raises:
        HeyshError: if start-up fails or a worker stops by itself.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    stack = WorkerStack(settings, **dependencies)
    try:
        await stack.start()
        await stack.wait(stop)
    finally:
        await stack.shutdown()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
