"""The vector record checks every VectorIndex adapter shares."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heysh.stores.base import BatchFailure, VectorRecord
from heysh.stores.validation import find_vector_record_problem, split_valid_records


@pytest.mark.parametrize(
    ("record", "dimension", "problem"),
    [
        (VectorRecord("a", "d", [1.0, 2.0]), 2, None),
        (VectorRecord("a", "d", np.array([1, 2], dtype=np.float32)), None, None),
        (
            VectorRecord(" ", "d", [1.0]),
            None,
            "doc_id must be a non-empty string, got ' '",
        ),
        (
            VectorRecord("a", "", [1.0]),
            None,
            "domain_id must be a non-empty string, got ''",
        ),
        (
            VectorRecord("a", "d", [1.0]),
            2,
            "vector has 1 dimensions; this index holds 2",
        ),
        (
            VectorRecord("a", "d", [1.0, math.nan]),
            2,
            "vector[1] is nan; every component must be a finite number",
        ),
        (
            VectorRecord("a", "d", [1e39]),
            1,
            "vector[0] is 1e+39; indexes store 32-bit floats (max 3.4e38)",
        ),
        (
            VectorRecord("a", "d", [0.0, 0.0]),
            2,
            "vector is all zeros; cosine similarity is undefined for it",
        ),
        (VectorRecord("a", "d", ["x"]), None, "vector must hold only numbers"),
        (
            VectorRecord("a", "d", "12"),
            None,
            "vector must be a sequence of numbers, got str",
        ),
        (
            VectorRecord("a", "d", [1.0], metadata={"k": math.inf}),
            1,
            "metadata['k'] is inf; numbers must be finite",
        ),
        (
            VectorRecord("a", "d", [1.0], metadata={"k": None}),
            1,
            "metadata['k'] is a NoneType; use a string, number or boolean",
        ),
        (
            VectorRecord("a", "d", [1.0], metadata={"": 1}),
            1,
            "metadata key '' must be a non-empty string",
        ),
    ],
)
def test_find_vector_record_problem_names_the_field(record, dimension, problem):
    """Check each kind of invalid record gets its own sentence, and valid ones none."""
    assert find_vector_record_problem(record, dimension) == problem


def test_split_valid_records_keeps_later_duplicate_and_every_failure():
    """Check duplicates collapse to the later record and failures keep input order."""
    records = [
        VectorRecord("a", "d", [1.0, 0.0], text="first"),
        VectorRecord("bad", "d", [1.0]),
        VectorRecord("a", "d", [0.0, 1.0], text="second"),
        VectorRecord("a", "other", [0.0, 1.0]),
        VectorRecord("", "d", [1.0, 1.0]),
    ]

    valid, failures = split_valid_records(records, None)

    assert [(r.doc_id, r.domain_id, r.text) for r in valid] == [
        ("a", "d", "second"),
        ("a", "other", ""),
    ]
    assert failures == [
        BatchFailure("bad", "vector has 1 dimensions; this index holds 2"),
        BatchFailure("", "doc_id must be a non-empty string, got ''"),
    ]
