"""Move the ``production`` alias only when the challenger is better beyond noise.

The gate scores the held-out test split of the challenger's own evaluation
data (rebuilt from the version's tags and checked against its content hash)
with both the challenger and the current production model, and promotes only
when the paired interval of the Brier difference lies above zero and, for LLM
judges, the measured attack success rate is within the ceiling. Every number
behind the verdict is returned, logged to MLflow and printed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heysh.constants import CHALLENGER_ALIAS, PRODUCTION_ALIAS
from heysh.errors import ConfigError, RegistryError
from heysh.tracking.gate import PairedComparison, compare_paired
from heysh.tracking.registry import RegisteredVersion, get_version_by_alias, set_alias

_logger = logging.getLogger(__name__)


@dataclass
class PromotionReport:
    """The gate's verdict with every number behind it."""

    promoted: bool
    reason: str
    model_name: str
    challenger_version: str
    production_version: str | None
    data: dict[str, Any] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None
    attack_success_rate: float | None = None
    attack_success_ceiling: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def promote_challenger(
    model_name: str,
    *,
    data_override: str | None = None,
    confidence: float = 0.95,
    n_bootstrap: int = 2000,
    attack_success_ceiling: float = 0.05,
    dry_run: bool = False,
    artifact_root: Path | None = None,
) -> PromotionReport:
    """Run the gate and move ``production`` to the challenger if it passes.

    Args:
        model_name: Registered model name (``heysh-relevance``).
        data_override: Evaluate on this data's test split instead of the
            challenger's own evaluation data.
        confidence: Two-sided level of the paired interval.
        n_bootstrap: Bootstrap resamples.
        attack_success_ceiling: Highest prompt-injection success rate a judge
            may have and still be promoted.
        dry_run: Decide and report, but move no alias.
        artifact_root: Artifact folder for a new gate experiment in a local
            store (writes an MLflow run ``gate-v<N>`` in ``heysh-promotion``).

    Raises:
        RegistryError: when there is no challenger to promote.
    """
    if not 0.0 < confidence < 1.0:
        raise ConfigError(
            f"confidence ({confidence}) must be between 0 and 1, e.g. 0.95"
        )
    challenger = get_version_by_alias(model_name, CHALLENGER_ALIAS)
    if challenger is None:
        raise RegistryError(
            f"model {model_name!r} has no {CHALLENGER_ALIAS!r} alias; run "
            "`heysh evaluate` first, which registers the winner as challenger"
        )
    production = get_version_by_alias(model_name, PRODUCTION_ALIAS)
    report = PromotionReport(
        promoted=False,
        reason="",
        model_name=model_name,
        challenger_version=challenger.version,
        production_version=production.version if production else None,
        attack_success_ceiling=attack_success_ceiling,
    )

    asr = challenger.tags.get("attack_success_rate")
    report.attack_success_rate = float(asr) if asr not in (None, "") else None
    if report.attack_success_rate is None and _is_llm_judge(challenger):
        # Fail closed: a judge whose resistance to prompt injection was never
        # measured is treated as one that failed the measurement.
        report.reason = (
            f"challenger v{challenger.version} is an LLM judge "
            f"({challenger.tags.get('model_kind')}) with no measured attack "
            "success rate; measure it on the adversarial set "
            "(heysh.models.judge_attacks) and tag the version before promoting"
        )
        return _finish(report, challenger, dry_run, artifact_root)
    if report.attack_success_rate is not None and (
        report.attack_success_rate > attack_success_ceiling
    ):
        report.reason = (
            f"challenger v{challenger.version} has attack success rate "
            f"{report.attack_success_rate:.3f}, above the ceiling "
            f"{attack_success_ceiling:.3f}; a judge that documents can steer "
            "cannot be promoted"
        )
        return _finish(report, challenger, dry_run, artifact_root)

    if production is None:
        report.promoted = True
        report.reason = (
            f"no {PRODUCTION_ALIAS!r} version exists yet; challenger "
            f"v{challenger.version} becomes the first production model"
        )
        return _finish(report, challenger, dry_run, artifact_root)
    if production.version == challenger.version:
        report.reason = (
            f"challenger v{challenger.version} is already production; nothing to do"
        )
        return _finish(report, challenger, dry_run, artifact_root)

    labels, documents, pairs, data_info = _held_out_pairs(challenger, data_override)
    report.data = data_info
    challenger_scores = _predict(challenger, pairs)
    production_scores = _predict(production, pairs)
    comparison = compare_paired(
        labels,
        challenger_scores,
        production_scores,
        documents,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
    )
    report.comparison = _describe(
        comparison, labels, challenger_scores, production_scores
    )
    report.promoted = comparison.challenger_is_better
    low, high = comparison.interval
    verdict = "better beyond noise" if report.promoted else "not better beyond noise"
    report.reason = (
        f"challenger v{challenger.version} is {verdict}: Brier "
        f"{comparison.challenger_brier:.4f} vs production v{production.version} "
        f"{comparison.production_brier:.4f}, improvement {comparison.delta:+.4f} with "
        f"{confidence:.0%} interval [{low:+.4f}, {high:+.4f}] over "
        f"{comparison.n_pairs} pairs of {comparison.n_documents} held-out documents"
        + ("" if report.promoted else "; the interval must lie above zero")
    )
    return _finish(report, challenger, dry_run, artifact_root)


def _is_llm_judge(version: RegisteredVersion) -> bool:
    """Whether the version's model kind is an LLM judge (``*-judge``)."""
    return version.tags.get("model_kind", "").endswith("-judge")


def _finish(
    report: PromotionReport,
    challenger: RegisteredVersion,
    dry_run: bool,
    artifact_root: Path | None,
) -> PromotionReport:
    if report.promoted and not dry_run:
        set_alias(report.model_name, PRODUCTION_ALIAS, challenger.version)
    _log_gate_run(report, dry_run, artifact_root)
    _logger.info(
        "promotion_decided",
        extra={
            "model": report.model_name,
            "challenger": report.challenger_version,
            "production": report.production_version or "",
            "promoted": report.promoted,
            "dry_run": dry_run,
        },
    )
    return report


def _held_out_pairs(
    challenger: RegisteredVersion, data_override: str | None
) -> tuple[np.ndarray, np.ndarray, Any, dict[str, Any]]:
    from heysh.research.evaluate import prepare_data
    from heysh.research.experiment import build_experiment
    from heysh.research.scoring import pairs_of

    tags = challenger.tags
    if data_override is None and "data_source" not in tags:
        raise RegistryError(
            f"challenger v{challenger.version} has no data_source tag, so its "
            "held-out data is unknown; pass --data with the data to compare on"
        )
    raw: dict[str, Any] = {"data": data_override or tags["data_source"]}
    for key, tag in (
        ("max_documents", "max_documents"),
        ("max_domains", "max_domains"),
        ("min_relevant_grade", "min_relevant_grade"),
    ):
        if tags.get(tag) not in (None, "", "None"):
            raw[key] = int(tags[tag])
    if tags.get("split") not in (None, ""):
        import json

        raw["split"] = json.loads(tags["split"])
    data = prepare_data(build_experiment(raw, origin=f"v{challenger.version} tags"))
    expected = tags.get("dataset_hash")
    if data_override is None and expected and expected != data.content_hash:
        raise RegistryError(
            f"the data at {raw['data']} has content hash {data.content_hash[:12]}, "
            f"but challenger v{challenger.version} was evaluated on {expected[:12]}; "
            "the data changed since, so pass --data to compare on it knowingly"
        )
    test = data.splits.test
    info = {
        "source": raw["data"],
        "content_hash": data.content_hash,
        "split": "test",
        "pairs": int(test.size),
    }
    documents = data.corpus.pair_doc[test]
    return data.corpus.pair_label[test], documents, pairs_of(data.corpus, test), info


def _predict(version: RegisteredVersion, pairs: Any) -> np.ndarray:
    import mlflow
    import pandas as pd

    model = mlflow.pyfunc.load_model(version.uri)
    frame = pd.DataFrame(
        {
            "domain_id": list(pairs.domain_ids),
            "domain_description": list(pairs.descriptions),
            "text": list(pairs.texts),
        }
    )
    predictions = model.predict(frame)
    scores = predictions["score"] if hasattr(predictions, "columns") else predictions
    return np.asarray(scores, dtype=np.float64)


def _describe(
    comparison: PairedComparison,
    labels: np.ndarray,
    challenger_scores: np.ndarray,
    production_scores: np.ndarray,
) -> dict[str, Any]:
    from heysh.evaluation.metrics import roc_auc

    described = asdict(comparison)
    described["challenger_roc_auc"] = roc_auc(labels, challenger_scores)
    described["production_roc_auc"] = roc_auc(labels, production_scores)
    return described


def _log_gate_run(
    report: PromotionReport, dry_run: bool, artifact_root: Path | None
) -> None:
    import mlflow

    from heysh.tracking.setup import ensure_experiment

    experiment_id = ensure_experiment("heysh-promotion", artifact_root)
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"gate-v{report.challenger_version}"
    ):
        mlflow.set_tags(
            {
                "model": report.model_name,
                "promoted": report.promoted,
                "dry_run": dry_run,
                "challenger_version": report.challenger_version,
                "production_version": report.production_version or "",
            }
        )
        if report.comparison:
            mlflow.log_metrics(
                {
                    k: v
                    for k, v in report.comparison.items()
                    if isinstance(v, int | float)
                }
            )
        mlflow.log_dict(report.as_dict(), "promotion.json")
