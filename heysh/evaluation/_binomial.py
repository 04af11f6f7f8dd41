"""Exact binomial tests and bounds behind the error-rate certificates.

The one-sided Clopper-Pearson upper bound and the binomial tail p-value are two
views of one test: ``P(Bin(n, target) <= k) <= 1 - confidence`` exactly when
the upper bound at ``confidence`` is at or below ``target``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from heysh.errors import ConfigError, DataError
from heysh.evaluation._validation import BoolArray, FloatArray, IntArray

# Beyond this many documents a side counts as not certifiable in practice.
MAX_LABELS = 10**6


def check_rate(value: float, name: str) -> None:
    """Raise ConfigError unless ``value`` is strictly between 0 and 1."""
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise ConfigError(f"{name} must be strictly between 0 and 1, got {value}")


def check_counts(k: int, n: int) -> None:
    """Raise DataError unless ``0 <= k <= n``."""
    if n < 0 or k < 0 or k > n:
        raise DataError(f"need 0 <= k <= n, got k={k} and n={n}")


def binomial_upper_bound(k: int, n: int, confidence: float) -> float:
    """Return the one-sided Clopper-Pearson upper bound on an error rate.

    With probability ``confidence`` the true rate lies at or below the bound,
    given ``k`` errors among ``n`` independent documents.

    Args:
        k: Errors observed.
        n: Documents observed.
        confidence: In (0, 1), e.g. 0.95.

    Returns:
        The bound in (0, 1]; 1.0 when ``n`` is 0 or every document is an error.

    Raises:
        heysh.errors.DataError: unless ``0 <= k <= n``.
        heysh.errors.ConfigError: if ``confidence`` is outside (0, 1).

    >>> round(binomial_upper_bound(0, 59, 0.95), 4)
    0.0495
    >>> binomial_upper_bound(0, 0, 0.95)
    1.0
    """
    check_counts(k, n)
    check_rate(confidence, "confidence")
    if n == 0 or k >= n:
        return 1.0
    return float(scipy.special.betaincinv(k + 1, n - k, confidence))


def binomial_p_value(k: int, n: int, target: float) -> float:
    """Return ``P(Bin(n, target) <= k)``: the p-value of "rate > target".

    A small value means ``k`` errors in ``n`` would be unlikely if the true rate
    were ``target`` or worse. ``p <= 1 - confidence`` exactly when
    :func:`binomial_upper_bound` is at or below ``target``.

    Raises:
        heysh.errors.DataError: unless ``0 <= k <= n``.
        heysh.errors.ConfigError: if ``target`` is outside (0, 1).

    >>> round(binomial_p_value(0, 59, 0.05), 4)
    0.0485
    """
    check_counts(k, n)
    check_rate(target, "target")
    return float(p_values_of(np.array([k]), np.array([n]), target)[0])


def p_values_of(k: IntArray, n: IntArray, target: float) -> FloatArray:
    """Vectorised ``P(Bin(n, target) <= k)``; 1.0 where ``k >= n`` (incl. n=0)."""
    k_safe = np.minimum(k, n)
    p = np.asarray(scipy.special.bdtr(k_safe, n, target), dtype=np.float64)
    return np.where(k >= n, 1.0, p)


def zero_error_sample_size(target: float, confidence: float) -> int:
    """Return the fewest documents that certify ``target`` with zero errors.

    The smallest ``n`` with ``(1 - target) ** n <= 1 - confidence``, that is
    ``n >= ln(1 - confidence) / ln(1 - target)``.

    Raises:
        heysh.errors.ConfigError: if ``target`` or ``confidence`` is outside (0, 1).

    >>> zero_error_sample_size(0.05, 0.95), zero_error_sample_size(0.02, 0.95)
    (59, 149)
    """
    check_rate(target, "target")
    check_rate(confidence, "confidence")
    delta = 1.0 - confidence
    n = max(1, math.ceil(math.log(delta) / math.log1p(-target)))
    # Settle the rounding of the logarithms with the test itself.
    while (1.0 - target) ** n > delta:
        n += 1
    while n > 1 and (1.0 - target) ** (n - 1) <= delta:
        n -= 1
    return n


def passes(k: IntArray, n: IntArray, target: float, delta: float) -> BoolArray:
    """Vectorised test: ``P(Bin(n, target) <= k) <= delta``."""
    return np.asarray(p_values_of(k, n, target) <= delta, dtype=np.bool_)


def labels_needed(
    k: int, n: int, target: float, confidence: float, max_labels: int = MAX_LABELS
) -> int | None:
    """Return how many more documents would certify ``target`` at today's rate.

    Keeps the observed error rate ``k / n`` (0 when ``n`` is 0) and finds the
    smallest total ``N`` with ``binomial_upper_bound(ceil(N * k / n), N) <=
    target``; returns ``N - n`` (0 if ``n`` already suffices). This is an
    estimate for planning labelling, not a promise: new documents bring their
    own errors.

    Args:
        k: Errors observed.
        n: Documents observed (of the tested population, e.g. auto-approved).
        target: The error-rate target in (0, 1).
        confidence: In (0, 1).
        max_labels: Give up beyond this total.

    Returns:
        More documents needed, or ``None`` when no number would do: the observed
        rate is at or above the target, or the total exceeds ``max_labels``.

    Raises:
        heysh.errors.DataError: unless ``0 <= k <= n``.
        heysh.errors.ConfigError: if ``target`` or ``confidence`` is outside (0, 1).

    >>> labels_needed(0, 0, 0.05, 0.95), labels_needed(0, 0, 0.02, 0.95)
    (59, 149)
    >>> labels_needed(0, 40, 0.05, 0.95), labels_needed(3, 40, 0.05, 0.95)
    (19, None)
    """
    check_counts(k, n)
    first = zero_error_sample_size(target, confidence)
    if n > 0 and k / n >= target:
        return None
    delta = 1.0 - confidence

    # Below the zero-error size nothing passes; scan exactly in doubling chunks
    # because ceil() makes the test pass and fail again as N grows.
    start = first
    width = max(first, 1024)
    while start <= max_labels:
        totals = np.arange(start, min(start + width, max_labels + 1), dtype=np.int64)
        errors = -((-totals * k) // n) if n > 0 else np.zeros_like(totals)
        passing = np.flatnonzero(passes(errors, totals, target, delta))
        if passing.size:
            return max(0, int(totals[passing[0]]) - n)
        start += width
        width *= 2
    return None
