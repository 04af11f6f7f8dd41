#!/usr/bin/env bash
# Create .venv (Python 3.11) and install heysh with the given extras.
#
#   scripts/bootstrap.sh            # research extras: evaluate, notebooks, MLflow
#   scripts/bootstrap.sh dev        # everything the tests need
#
# Idempotent: a second run only installs what changed. uv does the installing
# because torch and its CUDA wheels take minutes with pip and seconds with uv's
# cache.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-research}"
python_bin="${HEYSH_PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python_bin="$candidate"; break
    fi
  done
fi
if [ -z "$python_bin" ]; then
  echo "bootstrap: heysh needs Python 3.11; install it or set HEYSH_PYTHON" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
.venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[${extras}]"
echo "bootstrap: .venv ready with heysh[${extras}]" >&2
