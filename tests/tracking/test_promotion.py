"""The promotion gate end to end: evaluations register challengers, promote decides."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from heysh.config import Settings
from heysh.errors import RegistryError
from heysh.research.evaluate import run_evaluation
from heysh.research.experiment import build_experiment
from heysh.tracking.promotion import promote_challenger
from heysh.tracking.registry import get_version_by_alias
from heysh.tracking.setup import configure_tracking

pytestmark = pytest.mark.e2e


def _evaluate(settings: Settings, models: str, tmp_path, name: str) -> str:
    spec = build_experiment(
        {"data": "demo", "max_documents": 300, "max_domains": 4, "models": models}
    )
    result = run_evaluation(spec, settings, tmp_path / name, show_progress=False)
    return result.registered.version


def test_promote_without_challenger_says_what_to_do(heysh_env: Settings) -> None:
    """With nothing registered the gate refuses and names the command to run."""
    configure_tracking(heysh_env.tracking_uri, heysh_env.artifact_root)

    with pytest.raises(RegistryError, match="heysh evaluate"):
        promote_challenger("heysh-relevance")


def test_promote_moves_production_only_when_better_beyond_noise(
    heysh_env: Settings, tmp_path
) -> None:
    """First challenger becomes production; a worse one is refused with its numbers."""
    strong = _evaluate(heysh_env, "embedding-classifier", tmp_path, "strong")
    first = promote_challenger("heysh-relevance", artifact_root=heysh_env.artifact_root)
    weak = _evaluate(heysh_env, "lexical", tmp_path, "weak")

    refused = promote_challenger(
        "heysh-relevance", n_bootstrap=500, artifact_root=heysh_env.artifact_root
    )

    assert first.promoted and "first production model" in first.reason
    assert (strong, weak) == ("1", "2")
    assert not refused.promoted
    assert "not better beyond noise" in refused.reason
    assert (
        refused.comparison["challenger_brier"] > refused.comparison["production_brier"]
    )
    assert refused.comparison["interval"][0] < 0
    assert refused.data["pairs"] == refused.comparison["n_pairs"] > 0
    assert get_version_by_alias("heysh-relevance", "production").version == strong
    gate_runs = mlflow.search_runs(experiment_names=["heysh-promotion"])
    assert len(gate_runs) == 2


def test_promote_refuses_judge_above_attack_ceiling(
    heysh_env: Settings, tmp_path
) -> None:
    """A challenger whose attack success rate exceeds the ceiling is not promoted."""
    version = _evaluate(heysh_env, "embedding-similarity", tmp_path, "judge")
    MlflowClient().set_model_version_tag(
        "heysh-relevance", version, "attack_success_rate", "0.2"
    )

    report = promote_challenger(
        "heysh-relevance",
        attack_success_ceiling=0.05,
        artifact_root=heysh_env.artifact_root,
    )

    assert not report.promoted
    assert "attack success rate 0.200" in report.reason
    assert get_version_by_alias("heysh-relevance", "production") is None


def test_promote_refuses_judge_without_measured_attack_rate(
    heysh_env: Settings, tmp_path
) -> None:
    """A judge with no measured attack success rate is refused (fails closed)."""
    version = _evaluate(heysh_env, "embedding-similarity", tmp_path, "judge")
    MlflowClient().set_model_version_tag(
        "heysh-relevance", version, "model_kind", "claude-judge"
    )

    report = promote_challenger(
        "heysh-relevance", artifact_root=heysh_env.artifact_root
    )

    assert not report.promoted
    assert "no measured attack success rate" in report.reason
    assert get_version_by_alias("heysh-relevance", "production") is None
