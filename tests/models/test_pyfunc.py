"""Tests of saving, loading and logging scorers as MLflow pyfunc models."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heysh.errors import ModelError
from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer
from heysh.models.embeddings import SentenceEncoder
from heysh.models.factory import build_scorer
from heysh.models.fast_encoder import FastSentenceEncoder
from heysh.models.pyfunc import (
    RelevancePyfuncModel,
    load_scorer,
    loadable_backend,
    log_scorer_model,
    pip_requirements,
    save_scorer,
)
from tests.models.conftest import LabelledPairs, read_label_collection

FRAME = pd.DataFrame(
    {
        "domain_id": ["ag-news:sports", "ag-news:sports", "ag-news:business", "x:new"],
        "domain_description": [
            "Sports news: matches, results, players and teams.",
            "Sports news: matches, results, players and teams.",
            "Business news: companies, markets and the economy.",
            "Astronomy: planets, stars and telescopes.",
        ],
        "text": [
            "The home team won the final after a late goal by their captain.",
            "Shares fell sharply after the company cut its profit forecast.",
            "Shares fell sharply after the company cut its profit forecast.",
            None,
        ],
    },
    index=[10, 11, 12, 13],
)


def _pairs(frame: pd.DataFrame) -> ScoringPairs:
    return ScoringPairs(
        list(frame["domain_id"]),
        list(frame["domain_description"]),
        [t if isinstance(t, str) else "" for t in frame["text"]],
    )


@pytest.fixture
def tracking(tmp_path: Path) -> Iterator[str]:
    """A local MLflow SQLite store and artifact folder under tmp_path, one run."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = mlflow.create_experiment(
        "heysh-tests", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    try:
        yield experiment
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def fitted_lexical(ag_news_fit) -> CalibratedScorer:
    """The lexical scorer calibrated on the AG News slice (no MiniLM needed)."""
    return build_scorer("lexical").fit(ag_news_fit.pairs, ag_news_fit.labels)


def test_save_and_load_lexical_scores_the_same(
    fitted_lexical: CalibratedScorer, tmp_path: Path
) -> None:
    """A saved and reloaded lexical scorer gives identical calibrated scores."""
    save_scorer(fitted_lexical, tmp_path / "lexical")

    loaded = load_scorer(tmp_path / "lexical")

    assert loaded.name == "lexical"
    np.testing.assert_array_equal(
        loaded.score(_pairs(FRAME)), fitted_lexical.score(_pairs(FRAME))
    )


def test_save_unfitted_scorer_raises(tmp_path: Path) -> None:
    """Saving an unfitted scorer is refused."""
    with pytest.raises(
        ModelError, match="'lexical' is not fitted; fit it before saving"
    ):
        save_scorer(build_scorer("lexical"), tmp_path / "x")


def test_load_scorer_from_empty_folder_raises(tmp_path: Path) -> None:
    """A folder without a saved scorer gives a ModelError naming the file."""
    with pytest.raises(
        ModelError, match=r"cannot read a saved scorer at .*scorer\.joblib"
    ):
        load_scorer(tmp_path)


@pytest.mark.model
def test_load_scorer_uses_cache_under_heysh_home(
    fitted_classifier: CalibratedScorer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEYSH_HOME at load gives the recreated encoder a cache under home/cache."""
    save_scorer(fitted_classifier, tmp_path / "model")
    monkeypatch.setenv("HEYSH_HOME", str(tmp_path / "home"))

    loaded = load_scorer(tmp_path / "model")

    cache = loaded.scorer.encoder.cache
    assert cache is not None
    assert cache.path == tmp_path / "home" / "cache" / "embeddings.sqlite"
    assert loaded.scorer.encoder is not fitted_classifier.scorer.encoder


@pytest.mark.model
def test_pyfunc_round_trip_predicts_like_the_scorer(
    fitted_classifier: CalibratedScorer, tracking: str
) -> None:
    """Logged, reloaded with mlflow.pyfunc.load_model, it scores like the original."""
    import mlflow

    with mlflow.start_run(experiment_id=tracking):
        info = log_scorer_model(fitted_classifier, name="relevance")
    model = mlflow.pyfunc.load_model(info.model_uri)

    predicted = model.predict(FRAME)

    expected = fitted_classifier.score(_pairs(FRAME))
    assert list(predicted.columns) == ["score"]
    assert list(predicted.index) == [10, 11, 12, 13]
    np.testing.assert_allclose(predicted["score"].to_numpy(), expected, atol=1e-5)
    assert predicted["score"].between(0, 10).all()
    assert expected[0] > expected[1]
    assert [c.name for c in info.signature.inputs.inputs] == [
        "domain_id",
        "domain_description",
        "text",
    ]


@pytest.mark.model
def test_pyfunc_missing_column_names_expected_and_found(
    fitted_classifier: CalibratedScorer, tmp_path: Path
) -> None:
    """Input without a text column fails naming the expected and found columns."""
    save_scorer(fitted_classifier, tmp_path / "scorer")
    model = RelevancePyfuncModel()
    model.load_context(
        type("Context", (), {"artifacts": {"scorer": str(tmp_path / "scorer")}})
    )

    with pytest.raises(
        ModelError,
        match=r"missing column\(s\) text; expected domain_id, domain_description, "
        r"text, found domain_id, domain_description, body",
    ):
        model.predict(None, FRAME.rename(columns={"text": "body"}))


def test_log_scorer_model_without_run_raises(fitted_lexical: CalibratedScorer) -> None:
    """Logging outside an MLflow run is refused."""
    import mlflow

    assert mlflow.active_run() is None
    with pytest.raises(ModelError, match="needs an active MLflow run"):
        log_scorer_model(fitted_lexical)


def test_pip_requirements_pin_what_each_kind_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lexical needs no torch; judges their SDK; the cross-encoder transformers."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "not-a-key")
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-key")

    lexical = pip_requirements(build_scorer("lexical"))
    claude = pip_requirements(build_scorer("claude-judge"))
    openai = pip_requirements(build_scorer("openai-judge"))
    cross = pip_requirements(build_scorer("cross-encoder"))

    assert f"scikit-learn=={version('scikit-learn')}" in lexical
    assert not any(r.startswith(("torch", "anthropic", "openai")) for r in lexical)
    assert f"anthropic=={version('anthropic')}" in claude
    assert not any(r.startswith(("torch", "openai")) for r in claude)
    assert f"openai=={version('openai')}" in openai
    assert f"transformers=={version('transformers')}" in cross
    assert f"torch=={version('torch')}" in cross
    assert not any(r.startswith("sentence-transformers") for r in cross)


def test_pip_requirements_name_the_fast_encoders_runtime() -> None:
    """A scorer on an OpenVINO encoder lists openvino; on plain MiniLM, it does not."""
    fast = FastSentenceEncoder(backend="openvino-bf16")

    on_fast = pip_requirements(build_scorer("embedding-similarity", encoder=fast))
    plain = pip_requirements(build_scorer("embedding-similarity"))

    assert f"openvino=={version('openvino')}" in on_fast
    assert f"sentence-transformers=={version('sentence-transformers')}" in on_fast
    assert not any(r.startswith("openvino") for r in plain)


@pytest.fixture(scope="module")
def small_fit() -> LabelledPairs:
    """20 AG News documents against its 4 domains."""
    return read_label_collection("ag-news", 20, seed=1)


@pytest.mark.model
def test_fast_encoder_scorer_saved_and_reloaded_on_the_same_backend(
    small_fit: LabelledPairs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenVINO-backed scorer reloads on OpenVINO and scores the same."""
    monkeypatch.setenv("HEYSH_HOME", str(tmp_path / "home"))
    encoder = FastSentenceEncoder(backend="openvino-bf16")
    scorer = build_scorer("embedding-similarity", encoder=encoder)
    scorer.fit(small_fit.pairs, small_fit.labels)
    save_scorer(scorer, tmp_path / "model")

    loaded = load_scorer(tmp_path / "model")

    assert isinstance(loaded.scorer.encoder, FastSentenceEncoder)
    assert loaded.scorer.encoder.backend == "openvino-bf16"
    np.testing.assert_allclose(
        loaded.score(small_fit.pairs), scorer.score(small_fit.pairs), atol=1e-6
    )


@pytest.mark.model
def test_fast_encoder_scorer_falls_back_when_runtime_missing(
    small_fit: LabelledPairs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without OpenVINO at load time, plain MiniLM is used and a WARNING says so."""
    import importlib.util

    encoder = FastSentenceEncoder(backend="openvino-bf16", export_dir=tmp_path)
    scorer = build_scorer("embedding-similarity", encoder=encoder)
    scorer.fit(small_fit.pairs, small_fit.labels)
    save_scorer(scorer, tmp_path / "model")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "openvino" else real_find_spec(name, *a),
    )

    caplog.clear()  # Fitting and saving may have logged, depending on levels.
    with caplog.at_level(logging.WARNING, logger="heysh.models.pyfunc"):
        loaded = load_scorer(tmp_path / "model", cache_dir=tmp_path / "home")

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert type(loaded.scorer.encoder) is SentenceEncoder
    assert [r.message for r in warnings] == ["encoder_backend_fallback"]
    assert warnings[0].backend == "torch"
    assert np.isfinite(loaded.score(small_fit.pairs)).all()


def test_loadable_backend_int8_without_calibration_becomes_bf16() -> None:
    """openvino-int8 cannot be rebuilt without its calibration texts."""
    backend, reason = loadable_backend("openvino-int8")

    assert backend == "openvino-bf16"
    assert "calibration" in reason
