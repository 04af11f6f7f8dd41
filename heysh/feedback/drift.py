"""Score drift: has a domain's score distribution moved since thresholds were tuned?

The thresholds are certified on calibration scores; the guarantee assumes the
documents they decide are exchangeable with those. This module compares the
recent scores of a domain's decisions with a reference sample (the scores
the thresholds were tuned on, from a file, or the domain's decisions in an
earlier window) with two statistics:

- the two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``): its
  p-value says whether the two samples could share one distribution;
- the population stability index (PSI) over ten bins cut at the reference
  deciles: ``sum((q - p) * ln(q / p))``, with ``p`` and ``q`` the reference
  and recent shares per bin (floored at 1e-4). Rules of thumb: below 0.1
  stable, 0.1-0.2 moderate, above 0.2 a large shift.

**Alarm rule**: alarm when the KS p-value is below ``alpha`` (0.01) *and*
the PSI is at least ``psi_alarm`` (0.2). KS alone alarms on trivial shifts
once samples are large; PSI alone is noisy on small samples; together they
ask for a shift that is both real and large. With fewer than ``min_samples``
(30) scores on either side there is no verdict and no alarm.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from heysh.errors import DataError
from heysh.stores.base import MetadataStore

_logger = logging.getLogger(__name__)

__all__ = [
    "DriftCheck",
    "check_drift",
    "decision_scores",
    "domain_drift",
    "population_stability_index",
    "read_reference_scores",
]

PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class DriftCheck:
    """The comparison of recent scores with the reference, and its verdict.

    Attributes:
        n_reference: Reference scores.
        n_recent: Recent scores.
        ks_statistic: Largest gap between the two empirical CDFs.
        ks_p_value: Two-sided KS p-value (``None`` without a verdict).
        psi: Population stability index (``None`` without a verdict).
        reference_mean: Mean reference score.
        recent_mean: Mean recent score.
        alarm: Whether the alarm rule fired.
        verdict: ``drift``, ``stable`` or ``insufficient data``.
    """

    domain_id: str
    n_reference: int
    n_recent: int
    ks_statistic: float | None
    ks_p_value: float | None
    psi: float | None
    reference_mean: float | None
    recent_mean: float | None
    alarm: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


def population_stability_index(
    reference: npt.ArrayLike, recent: npt.ArrayLike, bins: int = 10
) -> float:
    """Return the PSI of ``recent`` against ``reference``.

    Bins are cut at the reference quantiles (repeated edges merged), so each
    holds about the same share of the reference.

    Raises:
        DataError: either sample is empty.

    >>> round(population_stability_index([1, 2, 3, 4] * 25, [1, 2, 3, 4] * 25), 6)
    0.0
    """
    ref = _as_scores(reference, "reference")
    new = _as_scores(recent, "recent")
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1)
    q = np.bincount(np.searchsorted(edges, new, side="right"), minlength=edges.size + 1)
    p_share = np.maximum(p / ref.size, PSI_FLOOR)
    q_share = np.maximum(q / new.size, PSI_FLOOR)
    return float(np.sum((q_share - p_share) * np.log(q_share / p_share)))


def check_drift(
    reference: npt.ArrayLike,
    recent: npt.ArrayLike,
    *,
    domain_id: str = "",
    alpha: float = 0.01,
    psi_alarm: float = 0.2,
    min_samples: int = 30,
) -> DriftCheck:
    """Compare two score samples and apply the alarm rule of the module docstring.

    Args:
        reference: Scores the thresholds were tuned on (or an earlier window).
        recent: Recent scores.
        domain_id: Named in the result.
        alpha: KS significance level.
        psi_alarm: PSI at or above which a significant shift alarms.
        min_samples: Fewest scores on each side for a verdict.

    Returns:
        The check.
    """
    from scipy.stats import ks_2samp

    ref = np.asarray(reference, dtype=np.float64).ravel()
    new = np.asarray(recent, dtype=np.float64).ravel()
    means = (
        float(ref.mean()) if ref.size else None,
        float(new.mean()) if new.size else None,
    )
    if min(ref.size, new.size) < min_samples:
        return DriftCheck(
            domain_id,
            ref.size,
            new.size,
            None,
            None,
            None,
            *means,
            False,
            "insufficient data",
        )
    ks = ks_2samp(ref, new)
    psi = population_stability_index(ref, new)
    alarm = bool(ks.pvalue < alpha and psi >= psi_alarm)
    check = DriftCheck(
        domain_id=domain_id,
        n_reference=int(ref.size),
        n_recent=int(new.size),
        ks_statistic=float(ks.statistic),
        ks_p_value=float(ks.pvalue),
        psi=psi,
        reference_mean=means[0],
        recent_mean=means[1],
        alarm=alarm,
        verdict="drift" if alarm else "stable",
    )
    _logger.info(
        "drift_checked",
        extra={
            "domain_id": domain_id,
            "ks_p_value": check.ks_p_value,
            "psi": round(psi, 4),
            "alarm": alarm,
        },
    )
    return check


def decision_scores(
    metadata: MetadataStore,
    domain_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> npt.NDArray[np.float64]:
    """Return the scores of a domain's decisions in ``[since, until)``."""
    rows = metadata.list_decisions(domain_id, since=since, until=until)
    return np.array([r.score for r in rows if r.score is not None], dtype=np.float64)


def domain_drift(
    metadata: MetadataStore,
    domain_id: str,
    *,
    recent_since: datetime | None,
    recent_until: datetime | None = None,
    reference_scores: npt.ArrayLike | None = None,
    reference_since: datetime | None = None,
    reference_until: datetime | None = None,
) -> DriftCheck:
    """Check a domain's recent decision scores against a reference.

    Args:
        metadata: The metadata store.
        domain_id: The domain.
        recent_since: Start of the recent window (inclusive).
        recent_until: End of the recent window (exclusive; now if ``None``).
        reference_scores: Scores the thresholds were tuned on; when ``None``
            the reference is the domain's decisions in
            ``[reference_since, reference_until)``, by default everything
            before ``recent_since``.
        reference_since: Start of the reference window.
        reference_until: End of the reference window.
    """
    recent = decision_scores(
        metadata, domain_id, since=recent_since, until=recent_until
    )
    if reference_scores is None:
        reference = decision_scores(
            metadata,
            domain_id,
            since=reference_since,
            until=reference_until or recent_since,
        )
    else:
        reference = np.asarray(reference_scores, dtype=np.float64)
    return check_drift(reference, recent, domain_id=domain_id)


def read_reference_scores(path: Path) -> npt.NDArray[np.float64]:
    """Read reference scores from a file.

    Accepts a JSON array of numbers, a ``.npy`` array, or a ``.jsonl``,
    ``.csv`` or ``.parquet`` table with a ``score`` column (for example the
    scores the evaluation wrote for its calibration split).

    Raises:
        DataError: the file is missing, unreadable or has no scores.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"reference score file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            values = np.load(path)
        elif suffix == ".json":
            values = np.asarray(json.loads(path.read_text(encoding="utf-8")))
        else:
            from heysh.data.files import read_pairs_table

            frame = read_pairs_table(path)
            if "score" not in frame.columns:
                raise DataError(f"{path} has no 'score' column")
            values = frame["score"].to_numpy()
        scores = np.asarray(values, dtype=np.float64).ravel()
    except (OSError, ValueError, TypeError) as err:
        raise DataError(f"cannot read reference scores from {path}: {err}") from err
    scores = scores[np.isfinite(scores)]
    if scores.size == 0:
        raise DataError(f"{path} holds no finite scores")
    return scores


def _as_scores(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise DataError(f"{name} scores are empty")
    return array
