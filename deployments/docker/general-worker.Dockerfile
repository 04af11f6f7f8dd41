# syntax=docker/dockerfile:1
# heysh general worker: polls general-queue (controller assignment, notifications).
#
# Core package only: no torch, no model, no JupyterLab. Build from the repo root:
#   docker build -f deployments/docker/general-worker.Dockerfile -t heysh-general-worker .
# Versions equal deployments/versions.env (tests/deployments/test_versions.py).

ARG PYTHON_VERSION=3.11.17
ARG DEBIAN_RELEASE=trixie
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# --- build: a virtual environment in /opt/venv --------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
RUN uv venv /opt/venv --python /usr/local/bin/python3.11

# Dependencies first, in their own layer: it changes only with pyproject.toml.
COPY pyproject.toml ./
RUN uv pip compile pyproject.toml --extra general-worker -o /tmp/requirements.txt \
    && uv pip install --python /opt/venv/bin/python -r /tmp/requirements.txt

COPY heysh ./heysh
RUN uv pip install --python /opt/venv/bin/python --no-deps .

# --- runtime ------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE}
RUN groupadd --system --gid 10001 heysh \
    && useradd --system --uid 10001 --gid heysh --home-dir /var/lib/heysh \
       --create-home --shell /usr/sbin/nologin heysh
COPY --from=build /opt/venv /opt/venv
COPY deployments/docker/healthcheck.py /usr/local/lib/heysh/healthcheck.py

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HEYSH_HOME=/var/lib/heysh \
    HEYSH_LOG_FORMAT=json \
    HEYSH_HEALTH_PORT=8080 \
    WORKER_TYPES=general
WORKDIR /var/lib/heysh
# Numeric, so that Kubernetes runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/lib/heysh/healthcheck.py", "/health"]

# SIGTERM (docker stop, Kubernetes) starts the worker's graceful shutdown;
# exec form keeps heysh as PID 1 so it receives the signal.
STOPSIGNAL SIGTERM
ENTRYPOINT ["heysh", "worker"]
