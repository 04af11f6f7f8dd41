"""Checks a vector record must pass before any adapter stores it.

Shared by every ``VectorIndex`` adapter so that the embedded index and a
server index refuse the same records with the same reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from heysh.stores.base import BatchFailure, VectorRecord

_METADATA_TYPES = (str, int, float, bool)


def find_vector_record_problem(
    record: VectorRecord, dimension: int | None
) -> str | None:
    """Return why ``record`` cannot be stored, or ``None`` if it can.

    Args:
        record: The record to check.
        dimension: The index's vector length, or ``None`` while it has none yet
            (then any positive length is accepted).

    Returns:
        A sentence naming the offending field and value, or ``None``.

    >>> r = VectorRecord(doc_id="a", domain_id="d", vector=[1.0, float("nan")])
    >>> find_vector_record_problem(r, 2)
    'vector[1] is nan; every component must be a finite number'
    """
    for name in ("doc_id", "domain_id"):
        value = getattr(record, name)
        if not isinstance(value, str) or not value.strip():
            return f"{name} must be a non-empty string, got {value!r}"
    problem = _vector_problem(record.vector, dimension)
    if problem is None:
        problem = _metadata_problem(record.metadata)
    if problem is None and not isinstance(record.text, str):
        problem = f"text must be a string, got {type(record.text).__name__}"
    return problem


def _vector_problem(vector: Sequence[float], dimension: int | None) -> str | None:
    if isinstance(vector, str | bytes) or not hasattr(vector, "__len__"):
        return f"vector must be a sequence of numbers, got {type(vector).__name__}"
    try:
        array = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError):
        return "vector must hold only numbers"
    if array.ndim != 1:
        return f"vector must be flat, got shape {array.shape}"
    if array.size == 0:
        return "vector is empty"
    if dimension is not None and array.size != dimension:
        return f"vector has {array.size} dimensions; this index holds {dimension}"
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        i = int(bad[0])
        return f"vector[{i}] is {array[i]}; every component must be a finite number"
    too_big = np.flatnonzero(np.abs(array) > np.finfo(np.float32).max)
    if too_big.size:
        i = int(too_big[0])
        return f"vector[{i}] is {array[i]}; indexes store 32-bit floats (max 3.4e38)"
    if not np.any(array):
        return "vector is all zeros; cosine similarity is undefined for it"
    return None


def _metadata_problem(metadata: Mapping[str, object]) -> str | None:
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            return f"metadata key {key!r} must be a non-empty string"
        if not isinstance(value, _METADATA_TYPES):
            return (
                f"metadata[{key!r}] is a {type(value).__name__}; use a string, "
                "number or boolean"
            )
        if isinstance(value, float) and not math.isfinite(value):
            return f"metadata[{key!r}] is {value}; numbers must be finite"
    return None


def split_valid_records(
    records: Sequence[VectorRecord], dimension: int | None
) -> tuple[list[VectorRecord], list[BatchFailure]]:
    """Separate storable records from the rest, keeping every failure.

    Without a known ``dimension``, the first otherwise valid record sets it for
    the batch. When one document appears twice, the later record wins (both
    are upserts of the same object); the earlier one is neither stored nor a
    failure.

    Returns:
        ``(valid, failures)``, each in input order; one failure per invalid
        record, named by its ``doc_id`` (``repr`` of it if not a string).
    """
    valid: dict[tuple[str, str], VectorRecord] = {}
    failures: list[BatchFailure] = []
    for record in records:
        problem = find_vector_record_problem(record, dimension)
        if problem is not None:
            doc_id = (
                record.doc_id if isinstance(record.doc_id, str) else repr(record.doc_id)
            )
            failures.append(BatchFailure(doc_id=doc_id, reason=problem))
            continue
        if dimension is None:
            dimension = len(record.vector)
        key = (record.domain_id, record.doc_id)
        valid.pop(key, None)
        valid[key] = record
    return list(valid.values()), failures
