"""Judges built by the factory, calibrated, saved and loaded as pyfunc state."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from heysh.models.base import ScoringPairs
from heysh.models.factory import build_scorer
from heysh.models.pyfunc import (
    STATE_FILE,
    RelevancePyfuncModel,
    load_scorer,
    log_scorer_model,
    save_scorer,
)
from tests.llm.conftest import API_KEY
from tests.llm.mock_servers import AnthropicMockServer, OpenAIMockServer

ENERGY = "Energy markets: oil prices, gas supply, electricity and power stations."
TEXTS = [
    "Oil prices rose as gas supply fell and power stations burned more oil.",
    "Electricity prices and gas supply worried power station owners.",
    "Oil and gas markets steadied.",
    "The choir sang Bach in the cathedral on Sunday evening.",
    "Swifts arrive in early May and nest under roof tiles.",
    "A sourdough starter needs flour, water and patience.",
]
LABELS = np.array([1, 1, 1, 0, 0, 0])


def _pairs() -> ScoringPairs:
    return ScoringPairs(["energy"] * len(TEXTS), [ENERGY] * len(TEXTS), TEXTS)


@pytest.mark.parametrize("kind", ["claude-judge", "openai-judge"])
def test_judge_saved_and_loaded_scores_the_same(
    anthropic_server: AnthropicMockServer,
    openai_server: OpenAIMockServer,
    tmp_path: Path,
    kind: str,
) -> None:
    """A calibrated judge survives save/load; the state file holds no API key."""
    scorer = build_scorer(kind, client_retries=0).fit(_pairs(), LABELS)
    expected = scorer.score(_pairs())

    save_scorer(scorer, tmp_path / "judge")
    loaded = load_scorer(tmp_path / "judge")

    np.testing.assert_allclose(loaded.score(_pairs()), expected)
    assert expected[:3].min() > expected[3:].max()
    assert loaded.scorer.on_parse_failure == "raise"
    assert API_KEY.encode() not in (tmp_path / "judge" / STATE_FILE).read_bytes()


def test_judge_pyfunc_predicts_on_a_frame(
    anthropic_server: AnthropicMockServer, tmp_path: Path
) -> None:
    """The MLflow pyfunc wrapper scores a DataFrame with the loaded judge."""
    scorer = build_scorer("claude-judge", client_retries=0).fit(_pairs(), LABELS)
    save_scorer(scorer, tmp_path / "scorer")
    model = RelevancePyfuncModel()
    model.load_context(SimpleNamespace(artifacts={"scorer": str(tmp_path / "scorer")}))
    frame = pd.DataFrame(
        {
            "domain_id": ["energy"] * 2,
            "domain_description": [ENERGY] * 2,
            "text": [TEXTS[0], TEXTS[3]],
        }
    )

    out = model.predict(None, frame)

    np.testing.assert_allclose(
        out["score"],
        scorer.score(ScoringPairs(["energy"] * 2, [ENERGY] * 2, [TEXTS[0], TEXTS[3]])),
    )


def test_factory_rejects_unknown_judge_parameter(
    anthropic_server: AnthropicMockServer,
) -> None:
    """A parameter the judge does not take is named in the error."""
    with pytest.raises(Exception, match="does not take temperature"):
        build_scorer("claude-judge", temperature=0.0)


def test_logged_judge_requires_its_sdk_not_torch(
    anthropic_server: AnthropicMockServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A judge logged to MLflow lists the pinned anthropic SDK and no torch."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = mlflow.create_experiment(
        "judges", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    scorer = build_scorer("claude-judge", client_retries=0).fit(_pairs(), LABELS)
    try:
        with mlflow.start_run(experiment_id=experiment):
            info = log_scorer_model(scorer)
        folder = mlflow.artifacts.download_artifacts(info.model_uri)
    finally:
        mlflow.set_tracking_uri("")
    requirements = (Path(folder) / "requirements.txt").read_text().split()

    assert f"anthropic=={version('anthropic')}" in requirements
    assert not any(r.startswith(("torch", "openai")) for r in requirements)
