"""The worker's HTTP endpoints: ``/health``, ``/ready`` and ``/metrics``.

Served by the standard library's ``ThreadingHTTPServer`` on a daemon thread,
so a busy event loop cannot make liveness probes time out.

* ``/health``: liveness, 200 while the process runs.
* ``/ready``: readiness, 200 when Temporal answers and (for the AI worker) a
  model is loaded; 503 with a JSON body naming every failed check otherwise.
* ``/metrics``: Prometheus text: heysh's own metrics
  (:mod:`heysh.activities.metrics`) followed by the Temporal SDK's worker
  metrics, read from the SDK's exporter on an internal 127.0.0.1 port.

Why the SDK's Prometheus exporter rather than a ``MetricBuffer``: the exporter
renders counters, gauges and histograms in Prometheus text itself; a buffer
would need heysh to re-aggregate every update into that format.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from heysh.activities.metrics import REGISTRY

_logger = logging.getLogger(__name__)

# (ready, {check: reason}) where reasons of passing checks are "ok".
ReadinessCheck = Callable[[], tuple[bool, dict[str, str]]]


class HealthServer:
    """Serves health, readiness and metrics on ``host:port`` from a thread.

    Args:
        host: Interface to bind (``0.0.0.0`` in containers).
        port: Port; 0 picks a free one (see :attr:`port`).
        readiness: Called per ``/ready`` request from the server thread.
        sdk_metrics_url: The Temporal SDK exporter's URL, or None.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        readiness: ReadinessCheck,
        sdk_metrics_url: str | None,
    ) -> None:
        self._readiness = readiness
        self._sdk_metrics_url = sdk_metrics_url
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="heysh-health", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()
        _logger.info("health_server_started", extra={"port": self.port})

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def metrics_text(self) -> bytes:
        """heysh's metrics plus the SDK's, as one Prometheus text document."""
        text = generate_latest(REGISTRY)
        if self._sdk_metrics_url is None:
            return text
        try:
            with urllib.request.urlopen(self._sdk_metrics_url, timeout=2) as response:
                sdk: bytes = response.read()
        except (urllib.error.URLError, OSError) as err:
            _logger.warning("sdk_metrics_unavailable", extra={"error": str(err)})
            return text
        return text + b"\n" + sdk

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/health":
                    self._send(200, "application/json", b'{"status": "alive"}')
                elif path == "/ready":
                    ready, checks = server._readiness()
                    body = json.dumps({"ready": ready, "checks": checks}).encode()
                    self._send(200 if ready else 503, "application/json", body)
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, server.metrics_text())
                else:
                    self._send(404, "application/json", b'{"error": "not found"}')

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                _logger.debug("health_request", extra={"request": format % args})

        return Handler
