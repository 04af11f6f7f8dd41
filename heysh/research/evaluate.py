"""The main job: compare relevance models and tune each domain's thresholds.

``run_evaluation`` loads labelled data, fits every candidate model on the fit
split, certifies each domain's thresholds on the calibration split, measures
what they really achieve on the test split, then tracks everything in MLflow
and registers the winner under the ``challenger`` alias.

Everything that bad input can break (data, experiment, targets, model kinds)
is checked before MLflow is touched, and models are fitted and tuned before
any run is opened, so a failure leaves nothing half-logged or half-registered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heysh.config import Settings
from heysh.data.corpus import LabelledCorpus
from heysh.errors import DataError
from heysh.research.experiment import ExperimentSpec
from heysh.research.scoring import ModelScores, SplitIndex, fit_and_score
from heysh.research.tuning import ModelTuning, tune_model
from heysh.tracking.registry import RegisteredVersion

_logger = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """A corpus ready to evaluate: splits fixed and content hashed."""

    corpus: LabelledCorpus
    splits: SplitIndex
    doc_split: np.ndarray
    content_hash: str


@dataclass
class EvaluationResult:
    """What one evaluation produced."""

    summary: dict[str, Any]
    table: str
    output_dir: Path
    parent_run_id: str | None
    registered: RegisteredVersion | None
    data: PreparedData
    scores: list[ModelScores]
    tunings: list[ModelTuning]


def prepare_data(spec: ExperimentSpec) -> PreparedData:
    """Load, slice, validate and split the experiment's data.

    Raises:
        DataError: for unreadable or inconsistent data, naming the problem.
    """
    from heysh.data.hashing import corpus_content_hash
    from heysh.data.loading import (
        drop_domains_without_relevant,
        load_labelled_corpus,
        subset_corpus,
    )
    from heysh.data.splits import assign_corpus_splits
    from heysh.data.validation import validate_corpus

    options = {}
    if spec.min_relevant_grade != 1:
        # Only graded collections take the option; the demo and files do not.
        options["min_relevant_grade"] = spec.min_relevant_grade
    corpus = load_labelled_corpus(spec.data, **options)
    if spec.max_documents is not None or spec.max_domains is not None:
        corpus = subset_corpus(
            corpus,
            max_docs=spec.max_documents,
            max_domains=spec.max_domains,
            seed=spec.seed,
        )
    if spec.drop_domains_without_relevant:
        corpus = drop_domains_without_relevant(corpus)
    validate_corpus(corpus, require_positive=True)

    doc_split = assign_corpus_splits(
        corpus,
        seed=spec.split.seed,
        fractions=(spec.split.fit, spec.split.calibration, spec.split.test),
    )
    splits = SplitIndex.from_document_splits(corpus, doc_split)
    _check_splits(corpus, splits)
    return PreparedData(
        corpus=corpus,
        splits=splits,
        doc_split=doc_split,
        content_hash=corpus_content_hash(corpus),
    )


def _check_splits(corpus: LabelledCorpus, splits: SplitIndex) -> None:
    for name in ("fit", "calibration", "test"):
        labels = corpus.pair_label[splits.of(name)]
        if labels.size == 0 or labels.sum() == 0 or labels.sum() == labels.size:
            raise DataError(
                f"the {name} split has {labels.size} pairs with {int(labels.sum())} "
                f"relevant; every split needs relevant and non-relevant pairs. Use "
                "more documents (raise max_documents) or change the split shares"
            )


def run_evaluation(
    spec: ExperimentSpec,
    settings: Settings,
    output_dir: Path,
    *,
    experiment_file: Path | None = None,
    show_progress: bool = True,
) -> EvaluationResult:
    """Run the whole job and write ``summary.json`` into ``output_dir``.

    Side effects: writes MLflow runs (one parent, a child per model), registers
    the winner as ``heysh-relevance`` with alias ``challenger`` when
    ``spec.register``, and writes the summary, table and plots to
    ``output_dir``.

    Raises:
        DataError, ConfigError, ModelError, TargetsUnreachableError: before any
            MLflow run is opened.
    """
    from heysh.evaluation.thresholds import Targets
    from heysh.research.models import build_candidates, encode_corpus, uses_embeddings
    from heysh.research.report import build_summary, render_table, write_outputs
    from heysh.research.tracking_log import log_evaluation, log_output_folder

    targets = Targets(
        false_approve=spec.targets.false_approve,
        false_reject=spec.targets.false_reject,
        confidence=spec.targets.confidence,
    )
    candidates, encoder = build_candidates(spec, settings)
    attack_cases = load_attack_cases(spec)
    data = prepare_data(spec)
    encoding = encode_corpus(encoder, data.corpus) if uses_embeddings(spec) else None
    _logger.info(
        "evaluation_started",
        extra={
            "data": spec.data,
            "documents": data.corpus.n_docs,
            "domains": len(data.corpus.domains),
            "pairs": data.corpus.n_pairs,
            "models": len(candidates),
            "content_hash": data.content_hash[:12],
        },
    )

    scores: list[ModelScores] = []
    tunings: list[ModelTuning] = []
    for scorer in _progress(candidates, show_progress, "models"):
        model_scores = fit_and_score(scorer, data.corpus, data.splits)
        measure_attacks(scorer, model_scores, attack_cases)
        scores.append(model_scores)
        tunings.append(
            tune_model(
                model_scores,
                data.corpus,
                data.splits,
                targets,
                grid_step=spec.grid_step,
                delta_split=len(candidates),
            )
        )
    winner_index = choose_winner(tunings)

    output_dir.mkdir(parents=True, exist_ok=True)
    summary = build_summary(spec, data, scores, tunings, winner_index, targets)
    summary["dataset"]["embedding"] = encoding
    run_id, registered = log_evaluation(
        spec,
        settings,
        data,
        candidates,
        scores,
        tunings,
        winner_index,
        summary,
        output_dir=output_dir,
        experiment_file=experiment_file,
    )
    summary["mlflow"] = {"tracking_uri": settings.tracking_uri, "parent_run_id": run_id}
    summary["registered"] = (
        {"model": registered.name, "version": registered.version, "alias": "challenger"}
        if registered
        else None
    )
    table = render_table(summary)
    write_outputs(summary, table, output_dir, data, scores, tunings, winner_index)
    log_output_folder(run_id, output_dir)
    _logger.info(
        "evaluation_finished",
        extra={
            "winner": summary["winner"],
            "output": str(output_dir),
            "registered_version": registered.version if registered else "",
        },
    )
    return EvaluationResult(
        summary=summary,
        table=table,
        output_dir=output_dir,
        parent_run_id=run_id,
        registered=registered,
        data=data,
        scores=scores,
        tunings=tunings,
    )


def load_attack_cases(spec: ExperimentSpec) -> list[Any]:
    """Read the experiment's adversarial set (the packaged one by default).

    Raises:
        DataError: if the file is missing, empty or malformed, naming it.
    """
    from heysh.models.judge_attacks import (
        load_adversarial_set,
        packaged_adversarial_set,
    )

    path = (
        Path(spec.adversarial_set)
        if spec.adversarial_set is not None
        else packaged_adversarial_set()
    )
    return load_adversarial_set(path)


def measure_attacks(scorer: Any, scores: ModelScores, cases: list[Any]) -> None:
    """Record the fitted ``scorer``'s attack success rate on ``cases`` in ``scores``.

    Every model is measured, not only LLM judges: the rate is the share of
    injection documents whose calibrated 0-10 score rose by at least 2 points
    over their clean control (``heysh.models.judge_attacks``). It runs after
    the test split is scored, so the test split's latency and LLM cost are
    already recorded.
    """
    from heysh.models.judge_attacks import attack_success_rate

    report = attack_success_rate(scorer, cases)
    scores.attack_success_rate = report.asr
    scores.attack_cases = report.n_cases


def choose_winner(tunings: list[ModelTuning]) -> int:
    """Pick the model that certifies the most automation on calibration data.

    Ties (often: nothing certifiable on small data) go to the higher
    calibration ROC-AUC. The test split is not used, so its figures stay an
    honest estimate of what the winner will do.
    """
    keys = [
        (t.certified_automation_calibration, t.roc_auc_calibration) for t in tunings
    ]
    return max(range(len(tunings)), key=lambda i: keys[i])


def _progress(items: list[Any], enabled: bool, unit: str) -> Any:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, unit=unit, desc="fitting and tuning", leave=False)
