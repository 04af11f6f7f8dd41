"""Tests for heysh.evaluation.plots."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from heysh.errors import DataError
from heysh.evaluation.metrics import precision_recall_curve, reliability_bins
from heysh.evaluation.plots import (
    CHOSEN_LABEL,
    plot_automation_landscape,
    plot_precision_recall,
    plot_reliability_diagram,
)
from heysh.evaluation.sweep import (
    operating_point,
    sweep_threshold_pairs,
    threshold_grid,
)
from heysh.evaluation.thresholds import EmpiricalChoice, Targets, tune_thresholds

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _separable() -> tuple[np.ndarray, np.ndarray]:
    """400 documents: 200 non-relevant at 1, 200 relevant at 9."""
    return (np.array([1.0] * 200 + [9.0] * 200), np.array([0] * 200 + [1] * 200))


def _labelled_lines(figure: Figure) -> dict[str, Line2D]:
    return {str(line.get_label()): line for line in figure.axes[0].get_lines()}


def test_plot_automation_landscape_marks_chosen_pair() -> None:
    """The landscape renders and has one star at (approve, reject) of the choice."""
    scores, labels = _separable()
    grid = threshold_grid(1.0)
    choice = tune_thresholds(
        scores, labels, grid=grid, start_scores=scores, start_labels=labels
    )
    sweep = sweep_threshold_pairs(scores, labels, grid)

    figure = plot_automation_landscape(sweep, choice)

    marker = _labelled_lines(figure)[CHOSEN_LABEL]
    assert np.asarray(marker.get_xdata()).tolist() == [2.0]
    assert np.asarray(marker.get_ydata()).tolist() == [1.0]
    assert _png_bytes(figure).startswith(PNG_MAGIC)
    legend = figure.axes[0].get_legend()
    assert legend is not None
    texts = [text.get_text() for text in legend.get_texts()]
    assert texts == [CHOSEN_LABEL, "misses a target"]


def test_plot_automation_landscape_shades_infeasible_pairs() -> None:
    """The shading layer covers exactly the valid pairs that miss a target."""
    rng = np.random.default_rng(0)
    scores = np.round(rng.uniform(0, 10, 300), 1)
    labels = (rng.uniform(size=300) < scores / 10).astype(int)
    grid = threshold_grid(1.0)
    sweep = sweep_threshold_pairs(scores, labels, grid)
    choice = EmpiricalChoice(
        2.0, 9.0, operating_point(scores, labels, 2.0, 9.0), Targets()
    )

    figure = plot_automation_landscape(sweep, choice)

    shading: np.ma.MaskedArray = np.ma.asarray(
        figure.axes[0].collections[1].get_array()
    )
    expected = np.ma.filled((sweep.far > 0.05) | (sweep.frr > 0.05), False)
    np.testing.assert_array_equal(~np.ma.getmaskarray(shading), expected)
    assert expected.any() and not expected.all()


def test_plot_automation_landscape_one_side_off_draws_a_line() -> None:
    """With the reject side off the choice is a vertical line at the approve value."""
    scores, labels = _separable()
    sweep = sweep_threshold_pairs(scores, labels, threshold_grid(1.0))
    choice = EmpiricalChoice(
        None, 7.0, operating_point(scores, labels, None, 7.0), Targets()
    )

    figure = plot_automation_landscape(sweep, choice)

    line = _labelled_lines(figure)[f"{CHOSEN_LABEL} (reject off)"]
    assert np.asarray(line.get_xdata()).tolist() == [7.0, 7.0]


def test_plot_automation_landscape_both_sides_off_says_so() -> None:
    """With both sides off the axes carry a sentence instead of a marker."""
    scores, labels = _separable()
    sweep = sweep_threshold_pairs(scores, labels, threshold_grid(1.0))
    choice = EmpiricalChoice(
        None, None, operating_point(scores, labels, None, None), Targets()
    )

    figure = plot_automation_landscape(sweep, choice)

    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["both sides off: every document to humans"]
    assert CHOSEN_LABEL not in _labelled_lines(figure)


def test_plot_reliability_diagram_one_line_per_model() -> None:
    """Each model gets a line through its non-empty bins, plus the diagonal."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    models = {"sharp": np.where(labels == 1, 9.0, 1.0), "flat": np.full(500, 5.0)}

    figure = plot_reliability_diagram(labels, models)

    lines = _labelled_lines(figure)
    assert len(lines) == 3
    sharp = next(v for k, v in lines.items() if k.startswith("sharp (ECE "))
    bins = reliability_bins(labels, models["sharp"])
    filled = bins.counts > 0
    np.testing.assert_allclose(
        np.asarray(sharp.get_xdata(), dtype=float), bins.mean_confidence[filled]
    )
    np.testing.assert_allclose(
        np.asarray(sharp.get_ydata(), dtype=float), bins.accuracy[filled]
    )
    assert any(k.startswith("flat (ECE ") for k in lines)
    assert _png_bytes(figure).startswith(PNG_MAGIC)


def test_plot_precision_recall_one_step_line_per_model() -> None:
    """Each model gets a precision-recall line ending at its full-recall point."""
    scores, labels = _separable()
    models = {
        "perfect": scores,
        "noisy": np.clip(scores + np.linspace(-3, 3, 400), 0, 10),
    }

    figure = plot_precision_recall(labels, models)

    lines = _labelled_lines(figure)
    perfect = next(v for k, v in lines.items() if k.startswith("perfect (AP 1.000)"))
    curve = precision_recall_curve(labels, models["perfect"])
    assert np.asarray(perfect.get_xdata())[-1] == curve.recall[-1]
    assert any(k.startswith("noisy (AP ") for k in lines)
    assert "share relevant (0.50)" in lines
    assert _png_bytes(figure).startswith(PNG_MAGIC)


def test_plot_functions_empty_models_raise() -> None:
    """A comparison plot needs at least one model."""
    with pytest.raises(DataError, match="scores_by_model is empty"):
        plot_precision_recall([0, 1], {})


def test_plot_reliability_diagram_length_mismatch_raises() -> None:
    """Labels and every model's scores must have the same length."""
    with pytest.raises(DataError, match=r"labels \(for m\) must have shape \(3,\)"):
        plot_reliability_diagram([0, 1], {"m": [1.0, 2.0, 3.0]})
