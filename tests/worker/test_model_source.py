"""The AI worker's model source: default model, registry alias, live swaps."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from heysh.activities.metrics import REGISTRY
from heysh.models.base import ScoringPairs
from heysh.worker.model_source import (
    DEFAULT_MODEL_NAME,
    DEFAULT_MODEL_VERSION,
    ModelSource,
    RegistryModelLoader,
    build_default_model,
)
from tests.review_stack import DATASETS, ReviewStack, read_jsonl
from tests.temporal_server import TemporalDevServer

CONSTANT_MODEL_CODE = '''
import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class ConstantModel(PythonModel):
    """Scores every pair with the configured constant."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        score = float(context.model_config["score"])
        return pd.DataFrame({"score": [score] * len(model_input)})


mlflow.models.set_model(ConstantModel())
'''


def register_constant_models(tmp_path: Path, scores: list[float]) -> str:
    """Register one constant-score pyfunc version per score; return the URI."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = tmp_path / "constant_model.py"
    code.write_text(CONSTANT_MODEL_CODE)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # An explicit artifact location keeps artifacts out of ./mlruns of the
    # working directory (the repository, when pytest runs from its root).
    experiment_id = mlflow.create_experiment(
        f"model-source-{tmp_path.name}", artifact_location=(tmp_path / "art").as_uri()
    )
    for score in scores:
        with mlflow.start_run(experiment_id=experiment_id):
            mlflow.pyfunc.log_model(
                name="model",
                python_model=str(code),
                model_config={"score": score},
                registered_model_name="heysh-relevance",
                pip_requirements=["pandas"],
            )
    return uri


def set_alias(uri: str, version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        "heysh-relevance", "production", version
    )


def one_score(source: ModelSource) -> float:
    return float(source.current().score(ScoringPairs(["d"], ["desc"], ["text"]))[0])


def model_info_samples() -> dict[tuple[str, str], float]:
    return {
        (s.labels["name"], s.labels["version"]): s.value
        for metric in REGISTRY.collect()
        if metric.name == "heysh_model_info"
        for s in metric.samples
    }


@pytest.mark.model
def test_model_source_nothing_registered_uses_default_and_warns(
    tmp_path: Path, encoder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An empty registry gives the default MiniLM model and a WARNING."""
    source = ModelSource(
        encoder=encoder,
        loader=RegistryModelLoader(f"sqlite:///{tmp_path / 'empty.db'}"),
        model_name="heysh-relevance",
        alias="production",
    )

    with caplog.at_level(logging.WARNING, logger="heysh.worker.model_source"):
        model = source.load()

    assert (model.name, model.version) == (DEFAULT_MODEL_NAME, DEFAULT_MODEL_VERSION)
    assert source.is_loaded
    assert [r.getMessage() for r in caplog.records] == [
        "no_registered_model_using_default"
    ]
    assert model_info_samples() == {(DEFAULT_MODEL_NAME, DEFAULT_MODEL_VERSION): 1.0}
    assert source.refresh() is False


@pytest.mark.model
def test_default_model_ranks_business_news_above_other_sections(encoder: Any) -> None:
    """The default model scores business articles above sport, tech and arts ones."""
    domains = {
        d["domain_id"]: d for d in read_jsonl(DATASETS / "bbc-news" / "domains.jsonl")
    }
    docs = {d["id"]: d for d in read_jsonl(DATASETS / "bbc-news" / "documents.jsonl")}
    business = ["bbc-news:business/001", "bbc-news:business/002"]
    others = ["bbc-news:sport/001", "bbc-news:tech/001", "bbc-news:entertainment/001"]
    description = domains["bbc-news:business"]["description"]
    model = build_default_model(encoder)

    scores = model.score(
        ScoringPairs(
            ["bbc-news:business"] * 5,
            [description] * 5,
            [docs[i]["text"] for i in business + others],
        )
    )

    assert scores.shape == (5,)
    assert ((scores >= 0) & (scores <= 10)).all()
    assert scores[:2].min() > scores[2:].max() + 2.0


@pytest.mark.integration
def test_model_source_follows_moved_alias_without_restart(
    tmp_path: Path, encoder: Any
) -> None:
    """Moving the production alias swaps the served model on the next check."""
    uri = register_constant_models(tmp_path, [3.0, 9.0])
    set_alias(uri, "1")
    source = ModelSource(
        encoder=encoder,
        loader=RegistryModelLoader(uri),
        model_name="heysh-relevance",
        alias="production",
    )
    source.load()
    before = (source.current().version, one_score(source))

    set_alias(uri, "2")

    async def watch_briefly() -> None:
        stop = asyncio.Event()
        watcher = asyncio.create_task(source.watch(0.2, stop))
        for _ in range(200):
            if source.current().version == "2":
                break
            await asyncio.sleep(0.1)
        stop.set()
        await watcher

    asyncio.run(watch_briefly())

    assert before == ("1", 3.0)
    assert (source.current().name, source.current().version) == ("heysh-relevance", "2")
    assert one_score(source) == 9.0
    assert source.swaps == 1
    assert model_info_samples() == {("heysh-relevance", "2"): 1.0}
    assert source.for_override("models:/heysh-relevance/1").version == "1"
    assert one_score(source) == 9.0


@pytest.mark.integration
@pytest.mark.model
def test_review_with_default_model_records_its_name_and_version(
    temporal_server: TemporalDevServer, tmp_path: Path, encoder: Any
) -> None:
    """A review on a fresh install is scored by the default model, which is recorded."""
    source = ModelSource(
        encoder=encoder,
        loader=RegistryModelLoader(f"sqlite:///{tmp_path / 'empty.db'}"),
        model_name="heysh-relevance",
        alias="production",
    )
    stack = ReviewStack(
        temporal_server.address,
        tmp_path / "home",
        model=None,
        encoder=encoder,
        model_source=source,
    )
    try:
        domain = stack.add_domain(
            {"controller_pool": ["ann"]},
            {"ann": "controller", "uma": "contributor"},
            description="Sport: football, tennis, athletics.",
        )
        off_topic = b"The central bank raised interest rates to curb inflation."
        result = stack.result(domain, stack.submit(domain, off_topic).doc_id)
    finally:
        stack.close()

    assert (result.model_name, result.model_version) == (
        DEFAULT_MODEL_NAME,
        DEFAULT_MODEL_VERSION,
    )
    assert (result.outcome, result.decided_by) == ("rejected", "thresholds")
    assert result.score <= 4.0
