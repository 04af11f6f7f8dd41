#!/usr/bin/env bash
# Set up everything the tests need from nothing and run them:
# .venv with heysh[dev], the real PostgreSQL, Neo4j and Weaviate servers on
# 127.0.0.1 (installed and cached by scripts/servers/), lint and type checks,
# then pytest. The Temporal dev server is started by the test fixtures.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh dev

echo "test: starting servers" >&2
server_env="$(scripts/servers/all.sh start)"
eval "$server_env"
trap 'scripts/servers/all.sh stop >/dev/null 2>&1 || true' EXIT

echo "test: ruff and mypy" >&2
.venv/bin/ruff check heysh tests benchmarks
.venv/bin/mypy heysh/domain heysh/documents heysh/evaluation

echo "test: pytest" >&2
.venv/bin/python -m pytest "$@"
