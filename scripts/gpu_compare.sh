#!/usr/bin/env bash
# Reproduce the GPU model comparison end to end and print its table.
#
# Usage: scripts/gpu_compare.sh [OUTPUT_DIR] [extra "heysh evaluate" options]
#
# Needs a machine with a CUDA GPU and heysh already installed with the research
# extra (in .venv or on PATH); it installs nothing. Steps:
#   1. report the GPU, and stop unless torch sees one (HEYSH_ALLOW_CPU=1 runs
#      on the CPU anyway, slowly: useful only to check this script);
#   2. measure encoder throughput on this machine (benchmarks/bench_encoder.py on
#      HEYSH_BENCH_DOCS documents, default 512;
#      appended to benchmarks/results/encoder.jsonl and copied to OUTPUT_DIR);
#   3. compare lexical, embedding-similarity, embedding-classifier and the
#      fine-tuned cross-encoder on BBC News with "heysh evaluate", which prints
#      the comparison table (also saved as OUTPUT_DIR/table.txt).
# Exit status: 0 on success, 2 when the GPU, heysh or the data is missing,
# otherwise the status of the failing step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out="${1:-.heysh/runs/gpu-compare-$(date -u +%Y%m%dT%H%M%SZ)}"
if [ "$#" -gt 0 ]; then shift; fi
data="../shared/datasets/bbc-news"

if [ -x .venv/bin/python ]; then
    python=.venv/bin/python
    heysh=.venv/bin/heysh
else
    python="$(command -v python3 || true)"
    heysh="$(command -v heysh || true)"
fi
if [ -z "$python" ] || [ -z "$heysh" ] || [ ! -x "$heysh" ]; then
    echo "heysh is not installed here: create .venv with 'pip install -e .[research]' first" >&2
    exit 2
fi
if [ ! -f "$data/documents.jsonl" ]; then
    echo "missing $data/documents.jsonl: the shared datasets must sit next to the repository" >&2
    exit 2
fi

echo "== GPU"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
"$python" - <<'PY'
import os
import sys

import torch

if torch.cuda.is_available():
    print(f"torch {torch.__version__} sees {torch.cuda.get_device_name(0)}")
elif os.environ.get("HEYSH_ALLOW_CPU") == "1":
    print(f"torch {torch.__version__} sees no GPU; HEYSH_ALLOW_CPU=1, running on the CPU")
else:
    sys.exit("torch sees no CUDA GPU; run this on a GPU machine "
             "(or set HEYSH_ALLOW_CPU=1 to check the script on a CPU)")
PY

mkdir -p "$out"

echo "== encoder throughput"
"$python" benchmarks/bench_encoder.py --docs "${HEYSH_BENCH_DOCS:-512}" --repeats 3 \
    | tee "$out/encoder.txt"
tail -n 1 benchmarks/results/encoder.jsonl > "$out/encoder.jsonl"

echo "== model comparison"
"$heysh" evaluate --data "$data" \
    --models lexical,embedding-similarity,embedding-classifier,cross-encoder \
    --output "$out" "$@" | tee "$out/table.txt"

echo "== done: table in $out/table.txt, encoder figures in $out/encoder.jsonl"
