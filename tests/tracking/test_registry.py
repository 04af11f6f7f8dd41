"""Registry round trip: register a scorer, resolve it through an alias, predict."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from heysh.config import Settings
from heysh.models.base import ScoringPairs
from heysh.models.factory import build_scorer
from heysh.models.pyfunc import log_scorer_model
from heysh.tracking.registry import get_version_by_alias, register_model, set_alias
from heysh.tracking.setup import configure_tracking, ensure_experiment


def _fitted_lexical():
    texts = [
        "wind turbines and solar panels feed the grid",
        "the striker scored a late goal in the derby",
        "offshore wind farms expand renewable capacity",
        "the referee showed a red card in the cup match",
    ] * 6
    description = "Renewable energy: wind, solar and the power grid."
    pairs = ScoringPairs(["energy"] * len(texts), [description] * len(texts), texts)
    labels = np.array([1, 0, 1, 0] * 6)
    return build_scorer("lexical").fit(pairs, labels), pairs


def test_register_model_alias_resolves_to_the_version(heysh_env: Settings) -> None:
    """Aliases point at the registered version, and the model loads by alias."""
    configure_tracking(heysh_env.tracking_uri, heysh_env.artifact_root)
    scorer, pairs = _fitted_lexical()
    experiment_id = ensure_experiment("registry-test", heysh_env.artifact_root)
    with mlflow.start_run(experiment_id=experiment_id):
        info = log_scorer_model(scorer, name="model")

    first = register_model(
        info.model_uri,
        "heysh-relevance",
        alias="challenger",
        tags={"dataset_hash": "abc"},
    )
    second = register_model(info.model_uri, "heysh-relevance", alias=None, tags={})
    set_alias("heysh-relevance", "production", second.version)
    loaded = mlflow.pyfunc.load_model("models:/heysh-relevance@challenger")
    predicted = loaded.predict(
        pd.DataFrame(
            {
                "domain_id": list(pairs.domain_ids),
                "domain_description": list(pairs.descriptions),
                "text": list(pairs.texts),
            }
        )
    )["score"].to_numpy()

    assert (first.version, second.version) == ("1", "2")
    assert get_version_by_alias("heysh-relevance", "challenger").version == "1"
    assert get_version_by_alias("heysh-relevance", "production").version == "2"
    assert get_version_by_alias("heysh-relevance", "challenger").tags == {
        "dataset_hash": "abc"
    }
    assert predicted == pytest.approx(scorer.score(pairs), abs=1e-9)


def test_get_version_by_alias_unset_alias_is_none(heysh_env: Settings) -> None:
    """An alias nobody set, or a model nobody registered, resolves to None."""
    configure_tracking(heysh_env.tracking_uri, heysh_env.artifact_root)

    assert get_version_by_alias("heysh-relevance", "production") is None
