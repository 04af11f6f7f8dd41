"""Views of a finished evaluation's thresholds, for the tune-thresholds notebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from heysh.evaluation.sweep import (
    operating_point,
    sweep_threshold_pairs,
    threshold_grid,
)
from heysh.evaluation.thresholds import EmpiricalChoice, Targets
from heysh.research.report import SavedScores


def certified_vs_empirical(summary: dict[str, Any]) -> pd.DataFrame:
    """Certified thresholds beside plain empirical tuning, per domain.

    Columns give each approach's thresholds, what it claims on the calibration
    split (empirical tuning) or guarantees (certified bound), and what it gets
    on the test split.
    """
    rows = {}
    for domain_id, domain in summary["domains"].items():
        empirical = domain["empirical_tuning"]
        rows[domain_id] = {
            "certified reject": domain["auto_reject_threshold"],
            "certified approve": domain["auto_approve_threshold"],
            "certified FAR bound": domain["false_approve_bound"],
            "certified FRR bound": domain["false_reject_bound"],
            "certified test automation": domain["automation_rate"],
            "certified test FAR": domain["false_approve_rate"],
            "certified test FRR": domain["false_reject_rate"],
            "empirical reject": empirical["auto_reject_threshold"],
            "empirical approve": empirical["auto_approve_threshold"],
            "empirical claimed automation": empirical["claimed"]["automation_rate"],
            "empirical test automation": empirical["test"]["automation_rate"],
            "empirical test FAR": empirical["test"]["false_approve_rate"],
            "empirical test FRR": empirical["test"]["false_reject_rate"],
        }
    return pd.DataFrame(rows).T


def domain_landscape(
    saved: SavedScores,
    summary: dict[str, Any],
    model: str,
    domain_id: str,
    output_dir: Path | None = None,
) -> Any:
    """Draw one domain's automation landscape on calibration data for ``model``.

    The marked pair is the model's certified pair for the domain, read from
    ``thresholds_by_model.json`` (or the summary, for the winner).

    Returns:
        A matplotlib Figure.
    """
    from heysh.evaluation.plots import plot_automation_landscape

    thresholds = _thresholds(summary, model, domain_id, output_dir)
    scores, labels = saved.domain_arrays(model, domain_id)
    targets = Targets(
        false_approve=summary["targets"]["false_approve"],
        false_reject=summary["targets"]["false_reject"],
        confidence=summary["targets"]["confidence"],
    )
    reject = thresholds["auto_reject_threshold"]
    approve = thresholds["auto_approve_threshold"]
    chosen = EmpiricalChoice(
        reject_threshold=reject,
        approve_threshold=approve,
        calibration=operating_point(scores, labels, reject, approve),
        targets=targets,
    )
    sweep = sweep_threshold_pairs(
        scores, labels, threshold_grid(summary.get("grid_step", 0.1))
    )
    figure = plot_automation_landscape(sweep, chosen, targets)
    figure.suptitle(f"{domain_id} ({model}, calibration split)")
    return figure


def _thresholds(
    summary: dict[str, Any], model: str, domain_id: str, output_dir: Path | None
) -> dict[str, Any]:
    if model == summary["winner"]:
        return dict(summary["domains"][domain_id])
    if output_dir is None:
        raise ValueError(
            f"thresholds of {model!r} are in thresholds_by_model.json; pass output_dir"
        )
    by_model = json.loads((output_dir / "thresholds_by_model.json").read_text())
    return dict(by_model[model][domain_id])
