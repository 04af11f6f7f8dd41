"""Score drift: KS and PSI against a reference, with the alarm rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from heysh.errors import DataError
from heysh.feedback.drift import (
    check_drift,
    domain_drift,
    population_stability_index,
    read_reference_scores,
)
from heysh.stores.base import DecisionRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def scores(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """Scores on 0-10 shaped like a relevance model's: a mix of two bumps."""
    low = rng.normal(2.5 + shift, 1.2, size=n * 3 // 4)
    high = rng.normal(8.0 + shift, 1.0, size=n - n * 3 // 4)
    return np.clip(np.concatenate([low, high]), 0.0, 10.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check_drift_shifted_distribution_alarms(seed):
    """Scores moved up by 1.5 points alarm on KS and PSI together."""
    rng = np.random.default_rng(seed)

    check = check_drift(scores(rng, 600), scores(rng, 400, shift=1.5))

    assert check.alarm
    assert check.verdict == "drift"
    assert check.ks_p_value < 1e-6
    assert check.psi > 0.2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check_drift_unshifted_distribution_does_not_alarm(seed):
    """A fresh sample of the same distribution stays stable."""
    rng = np.random.default_rng(seed)

    check = check_drift(scores(rng, 600), scores(rng, 400))

    assert not check.alarm
    assert check.verdict == "stable"
    assert check.psi < 0.1


def test_check_drift_small_samples_give_no_verdict():
    """Fewer than 30 scores on a side: no statistics, no alarm."""
    rng = np.random.default_rng(3)

    check = check_drift(scores(rng, 600), scores(rng, 20, shift=4.0))

    assert (check.alarm, check.verdict, check.psi) == (False, "insufficient data", None)


def test_population_stability_index_grows_with_shift_and_refuses_empty():
    """PSI is near 0 for the same sample and larger for larger shifts."""
    rng = np.random.default_rng(4)
    reference = scores(rng, 2000)

    values = [
        population_stability_index(reference, scores(rng, 2000, shift=s))
        for s in (0.0, 0.5, 1.5)
    ]

    assert values[0] < 0.02 < values[1] < values[2]
    with pytest.raises(DataError, match="recent scores are empty"):
        population_stability_index(reference, [])


def test_domain_drift_compares_recent_decisions_with_earlier_or_file(
    metadata, tmp_path
):
    """Recent decision scores are checked against earlier ones or a score file."""
    rng = np.random.default_rng(5)
    old, new = scores(rng, 300), scores(rng, 300, shift=1.5)
    for i, score in enumerate(np.concatenate([old, new])):
        metadata.record_decision(
            DecisionRow(
                f"d{i}",
                "news",
                "approved",
                "thresholds",
                float(score),
                "m",
                "1",
                {},
                decided_at=T0 + timedelta(minutes=i),
            )
        )
    recent_since = T0 + timedelta(minutes=300)
    reference_file = tmp_path / "reference.json"
    reference_file.write_text(json.dumps(scores(rng, 200, shift=1.5).tolist()))

    against_past = domain_drift(metadata, "news", recent_since=recent_since)
    against_file = domain_drift(
        metadata,
        "news",
        recent_since=recent_since,
        reference_scores=read_reference_scores(reference_file),
    )

    assert (against_past.n_reference, against_past.n_recent) == (300, 300)
    assert against_past.alarm
    assert not against_file.alarm
    with pytest.raises(DataError, match="reference score file not found"):
        read_reference_scores(tmp_path / "missing.json")
