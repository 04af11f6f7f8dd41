"""The fine-tuned cross-encoder: a tiny CPU run, its windows, saving and loading."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from heysh.errors import ModelError
from heysh.models.base import ScoringPairs
from heysh.models.cross_encoder import CrossEncoderScorer
from heysh.models.factory import build_scorer
from heysh.models.pyfunc import load_scorer, save_scorer
from tests.models.conftest import LabelledPairs, read_label_collection

# Small enough for seconds on two CPU cores: 16 short pairs, 12 steps of 8.
TINY = {
    "epochs": 6,
    "batch_size": 8,
    "max_length": 48,
    "learning_rate": 2e-4,
    "max_windows": 3,
    "max_words": 40,
    "overlap_words": 8,
}


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread: on a shared 2-core machine two threads spin and crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_fit(one_torch_thread: None) -> LabelledPairs:
    """4 AG News documents against its 4 domains (16 pairs, a quarter relevant)."""
    return read_label_collection("ag-news", 4, seed=0)


@pytest.fixture(scope="module")
def fitted(tiny_fit: LabelledPairs) -> CrossEncoderScorer:
    """A cross-encoder fine-tuned on the tiny fit split, on CPU."""
    scorer = CrossEncoderScorer(device="cpu", **TINY)
    scorer.fit(tiny_fit.pairs, tiny_fit.labels)
    return scorer


def _weighted_bce(scores: np.ndarray, labels: np.ndarray) -> float:
    """The training loss: BCE with logits, positives weighted by the class ratio."""
    pos_weight = min(10.0, max(1.0, (labels == 0).sum() / (labels == 1).sum()))
    log_p = -np.logaddexp(0, -scores)
    log_not_p = -np.logaddexp(0, scores)
    return float(-(pos_weight * labels * log_p + (1 - labels) * log_not_p).mean())


def test_cross_encoder_fit_lowers_training_loss(
    fitted: CrossEncoderScorer, tiny_fit: LabelledPairs
) -> None:
    """Training lowers the loss on the fit pairs and ranks relevant pairs higher."""
    untrained = CrossEncoderScorer(device="cpu", **TINY)
    untrained._load_fresh()  # same seed: the head the training started from

    before = _weighted_bce(untrained.raw_scores(tiny_fit.pairs), tiny_fit.labels)
    scores = fitted.raw_scores(tiny_fit.pairs)
    after = _weighted_bce(scores, tiny_fit.labels)

    assert after < before - 0.05, (before, after)
    relevant = tiny_fit.labels == 1
    assert scores[relevant].mean() > scores[~relevant].mean()
    assert fitted.train_pairs_ == 16
    assert fitted.fit_seconds_ > 0


def test_cross_encoder_scores_max_over_windows(fitted: CrossEncoderScorer) -> None:
    """A long document scores the maximum of its windows' scores."""
    words = [f"w{i}" for i in range(100)]
    text = " ".join(words)
    windows = [" ".join(words[s : s + 40]) for s in (0, 32, 64)]
    description = "World news: politics, diplomacy and conflicts."

    whole = fitted.raw_scores(ScoringPairs(["d"], [description], [text]))
    parts = fitted.raw_scores(ScoringPairs(["d"] * 3, [description] * 3, windows))

    assert whole.dtype == np.float64 and whole.shape == (1,)
    assert whole[0] == pytest.approx(parts.max(), abs=1e-5)


def test_cross_encoder_state_round_trip_same_scores(
    fitted: CrossEncoderScorer, tiny_fit: LabelledPairs
) -> None:
    """Weights and settings saved by to_state give identical scores on reload."""
    restored = CrossEncoderScorer.from_state(fitted.to_state(), device="cpu")

    np.testing.assert_allclose(
        restored.raw_scores(tiny_fit.pairs),
        fitted.raw_scores(tiny_fit.pairs),
        atol=1e-5,
    )
    assert restored.params == fitted.params


def test_cross_encoder_calibrated_pyfunc_round_trip(
    tiny_fit: LabelledPairs, tmp_path: Path
) -> None:
    """Built by the factory, cross-fitted, saved and loaded, it scores the same."""
    pairs, labels = tiny_fit.pairs, tiny_fit.labels
    scorer = build_scorer(
        "cross-encoder",
        cv_folds=2,
        epochs=1,
        batch_size=8,
        max_pairs=16,
        learning_rate=1e-4,
        max_length=48,
        device="cpu",
    )
    scorer.fit(pairs, labels)

    save_scorer(scorer, tmp_path / "ce")
    loaded = load_scorer(tmp_path / "ce")

    np.testing.assert_allclose(loaded.score(pairs), scorer.score(pairs), atol=1e-4)
    assert scorer.fit_report_["out_of_fold"] is True
    assert loaded.scorer.params.max_length == 48


def test_cross_encoder_unfitted_raises() -> None:
    """Scoring before fitting names the fix."""
    with pytest.raises(ModelError, match="not fitted; call fit"):
        CrossEncoderScorer().raw_scores(ScoringPairs(["d"], ["x"], ["y"]))


def test_cross_encoder_one_class_refused() -> None:
    """A fit split with only one label is refused before any training."""
    with pytest.raises(ModelError, match="needs both labels"):
        CrossEncoderScorer().fit(
            ScoringPairs(["d"] * 2, ["x"] * 2, ["a", "b"]), np.array([1, 1])
        )


def test_cross_encoder_bad_parameters_refused() -> None:
    """Impossible settings fail at construction with the value named."""
    with pytest.raises(ModelError, match="learning_rate must be in"):
        CrossEncoderScorer(learning_rate=2.0)
    with pytest.raises(ModelError, match="max_pairs must be at least 2"):
        CrossEncoderScorer(max_pairs=1)


def test_cross_encoder_is_supervised() -> None:
    """The cross-encoder learns from labels, so calibration cross-fits it."""
    assert CrossEncoderScorer.is_supervised is True
    assert CrossEncoderScorer.name == "cross-encoder"
