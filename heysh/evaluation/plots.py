"""Figures for threshold tuning and model comparison, drawn without pyplot.

Each function builds a :class:`matplotlib.figure.Figure` on the Agg canvas and
returns it: nothing is shown, no global pyplot state is touched, and the
caller saves it (``fig.savefig``) or lets a notebook display it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from heysh.errors import DataError
from heysh.evaluation._validation import as_labels, as_scores
from heysh.evaluation.metrics import (
    expected_calibration_error,
    pr_auc,
    precision_recall_curve,
    reliability_bins,
)
from heysh.evaluation.sweep import SweepResult
from heysh.evaluation.thresholds import EmpiricalChoice, Targets, ThresholdChoice

__all__ = [
    "CHOSEN_LABEL",
    "plot_automation_landscape",
    "plot_precision_recall",
    "plot_reliability_diagram",
]

# Label of the marker (or line, when one side is off) of the chosen pair.
CHOSEN_LABEL = "chosen pair"


def _new_figure(width: float = 6.4, height: float = 4.8) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_automation_landscape(
    sweep: SweepResult,
    choice: ThresholdChoice | EmpiricalChoice,
    targets: Targets | None = None,
) -> Figure:
    """Draw automation over every (reject, approve) pair with the chosen pair.

    Colour is the automation rate on the sweep's documents; pairs whose
    empirical false-approve or false-reject rate misses the targets are hatched
    grey, invalid pairs (reject >= approve) are blank. The chosen pair is a
    star labelled :data:`CHOSEN_LABEL`; a side that is off is drawn as a
    dashed line at the other side's threshold instead.

    Args:
        sweep: The sweep of the documents to show (usually calibration).
        choice: The tuned or empirical choice to mark.
        targets: Targets for shading; defaults to ``choice.targets``.

    Returns:
        The figure; x is the approve threshold, y the reject threshold.
    """
    targets = choice.targets if targets is None else targets
    grid = sweep.grid
    figure = _new_figure()
    axes = figure.add_subplot()

    mesh = axes.pcolormesh(
        grid,
        grid,
        sweep.automation,
        shading="nearest",
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
    )
    figure.colorbar(mesh, ax=axes, label="automation rate")

    # Shade pairs that miss a target on these documents.
    missed = np.ma.filled(
        (sweep.far > targets.false_approve) | (sweep.frr > targets.false_reject),
        False,
    )
    infeasible = np.ma.MaskedArray(np.ones(missed.shape), mask=~missed)
    axes.pcolormesh(
        grid,
        grid,
        infeasible,
        shading="nearest",
        cmap=ListedColormap(["lightgrey"]),
        alpha=0.85,
    )

    reject, approve = choice.reject_threshold, choice.approve_threshold
    if reject is not None and approve is not None:
        axes.plot(
            [approve],
            [reject],
            marker="*",
            markersize=16,
            color="red",
            markeredgecolor="white",
            linestyle="none",
            label=CHOSEN_LABEL,
        )
    elif approve is not None:
        axes.axvline(
            approve, color="red", linestyle="--", label=f"{CHOSEN_LABEL} (reject off)"
        )
    elif reject is not None:
        axes.axhline(
            reject, color="red", linestyle="--", label=f"{CHOSEN_LABEL} (approve off)"
        )
    else:
        axes.text(
            0.5,
            0.5,
            "both sides off: every document to humans",
            transform=axes.transAxes,
            ha="center",
            color="red",
        )

    axes.set_xlabel("auto-approve threshold (score >=)")
    axes.set_ylabel("auto-reject threshold (score <=)")
    axes.set_title(
        f"Automation; targets FAR <= {targets.false_approve:.0%}, "
        f"FRR <= {targets.false_reject:.0%}"
    )
    handles, _ = axes.get_legend_handles_labels()
    handles.append(Patch(color="lightgrey", label="misses a target"))
    axes.legend(handles=handles, loc="upper left", fontsize="small")
    return figure


def _check_models(
    labels: npt.ArrayLike, scores_by_model: Mapping[str, npt.ArrayLike]
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    if not scores_by_model:
        raise DataError("scores_by_model is empty; pass at least one model's scores")
    checked = {
        name: as_scores(scores, name=f"scores of {name}")
        for name, scores in scores_by_model.items()
    }
    for name, scores in checked.items():
        y_true = as_labels(labels, scores.size, name=f"labels (for {name})")
    return y_true, checked


def plot_reliability_diagram(
    labels: npt.ArrayLike,
    scores_by_model: Mapping[str, npt.ArrayLike],
    n_bins: int = 10,
) -> Figure:
    """Draw observed relevance against predicted probability, one line per model.

    A calibrated model follows the diagonal: among documents scored about 8,
    about 80% are relevant. Each model's legend entry gives its ECE.

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not, shared by every model.
        scores_by_model: Model name -> shape ``(n,)`` scores on 0-10.
        n_bins: Equal-width probability bins.

    Returns:
        The figure; empty bins are left out of each line.

    Raises:
        heysh.errors.DataError: if no model is given or the arrays disagree.
    """
    y_true, checked = _check_models(labels, scores_by_model)
    figure = _new_figure()
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, scores in checked.items():
        bins = reliability_bins(y_true, scores, n_bins)
        filled = bins.counts > 0
        ece = expected_calibration_error(y_true, scores, n_bins)
        axes.plot(
            bins.mean_confidence[filled],
            bins.accuracy[filled],
            marker="o",
            label=f"{name} (ECE {ece:.3f})",
        )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("predicted probability (score / 10)")
    axes.set_ylabel("share relevant")
    axes.set_title("Reliability diagram")
    axes.legend(loc="upper left", fontsize="small")
    return figure


def plot_precision_recall(
    labels: npt.ArrayLike, scores_by_model: Mapping[str, npt.ArrayLike]
) -> Figure:
    """Draw precision against recall, one step line per model.

    Each model's legend entry gives its average precision (PR-AUC).

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not; at least one relevant.
        scores_by_model: Model name -> shape ``(n,)`` scores on 0-10.

    Returns:
        The figure.

    Raises:
        heysh.errors.DataError: if no model is given, the arrays disagree or no
            document is relevant.
    """
    y_true, checked = _check_models(labels, scores_by_model)
    figure = _new_figure()
    axes = figure.add_subplot()
    for name, scores in checked.items():
        curve = precision_recall_curve(y_true, scores)
        recall = np.concatenate([[0.0], curve.recall])
        precision = np.concatenate([[curve.precision[0]], curve.precision])
        axes.step(
            recall,
            precision,
            where="post",
            label=f"{name} (AP {pr_auc(y_true, scores):.3f})",
        )
    base_rate = float(y_true.mean())
    axes.axhline(
        base_rate,
        color="grey",
        linestyle=":",
        label=f"share relevant ({base_rate:.2f})",
    )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title("Precision-recall")
    axes.legend(loc="lower left", fontsize="small")
    return figure
