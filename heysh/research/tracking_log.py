"""Write one evaluation to MLflow: parent run, a child per model, winner registered."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from heysh import __version__
from heysh.config import Settings
from heysh.constants import CHALLENGER_ALIAS
from heysh.research.experiment import ExperimentSpec
from heysh.tracking.registry import RegisteredVersion, register_model
from heysh.tracking.setup import configure_tracking, ensure_experiment

_logger = logging.getLogger(__name__)


def log_evaluation(
    spec: ExperimentSpec,
    settings: Settings,
    data: Any,
    candidates: list[Any],
    scores: list[Any],
    tunings: list[Any],
    winner_index: int,
    summary: dict[str, Any],
    *,
    output_dir: Path,
    experiment_file: Path | None,
) -> tuple[str, RegisteredVersion | None]:
    """Log the evaluation and register the winner; return (parent run id, version).

    Registration is the last step inside the parent run, so an error anywhere
    before it leaves the run marked failed and nothing registered.
    """
    import mlflow

    from heysh.models.pyfunc import log_scorer_model

    configure_tracking(settings.tracking_uri, settings.artifact_root)
    experiment_id = ensure_experiment(spec.name, _local_artifact_root(settings))
    corpus = data.corpus
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"evaluate-{corpus.name}"
    ) as parent:
        mlflow.set_tags(
            {
                "heysh_version": __version__,
                "dataset": corpus.name,
                "dataset_hash": data.content_hash,
                "data_source": spec.data,
                "winner": scores[winner_index].name,
            }
        )
        mlflow.log_params(_experiment_params(spec, data))
        mlflow.log_dict(spec.model_dump(mode="json"), "experiment.json")
        if experiment_file is not None:
            mlflow.log_artifact(str(experiment_file), "experiment")
        mlflow.log_dict(corpus.input_report, "input_report.json")

        model_uris = []
        for candidate, model_scores, tuning in zip(
            candidates, scores, tunings, strict=True
        ):
            with mlflow.start_run(
                experiment_id=experiment_id, nested=True, run_name=model_scores.name
            ):
                mlflow.set_tags(
                    {"dataset_hash": data.content_hash, "model_kind": model_scores.name}
                )
                mlflow.log_params(_model_params(spec, model_scores.name))
                model_summary = summary["models"][model_scores.name]
                mlflow.log_metrics(
                    {
                        k: v
                        for k, v in model_summary.items()
                        if isinstance(v, int | float) and v == v
                    }
                )
                mlflow.log_dict(tuning.domain_configs(), "domain_configs.json")
                info = log_scorer_model(candidate, name="model")
                model_uris.append(info.model_uri)

        registered = None
        if spec.register_winner:
            winner = scores[winner_index].name
            registered = register_model(
                model_uris[winner_index],
                settings.registered_model_name,
                alias=CHALLENGER_ALIAS,
                tags=_version_tags(spec, data, winner, parent.info.run_id, summary),
            )
        return parent.info.run_id, registered


def log_output_folder(run_id: str, output_dir: Path) -> None:
    """Attach the written outputs (summary, table, plots) to the parent run."""
    from mlflow import MlflowClient

    MlflowClient().log_artifacts(run_id, str(output_dir), "outputs")


def _local_artifact_root(settings: Settings) -> Path | None:
    return (
        settings.artifact_root if settings.tracking_uri.startswith("sqlite:") else None
    )


def _experiment_params(spec: ExperimentSpec, data: Any) -> dict[str, Any]:
    return {
        "data": spec.data,
        "max_documents": spec.max_documents,
        "max_domains": spec.max_domains,
        "min_relevant_grade": spec.min_relevant_grade,
        "models": ",".join(m.kind for m in spec.models),
        "grid_step": spec.grid_step,
        "target_false_approve": spec.targets.false_approve,
        "target_false_reject": spec.targets.false_reject,
        "confidence": spec.targets.confidence,
        "split_fit": spec.split.fit,
        "split_calibration": spec.split.calibration,
        "split_test": spec.split.test,
        "split_seed": spec.split.seed,
        "documents": data.corpus.n_docs,
        "domains": len(data.corpus.domains),
        "pairs": data.corpus.n_pairs,
    }


def _model_params(spec: ExperimentSpec, name: str) -> dict[str, Any]:
    for model in spec.models:
        if model.kind == name:
            return {
                "kind": model.kind,
                **{f"param_{k}": v for k, v in model.params.items()},
            }
    return {"kind": name}


def _version_tags(
    spec: ExperimentSpec, data: Any, winner: str, run_id: str, summary: dict[str, Any]
) -> dict[str, Any]:
    tags = {
        "model_kind": winner,
        "dataset": data.corpus.name,
        "dataset_hash": data.content_hash,
        "data_source": spec.data,
        "max_documents": spec.max_documents,
        "max_domains": spec.max_domains,
        "min_relevant_grade": spec.min_relevant_grade,
        "split": json.dumps(spec.split.model_dump()),
        "evaluation_run_id": run_id,
        "roc_auc": summary["models"][winner]["roc_auc"],
    }
    asr = summary["models"][winner].get("attack_success_rate")
    if asr is not None:
        tags["attack_success_rate"] = asr
    return {k: v for k, v in tags.items() if v is not None}
