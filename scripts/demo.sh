#!/usr/bin/env bash
# From nothing to a finished evaluation on the embedded demo corpus:
# set up .venv, compare the models, certify thresholds, register the winner in
# the local MLflow store (.heysh/mlflow). Extra arguments go to `heysh evaluate`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh research
exec .venv/bin/heysh evaluate --data demo "$@"
