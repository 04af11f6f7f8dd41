"""Per-domain logit offsets: estimation and the check that they help.

A global classifier gives one logit scale to every domain, but domains differ
in base rate (Reuters "earn" is a third of the collection, "livestock" 1%).
An offset per domain, added to the logit, lets a domain's prior count. It is
estimated on held-out logits (never the classifier's own training pairs,
whose logits are overconfident) with a Gaussian prior (ridge penalty) that
pulls small domains towards no offset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Penalty on an offset, as the precision of a N(0, 1/penalty) prior on the
# logit scale: a domain needs a few dozen pairs to move its offset by 1.
DEFAULT_PENALTY = 1.0

_NEWTON_STEPS = 50
_LIMIT = 20.0


def fit_shift(logits: np.ndarray, labels: np.ndarray, *, penalty: float = 0.0) -> float:
    """Return the shift ``b`` minimising penalised log-loss of ``sigmoid(logits + b)``.

    The penalty adds ``penalty * b**2 / 2`` (a Gaussian prior on ``b``).

    >>> round(fit_shift(np.zeros(4), np.array([1, 0, 0, 0])), 3)
    -1.099
    """
    shift = 0.0
    for _ in range(_NEWTON_STEPS):
        p = _sigmoid(logits + shift)
        gradient = float(np.sum(p - labels)) + penalty * shift
        curvature = float(np.sum(p * (1.0 - p))) + penalty
        if curvature <= 1e-12:
            break
        step = gradient / curvature
        shift = float(np.clip(shift - step, -_LIMIT, _LIMIT))
        if abs(step) < 1e-8:
            break
    return shift


def fit_domain_offsets(
    logits: np.ndarray,
    labels: np.ndarray,
    domain_ids: Sequence[str],
    *,
    penalty: float = DEFAULT_PENALTY,
) -> tuple[float, dict[str, float]]:
    """Estimate a global shift and a penalised offset per domain.

    Returns:
        ``(shift, offsets)``: predictions are ``logits + shift + offsets[d]``;
        a domain without an offset uses ``logits + shift``.
    """
    shift = fit_shift(logits, labels)
    domains = np.asarray(domain_ids, dtype=object)
    offsets = {}
    for domain in dict.fromkeys(domain_ids):
        mask = domains == domain
        offsets[str(domain)] = fit_shift(
            logits[mask] + shift, labels[mask], penalty=penalty
        )
    return shift, offsets


def apply_offsets(
    logits: np.ndarray, domain_ids: Sequence[str], offsets: dict[str, float]
) -> np.ndarray:
    """Add each pair's domain offset (0 for domains without one)."""
    if not offsets:
        return logits
    return logits + np.fromiter(
        (offsets.get(d, 0.0) for d in domain_ids), dtype=np.float64, count=len(logits)
    )


def log_loss(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary log-loss of ``sigmoid(logits)``, computed stably."""
    # log(1 + e^z) - y z, with log1p(exp) written to avoid overflow.
    softplus = np.logaddexp(0.0, logits)
    return float(np.mean(softplus - labels * logits))


def offsets_help(
    logits: np.ndarray,
    labels: np.ndarray,
    domain_ids: Sequence[str],
    halves: np.ndarray,
    *,
    penalty: float = DEFAULT_PENALTY,
) -> tuple[bool, float, float]:
    """Two-fold check: do offsets estimated on one half lower log-loss on the other?

    Args:
        logits: Held-out logits.
        labels: 0/1 labels.
        domain_ids: Domain of each pair.
        halves: Boolean mask, True for the first half (split by document).

    Returns:
        ``(helps, loss_with, loss_without)``: mean held-out log-loss with a
        global shift plus domain offsets, and with the global shift alone.
    """
    domains = np.asarray(domain_ids, dtype=object)
    with_sum = without_sum = 0.0
    for estimate in (halves, ~halves):
        evaluate = ~estimate
        shift, offsets = fit_domain_offsets(
            logits[estimate], labels[estimate], list(domains[estimate]), penalty=penalty
        )
        shifted = logits[evaluate] + shift
        with_sum += (
            log_loss(
                apply_offsets(shifted, list(domains[evaluate]), offsets),
                labels[evaluate],
            )
            * evaluate.sum()
        )
        without_shift = fit_shift(logits[estimate], labels[estimate])
        without_sum += (
            log_loss(logits[evaluate] + without_shift, labels[evaluate])
            * evaluate.sum()
        )
    n = len(logits)
    loss_with, loss_without = with_sum / n, without_sum / n
    return bool(loss_with < loss_without), float(loss_with), float(loss_without)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))
