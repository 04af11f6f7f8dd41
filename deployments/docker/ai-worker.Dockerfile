# syntax=docker/dockerfile:1
# heysh AI worker: polls ai-processing-queue (relevance scoring, topics,
# summaries, LLM judge). Loads the model the MLflow registry alias points to.
#
# Build from the repo root:
#   docker build -f deployments/docker/ai-worker.Dockerfile -t heysh-ai-worker .
# Versions equal deployments/versions.env (tests/deployments/test_versions.py).
#
# Base: nvidia/cuda "base" flavour (CUDA driver-compatibility settings for the
# NVIDIA container toolkit, no CUDA libraries). The PyPI torch wheel brings its
# own CUDA and cuDNN libraries, so the larger "runtime" flavour would only add
# a second copy. Its CUDA version must be no newer than the torch wheel's and
# no newer than the GPU driver supports (CUDA 13 needs driver 580 or later);
# for an older driver, build with TORCH_INDEX_URL pointing at a CUDA 12 wheel
# index (docs/deployment.md, "No GPU").

ARG CUDA_VERSION=13.0.1
ARG UBUNTU_RELEASE=24.04
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# --- build: Python 3.11 and a virtual environment in /opt ----------------------
FROM nvidia/cuda:${CUDA_VERSION}-base-ubuntu${UBUNTU_RELEASE} AS build
ARG PYTHON_VERSION=3.11.17
ARG TORCH_INDEX_URL=https://pypi.org/simple
COPY --from=uv /uv /usr/local/bin/uv
# Ubuntu 24.04 ships Python 3.12; uv installs a standalone CPython 3.11.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_INSTALL_DIR=/opt/python \
    UV_PYTHON_PREFERENCE=only-managed
WORKDIR /src
RUN uv python install "${PYTHON_VERSION}" \
    && uv venv /opt/venv --python "${PYTHON_VERSION}"

# torch (with its CUDA libraries, several GB) in its own layer, then the other
# dependencies: both change only with pyproject.toml or the build arguments.
COPY pyproject.toml ./
RUN uv pip compile pyproject.toml --extra ai-worker --no-emit-package torch \
       -o /tmp/requirements.txt \
    && uv pip install --python /opt/venv/bin/python --index-url "${TORCH_INDEX_URL}" \
       "torch>=2.3" \
    && uv pip install --python /opt/venv/bin/python -r /tmp/requirements.txt

COPY heysh ./heysh
RUN uv pip install --python /opt/venv/bin/python --no-deps .

# --- runtime ------------------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-base-ubuntu${UBUNTU_RELEASE}
RUN groupadd --system --gid 10001 heysh \
    && useradd --system --uid 10001 --gid heysh --home-dir /var/lib/heysh \
       --create-home --shell /usr/sbin/nologin heysh
COPY --from=build /opt/python /opt/python
COPY --from=build /opt/venv /opt/venv
COPY deployments/docker/healthcheck.py /usr/local/lib/heysh/healthcheck.py

# Models come from the MLflow registry (and the MiniLM weights packaged with
# heysh), never from the Hugging Face hub at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HEYSH_HOME=/var/lib/heysh \
    HEYSH_LOG_FORMAT=json \
    HEYSH_HEALTH_PORT=8080 \
    HEYSH_MODEL_ALIAS=production \
    HF_HOME=/var/lib/heysh/huggingface \
    HF_HUB_OFFLINE=1 \
    WORKER_TYPES=ai-processing
WORKDIR /var/lib/heysh
# Numeric, so that Kubernetes runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080

# Loading the model can take a minute on a cold node: a longer start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/lib/heysh/healthcheck.py", "/health"]

# SIGTERM (docker stop, Kubernetes) starts the worker's graceful shutdown;
# exec form keeps heysh as PID 1 so it receives the signal.
STOPSIGNAL SIGTERM
ENTRYPOINT ["heysh", "worker"]
