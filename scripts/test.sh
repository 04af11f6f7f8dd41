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
.venv/bin/mypy heysh  # strict for domain, documents, evaluation (pyproject.toml)

if [ "$#" -eq 0 ]; then
  # The review workflow with the storage worker on the real servers, chosen by
  # configuration alone: a fresh PostgreSQL database and Weaviate collection so
  # nothing from an earlier run is seen.
  echo "test: review workflow on PostgreSQL, Neo4j and Weaviate" >&2
  run_id="$(date +%s)"
  HEYSH_METADATA_URL="$(scripts/servers/postgres.sh new-database "heysh_review_${run_id}")" \
  HEYSH_GRAPH_URL="$HEYSH_TEST_NEO4J_URL" \
  HEYSH_VECTOR_URL="${HEYSH_TEST_WEAVIATE_URL}&collection=HeyshReview${run_id}" \
    .venv/bin/python -m pytest -q tests/workflows/test_review.py
fi

echo "test: pytest" >&2
.venv/bin/python -m pytest "$@"
