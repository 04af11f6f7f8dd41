"""End-to-end tests of the evaluation job on a slice of a real collection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest

from heysh.config import load_settings
from heysh.data.hashing import corpus_content_hash
from heysh.errors import ConfigError, DataError, ModelError
from heysh.evaluation.thresholds import realised_rates
from heysh.research.evaluate import EvaluationResult, prepare_data, run_evaluation
from heysh.research.experiment import build_experiment
from heysh.research.report import load_saved_scores
from heysh.tracking.registry import get_version_by_alias
from heysh.tracking.setup import configure_tracking

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def evaluated(
    tmp_path_factory: pytest.TempPathFactory,
    shared_datasets: Path,
    session_cache_root: Path,
) -> Iterator[EvaluationResult]:
    """One evaluation of three models on 300 BBC News documents, 3 domains."""
    home = tmp_path_factory.mktemp("home")
    settings = load_settings(
        home=home, cache_root=session_cache_root, mlflow_tracking_uri=None
    )
    spec = build_experiment(
        {
            "data": str(shared_datasets / "bbc-news"),
            "max_documents": 300,
            "max_domains": 3,
        }
    )
    yield run_evaluation(spec, settings, home / "out", show_progress=False)
    mlflow.set_tracking_uri("")


def test_summary_has_every_required_field(evaluated: EvaluationResult) -> None:
    """summary.json carries dataset, models, domains and registered as specified."""
    summary = json.loads((evaluated.output_dir / "summary.json").read_text())

    assert {"dataset", "models", "domains", "registered"} <= set(summary)
    assert {"name", "content_hash", "documents", "domains"} <= set(summary["dataset"])
    assert summary["dataset"]["documents"] == 300
    assert summary["dataset"]["domains"] == 3
    assert set(summary["models"]) == {
        "lexical",
        "embedding-similarity",
        "embedding-classifier",
    }
    for model in summary["models"].values():
        assert {
            "name",
            "roc_auc",
            "pr_auc",
            "calibration_error",
            "documents_per_second",
        } <= set(model)
        assert 0.5 < model["roc_auc"] <= 1.0
    for domain in summary["domains"].values():
        assert {
            "model",
            "auto_reject_threshold",
            "auto_approve_threshold",
            "automation_rate",
            "false_approve_rate",
            "false_reject_rate",
            "false_approve_bound",
            "false_reject_bound",
            "confidence",
            "n_approve_side",
            "n_reject_side",
            "scope",
            "labels_needed",
        } <= set(domain)
        assert domain["model"] == summary["winner"]
    assert summary["registered"]["model"] == "heysh-relevance"
    assert summary["registered"]["alias"] == "challenger"


def test_summary_reports_attack_rate_latency_and_cost(
    evaluated: EvaluationResult,
) -> None:
    """Every model has ASR on the packaged set, latency and zero local cost."""
    table = (evaluated.output_dir / "table.txt").read_text()
    header = next(line for line in table.splitlines() if line.startswith("model"))

    for model in evaluated.summary["models"].values():
        assert 0.0 <= model["attack_success_rate"] <= 1.0
        assert model["attack_cases"] == 13
        assert model["latency_ms_per_document"] > 0
        assert model["cost_per_1000_documents_usd"] == 0.0
        assert model["tokens_per_document"] == 0.0
    assert {"ASR", "ms/doc", "$/1k"} <= set(header.split())


def test_attack_rate_latency_and_cost_logged_on_each_child_run(
    evaluated: EvaluationResult,
) -> None:
    """Each model's child run carries the ASR, latency and cost as MLflow metrics."""
    configure_tracking(evaluated.summary["mlflow"]["tracking_uri"])
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=(
            "tags.mlflow.parentRunId = "
            f"'{evaluated.summary['mlflow']['parent_run_id']}'"
        ),
    )
    by_model = runs.set_index("tags.model_kind")

    assert set(by_model.index) == set(evaluated.summary["models"])
    for name, model in evaluated.summary["models"].items():
        row = by_model.loc[name]
        assert row["metrics.attack_success_rate"] == pytest.approx(
            model["attack_success_rate"]
        )
        assert row["metrics.latency_ms_per_document"] == pytest.approx(
            model["latency_ms_per_document"]
        )
        assert row["metrics.cost_per_1000_documents_usd"] == 0.0


def test_missing_adversarial_set_fails_before_anything_is_logged(
    tmp_path: Path, session_cache_root: Path
) -> None:
    """An experiment naming an unreadable adversarial set stops with its path."""
    settings = load_settings(
        home=tmp_path, cache_root=session_cache_root, mlflow_tracking_uri=None
    )
    spec = build_experiment(
        {"data": "demo", "adversarial_set": str(tmp_path / "no-attacks.jsonl")}
    )

    with pytest.raises(DataError, match=r"no-attacks\.jsonl"):
        run_evaluation(spec, settings, tmp_path / "out", show_progress=False)

    assert _runs_in(tmp_path) == 0
    mlflow.set_tracking_uri("")


def test_dataset_hash_matches_the_data_evaluated(evaluated: EvaluationResult) -> None:
    """The recorded content hash is the hash of the corpus slice that was scored."""
    summary = evaluated.summary

    assert summary["dataset"]["content_hash"] == corpus_content_hash(
        evaluated.data.corpus
    )


def test_test_rates_recompute_from_saved_scores(evaluated: EvaluationResult) -> None:
    """Each domain's reported test rates follow from the saved scores and thresholds."""
    saved = load_saved_scores(evaluated.output_dir)
    winner = evaluated.summary["winner"]

    for domain_id, domain in evaluated.summary["domains"].items():
        scores, labels = saved.domain_arrays(winner, domain_id, split="test")
        point = realised_rates(
            (domain["auto_reject_threshold"], domain["auto_approve_threshold"]),
            scores,
            labels,
        )
        assert domain["automation_rate"] == pytest.approx(point.automation, abs=1e-6)
        assert domain["false_approve_rate"] == pytest.approx(point.far, abs=1e-6)
        assert domain["false_reject_rate"] == pytest.approx(point.frr, abs=1e-6)


def test_certified_sides_hold_their_targets_on_calibration(
    evaluated: EvaluationResult,
) -> None:
    """A certified side's bound is at most its target; an off side has no threshold."""
    for domain in evaluated.summary["domains"].values():
        for side, target in (("approve", 0.05), ("reject", 0.05)):
            certificate = domain["sides"][side]
            if certificate["certified"]:
                assert certificate["upper_bound"] <= target
            else:
                assert certificate["threshold"] is None


def test_registered_version_resolves_through_the_alias(
    evaluated: EvaluationResult,
) -> None:
    """The challenger alias points at the registered winner, which predicts."""
    import pandas as pd

    configure_tracking(evaluated.summary["mlflow"]["tracking_uri"])
    version = get_version_by_alias("heysh-relevance", "challenger")
    model = mlflow.pyfunc.load_model("models:/heysh-relevance@challenger")
    frame = pd.DataFrame(
        {
            "domain_id": ["bbc-news:sport"],
            "domain_description": ["Sport news: football, tennis."],
            "text": ["The striker scored twice in the cup final."],
        }
    )
    scores = model.predict(frame)["score"]

    assert version is not None
    assert version.version == evaluated.summary["registered"]["version"]
    assert version.tags["dataset_hash"] == evaluated.summary["dataset"]["content_hash"]
    assert 0.0 <= float(scores.iloc[0]) <= 10.0


def test_outputs_include_plots_and_configs(evaluated: EvaluationResult) -> None:
    """The output folder holds the table, domain configs and the promised plots."""
    out = evaluated.output_dir
    configs = json.loads((out / "domain_configs.json").read_text())

    assert (out / "plots" / "precision_recall.png").stat().st_size > 1000
    assert (out / "plots" / "reliability.png").stat().st_size > 1000
    assert list((out / "plots").glob("landscape-*.png"))
    assert set(configs) == set(evaluated.summary["domains"])
    assert "auto_approve_threshold" in next(iter(configs.values()))


def test_split_is_deterministic(shared_datasets: Path) -> None:
    """Preparing the same experiment twice gives identical splits and hash."""
    spec = build_experiment(
        {
            "data": str(shared_datasets / "sib200-swedish"),
            "max_documents": 200,
            "max_domains": 3,
        }
    )

    first, second = prepare_data(spec), prepare_data(spec)

    assert first.content_hash == second.content_hash
    assert np.array_equal(first.doc_split, second.doc_split)


def _runs_in(home: Path) -> int:
    db = home / "mlflow" / "mlflow.db"
    if not db.exists():
        return 0
    configure_tracking(f"sqlite:///{db}")
    return len(mlflow.search_runs(search_all_experiments=True))


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        ({"models": "lexical,no-such-model"}, ModelError, "no-such-model"),
        ({"max_documents": 5}, DataError, "relevant"),
        ({"targets": {"false_approve": 1.5}}, ConfigError, "false_approve"),
        ({"data": "/nonexistent/folder/data.csv"}, DataError, "data.csv"),
    ],
)
def test_bad_input_fails_before_anything_is_logged(
    tmp_path: Path, session_cache_root: Path, raw: dict, error: type, message: str
) -> None:
    """Bad input raises a clear error and leaves no MLflow run or registered model."""
    settings = load_settings(
        home=tmp_path, cache_root=session_cache_root, mlflow_tracking_uri=None
    )

    with pytest.raises(error, match=message):
        run_evaluation(
            build_experiment({"data": "demo", **raw}),
            settings,
            tmp_path / "out",
            show_progress=False,
        )

    assert _runs_in(tmp_path) == 0
    mlflow.set_tracking_uri("")
