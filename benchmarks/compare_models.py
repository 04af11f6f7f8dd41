"""Compare every relevance model kind on real collections, judges included.

Usage::

    .venv/bin/python benchmarks/compare_models.py [--collections bbc-news,ag-news]
        [--max-documents 120] [--max-domains 4] [--output DIR] [--no-append]

For each collection of ``../shared/datasets`` this runs the evaluation job
(``heysh.research.evaluate.run_evaluation``, what ``heysh evaluate`` runs) on a
deterministic slice with six models: lexical, embedding-similarity,
embedding-classifier, a cross-encoder fine-tuned on the fit split (a small CPU
configuration, see ``CROSS_ENCODER_CPU``), claude-judge and openai-judge. It
prints one table per collection (ROC-AUC, ECE, Brier, latency in ms per
document, cost per 1,000 documents, attack success rate) and appends one JSON
line per collection to ``benchmarks/results/model_comparison.jsonl`` with the
machine and the date.

No hosted LLM is reachable here, so the two judges talk to the local protocol
servers of ``tests/llm/mock_servers.py``, started on 127.0.0.1 by this script
with a throwaway key. Those servers answer with a *naive model* (lexical
overlap of description and document): the judges' ROC-AUC, ECE and Brier
below measure that stand-in, NOT the quality of Claude or any GPT model.
What is real for the judges: the wire protocol, the neutralisation of
documents (hence the attack success rate against a model that obeys hidden
instructions), the token counts the servers report and the list-price cost
computed from them, and heysh's own overhead per call.

Everything MLflow writes goes to a temporary HEYSH_HOME, deleted at the end;
the tables and summaries are kept in ``--output``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASETS = (REPO_ROOT / ".." / "shared" / "datasets").resolve()
RESULTS = REPO_ROOT / "benchmarks" / "results" / "model_comparison.jsonl"

# A cross-encoder small enough for a shared 2-core CPU: two cross-fitting folds
# (three fits), at most 256 training pairs of 64 word pieces (the description
# and the document's first 40 words), three epochs, two windows per scored
# document. Below the defaults (600 pairs, 256 word pieces), so its
# figures here understate it; scripts/gpu_compare.sh fine-tunes with the
# defaults on a GPU.
CROSS_ENCODER_CPU = {
    "cv_folds": 2,
    "epochs": 3,
    "max_pairs": 256,
    "max_length": 64,
    "max_words": 40,
    "overlap_words": 8,
    "max_windows": 2,
}
JUDGE_PARAMS = {"client_retries": 2, "max_concurrency": 4}
NOT_MEASURED = (
    "NOTE: judge quality is NOT measured offline. claude-judge and openai-judge "
    "were served by local protocol servers (tests/llm/mock_servers.py) whose naive "
    "model scores lexical overlap; their ROC-AUC, ECE and Brier describe that "
    "stand-in, not Claude or GPT. Their cost is list price for the tokens the "
    "servers reported; their ASR is measured against a model that obeys hidden "
    "instructions, so it shows what heysh's neutralisation removes."
)


def _models() -> list[dict[str, Any]]:
    return [
        {"kind": "lexical"},
        {"kind": "embedding-similarity"},
        {"kind": "embedding-classifier"},
        {"kind": "cross-encoder", "params": dict(CROSS_ENCODER_CPU)},
        {"kind": "claude-judge", "params": dict(JUDGE_PARAMS)},
        {"kind": "openai-judge", "params": dict(JUDGE_PARAMS)},
    ]


def machine() -> dict[str, Any]:
    """CPU model, cores, GPU and library versions of this machine."""
    import torch

    cpu = cpu_model()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def render(summary: dict[str, Any], wall_s: float) -> str:
    """One collection's comparison as a plain-text table."""
    dataset = summary["dataset"]
    test = dataset["splits"]["test"]
    embedding = dataset.get("embedding") or {}
    lines = [
        f"{dataset['name']}: {dataset['documents']} documents x {dataset['domains']} "
        f"domains = {dataset['pairs']} pairs; test split {test['pairs']} pairs "
        f"({test['relevant_pairs']} relevant); {wall_s:.0f} s",
        f"{'model':22} {'ROC-AUC':>8} {'ECE':>6} {'Brier':>6} {'ms/doc':>8} "
        f"{'$/1k docs':>10} {'ASR':>6} {'fit s':>7}",
    ]
    for name, model in summary["models"].items():
        lines.append(
            f"{name:22} {_fmt(model['roc_auc'], '.3f'):>8} "
            f"{_fmt(model['calibration_error'], '.3f'):>6} "
            f"{_fmt(model['brier'], '.3f'):>6} "
            f"{_fmt(model['latency_ms_per_document'], '.2f'):>8} "
            f"{_fmt(model['cost_per_1000_documents_usd'], '.4f'):>10} "
            f"{_fmt(model['attack_success_rate'], '.0%'):>6} "
            f"{_fmt(model['fit_seconds'], '.1f'):>7}"
        )
    if embedding:
        lines.append(
            f"(embedding models: MiniLM embedded {embedding['texts']} texts once, "
            f"{1000 * embedding['seconds'] / max(embedding['texts'], 1):.1f} ms per "
            "text, before timing; their ms/doc reads the embedding cache)"
        )
    return "\n".join(lines)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _start_servers() -> list[Any]:
    sys.path.insert(0, str(REPO_ROOT))
    from tests.llm.mock_servers import AnthropicMockServer, OpenAIMockServer

    key = secrets.token_hex(16)  # a throwaway key for the local servers only
    anthropic = AnthropicMockServer(api_key=key)
    openai = OpenAIMockServer(api_key=key)
    os.environ.update(
        {
            "ANTHROPIC_API_KEY": key,
            "ANTHROPIC_BASE_URL": anthropic.url,
            "OPENAI_API_KEY": key,
            "OPENAI_BASE_URL": openai.url + "/v1",
        }
    )
    return [anthropic, openai]


def compare_collection(
    name: str, args: argparse.Namespace, home: Path, output: Path
) -> dict[str, Any]:
    """Evaluate the six models on one collection; return its summary."""
    from heysh.config import load_settings
    from heysh.research.evaluate import run_evaluation
    from heysh.research.experiment import build_experiment

    settings = load_settings(home=home / name, mlflow_tracking_uri=None)
    spec = build_experiment(
        {
            "name": f"compare-{name}",
            "data": str(DATASETS / name),
            "max_documents": args.max_documents,
            "max_domains": args.max_domains,
            "models": _models(),
            "register_winner": False,
        }
    )
    result = run_evaluation(spec, settings, output / name, show_progress=False)
    return result.summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", default="bbc-news,ag-news")
    parser.add_argument("--max-documents", type=int, default=120)
    parser.add_argument("--max-domains", type=int, default=4)
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT
        / ".heysh"
        / "runs"
        / f"compare-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}",
    )
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    servers = _start_servers()
    home = Path(tempfile.mkdtemp(prefix="heysh-compare-"))
    info = machine()
    started = time.perf_counter()
    tables = []
    try:
        for name in [c.strip() for c in args.collections.split(",") if c.strip()]:
            collection_started = time.perf_counter()
            summary = compare_collection(name, args, home, args.output)
            wall_s = time.perf_counter() - collection_started
            table = render(summary, wall_s)
            tables.append(table)
            print(table, "\n", flush=True)
            record = {
                "date": datetime.datetime.now(datetime.UTC).isoformat(
                    timespec="seconds"
                ),
                "collection": name,
                "max_documents": args.max_documents,
                "max_domains": args.max_domains,
                "dataset": {
                    k: summary["dataset"][k]
                    for k in ("documents", "domains", "pairs", "content_hash")
                },
                "wall_s": round(wall_s, 1),
                "machine": info,
                "cross_encoder_params": CROSS_ENCODER_CPU,
                "judges_served_by": "tests/llm/mock_servers.py (naive lexical model)",
                "judge_quality_measured": False,
                "models": {
                    model_name: {
                        k: model.get(k)
                        for k in (
                            "roc_auc",
                            "pr_auc",
                            "calibration_error",
                            "brier",
                            "latency_ms_per_document",
                            "cost_per_1000_documents_usd",
                            "tokens_per_document",
                            "attack_success_rate",
                            "attack_cases",
                            "fit_seconds",
                        )
                    }
                    for model_name, model in summary["models"].items()
                },
            }
            if not args.no_append:
                RESULTS.parent.mkdir(parents=True, exist_ok=True)
                with RESULTS.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
    finally:
        for server in servers:
            server.close()
        shutil.rmtree(home, ignore_errors=True)
    print(NOT_MEASURED)
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, GPU {info['gpu'] or 'none'}; "
        f"total {time.perf_counter() - started:.0f} s; outputs in {args.output}"
        + ("" if args.no_append else f"; appended to {RESULTS.relative_to(REPO_ROOT)}")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
