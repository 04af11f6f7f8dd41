"""Research commands: evaluate, promote, run a pipeline, open the UIs."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from heysh.errors import ConfigError


def register(subparsers: Any) -> None:
    """Add the research commands to the ``heysh`` parser."""
    evaluate = subparsers.add_parser(
        "evaluate",
        help="compare relevance models and tune each domain's thresholds",
        description="Compare relevance models on labelled data, certify each "
        "domain's auto-reject/auto-approve thresholds, track everything in MLflow "
        "and register the winner as challenger.",
    )
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        help="'demo' (default), a collection folder such as "
        "../shared/datasets/bbc-news, a JSONL/CSV/Parquet file, or "
        "hf:NAME[:SPLIT]",
    )
    source.add_argument(
        "--experiment",
        type=Path,
        help="an experiment YAML naming data, models and targets",
    )
    evaluate.add_argument(
        "--models",
        help="comma-separated model kinds, e.g. "
        "lexical,embedding-similarity,embedding-classifier",
    )
    evaluate.add_argument(
        "--max-documents",
        type=int,
        help="evaluate on a deterministic slice of this many documents",
    )
    evaluate.add_argument(
        "--max-domains", type=int, help="keep at most this many domains"
    )
    evaluate.add_argument(
        "--false-approve", type=float, help="false-approve target (0.05)"
    )
    evaluate.add_argument(
        "--false-reject", type=float, help="false-reject target (0.05)"
    )
    evaluate.add_argument(
        "--confidence", type=float, help="confidence of each bound (0.95)"
    )
    evaluate.add_argument(
        "--output", type=Path, help="output folder (default .heysh/runs/<data>-<time>)"
    )
    evaluate.add_argument(
        "--no-register", action="store_true", help="do not register the winner"
    )
    evaluate.add_argument(
        "--no-progress", action="store_true", help="hide progress bars"
    )
    evaluate.set_defaults(handler=run_evaluate)

    promote = subparsers.add_parser(
        "promote",
        help="move the production alias to the challenger if it is better",
        description="Compare the challenger with the production model on the same "
        "held-out data (paired bootstrap interval of the Brier difference) and move "
        "alias production only when the challenger is better beyond noise.",
    )
    promote.add_argument(
        "--data",
        help="compare on this data's test split instead "
        "of the challenger's evaluation data",
    )
    promote.add_argument("--confidence", type=float, default=0.95)
    promote.add_argument(
        "--attack-ceiling",
        type=float,
        default=0.05,
        help="highest attack success rate a judge may have",
    )
    promote.add_argument("--dry-run", action="store_true", help="decide, move nothing")
    promote.set_defaults(handler=run_promote)

    pipeline = subparsers.add_parser(
        "pipeline",
        help="run a papermill pipeline of notebooks",
        description="Execute the notebooks a pipeline file lists, keep the executed "
        "copies and attach them to MLflow.",
    )
    pipeline.add_argument("file", type=Path, help="e.g. pipelines/evaluation.yaml")
    pipeline.add_argument("--output", type=Path, help="folder for executed notebooks")
    pipeline.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter of every notebook (YAML value)",
    )
    pipeline.set_defaults(handler=run_pipeline_command)

    ui = subparsers.add_parser(
        "mlflow-ui", help="open the MLflow UI on the local store"
    )
    ui.add_argument("--port", type=int, default=5000)
    ui.set_defaults(handler=run_mlflow_ui)

    lab = subparsers.add_parser("lab", help="open JupyterLab on notebooks/")
    lab.add_argument("--port", type=int, default=8888)
    lab.set_defaults(handler=run_lab)


def run_evaluate(args: argparse.Namespace) -> int:
    from heysh.config import load_settings
    from heysh.research.evaluate import run_evaluation
    from heysh.research.experiment import build_experiment, load_experiment

    settings = load_settings()
    overrides = {
        "data": args.data,
        "models": args.models,
        "max_documents": args.max_documents,
        "max_domains": args.max_domains,
        "register_winner": False if args.no_register else None,
    }
    targets = {
        k: v
        for k, v in (
            ("false_approve", args.false_approve),
            ("false_reject", args.false_reject),
            ("confidence", args.confidence),
        )
        if v is not None
    }
    if args.experiment:
        spec = load_experiment(args.experiment, **overrides)
        if targets:
            spec = build_experiment(
                {
                    **spec.model_dump(),
                    "targets": {**spec.targets.model_dump(), **targets},
                }
            )
    else:
        raw = {k: v for k, v in overrides.items() if v is not None}
        if targets:
            raw["targets"] = targets
        spec = build_experiment(raw)

    output = args.output or default_output_dir(settings.home, spec.data)
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output} is a file; name a folder")
    result = run_evaluation(
        spec,
        settings,
        output,
        experiment_file=args.experiment,
        show_progress=not args.no_progress,
    )
    sys.stdout.write(result.table + "\n")
    sys.stdout.write(f"\nsummary: {output / 'summary.json'}\n")
    return 0


def default_output_dir(home: Path, data: str) -> Path:
    """Return ``<home>/runs/<data name>-<UTC time>``.

    For example ``.heysh/runs/bbc-news-20261204-170000``.
    """
    name = Path(data.removeprefix("hf:")).name or "data"
    return home / "runs" / f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"


def run_promote(args: argparse.Namespace) -> int:
    from heysh.config import load_settings
    from heysh.tracking.promotion import promote_challenger
    from heysh.tracking.setup import configure_tracking

    settings = load_settings()
    configure_tracking(settings.tracking_uri, settings.artifact_root)
    report = promote_challenger(
        settings.registered_model_name,
        data_override=args.data,
        confidence=args.confidence,
        attack_success_ceiling=args.attack_ceiling,
        dry_run=args.dry_run,
        artifact_root=settings.artifact_root
        if settings.tracking_uri.startswith("sqlite:")
        else None,
    )
    sys.stdout.write(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    verdict = "PROMOTED" if report.promoted else "NOT PROMOTED"
    sys.stdout.write(f"\n{verdict}: {report.reason}\n")
    return 0


def run_pipeline_command(args: argparse.Namespace) -> int:

    from heysh.config import load_settings
    from heysh.research.pipeline import load_pipeline, run_pipeline

    settings = load_settings()
    pipeline = load_pipeline(args.file)
    overrides = parse_parameters(args.parameter, pipeline)
    output = args.output or settings.home / "pipelines" / (
        f"{pipeline.name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    )
    result = run_pipeline(pipeline, output, settings, overrides=overrides)
    for step in result.steps:
        sys.stdout.write(f"{step.status:8} {step.name}: {step.output_notebook}\n")
    return 0


def parse_parameters(items: list[str], pipeline: Any) -> dict[str, Any]:
    """Parse ``-p NAME=VALUE`` overrides; refuse a missing ``=`` or unknown name.

    Raises:
        ConfigError: naming the item and the parameters the notebooks declare.
    """
    import yaml

    from heysh.research.pipeline import declared_parameters

    declared = set().union(*(declared_parameters(s.notebook) for s in pipeline.steps))
    overrides = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise ConfigError(
                f"-p {item!r} must be NAME=VALUE, e.g. -p max_documents=200"
            )
        if name not in declared:
            raise ConfigError(
                f"-p {name}: no notebook of pipeline {pipeline.name!r} declares it; "
                f"they declare {', '.join(sorted(declared))}"
            )
        overrides[name] = yaml.safe_load(value)
    return overrides


def run_mlflow_ui(args: argparse.Namespace) -> int:
    from heysh.config import load_settings

    settings = load_settings()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        settings.tracking_uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    if settings.tracking_uri.startswith("sqlite:"):
        command += ["--default-artifact-root", settings.artifact_root.as_uri()]
    # MLflow's job runner (GenAI jobs heysh does not use) starts consumer
    # processes that outlive the server; without it, one pid is the whole UI.
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    # exec, not a child process: stopping this pid stops the server.
    os.execve(command[0], command, env)


def run_lab(args: argparse.Namespace) -> int:
    from heysh.config import load_settings

    settings = load_settings()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
        "HEYSH_HOME": str(settings.home.resolve()),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ip",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--no-browser",
        "notebooks",
    ]
    # exec, not a child process: stopping this pid stops JupyterLab.
    os.execve(command[0], command, env)
