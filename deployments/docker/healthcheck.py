"""Container health check: exit 0 when the worker's health endpoint answers 200.

Used by the worker images' HEALTHCHECK so that no image needs curl or wget.
Standard library only. The port comes from ``HEYSH_HEALTH_PORT`` (default
8080), like the worker's own; the path is ``/health`` unless given as the
first argument (``/ready`` checks readiness instead of liveness).

Exit status: 0 healthy, 1 unhealthy or unreachable (Docker's convention).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 4.0


def check_health(path: str = "/health", port: str | None = None) -> int:
    """Return 0 if ``http://127.0.0.1:<port><path>`` answers 200, else 1.

    Args:
        path: Endpoint to probe, ``/health`` (alive) or ``/ready`` (ready).
        port: Health port; defaults to ``HEYSH_HEALTH_PORT`` or 8080.

    Returns:
        The exit status for Docker: 0 healthy, 1 not.
    """
    port = port or os.environ.get("HEYSH_HEALTH_PORT", "8080")
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    except (urllib.error.URLError, OSError) as err:
        sys.stderr.write(f"healthcheck: {url} unreachable: {err}\n")
        return 1
    if status != 200:
        sys.stderr.write(f"healthcheck: {url} answered {status}, expected 200\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(check_health(*sys.argv[1:2]))
