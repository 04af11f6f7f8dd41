"""Check that a labelled corpus can support an evaluation.

Loaders only check the format, so they stay usable for partial data (a slice,
a domain still being labelled). Evaluation code calls :func:`validate_corpus`
before it measures anything.
"""

from __future__ import annotations

import numpy as np

from heysh.data.corpus import LabelledCorpus
from heysh.errors import DataError


def validate_corpus(corpus: LabelledCorpus, *, require_positive: bool = True) -> None:
    """Raise if the corpus cannot be evaluated.

    Args:
        corpus: The corpus to check.
        require_positive: Require at least one relevant pair per domain (a
            domain without one has no false-reject rate and no ranking metric).

    Raises:
        DataError: if the corpus has no pairs, a domain has no pairs, or (with
            ``require_positive``) a domain has no relevant document; the message
            lists every such domain with its counts.
    """
    if corpus.n_pairs == 0:
        raise DataError(
            f"corpus {corpus.name!r} has no (document, domain) pairs; check that "
            "its documents are not all empty and that it has domains"
        )
    n_domains = len(corpus.domains)
    pairs = np.bincount(corpus.pair_domain, minlength=n_domains)
    relevant = np.bincount(
        corpus.pair_domain, weights=corpus.pair_label, minlength=n_domains
    ).astype(np.int64)

    no_pairs = [
        d.domain_id for d, n in zip(corpus.domains, pairs, strict=True) if n == 0
    ]
    if no_pairs:
        raise DataError(
            f"corpus {corpus.name!r}: {len(no_pairs)} domain(s) have no pairs "
            f"({', '.join(no_pairs[:10])}); label documents for them or drop them"
        )
    if require_positive:
        empty = [
            f"{d.domain_id} (0 relevant of {n})"
            for d, n, r in zip(corpus.domains, pairs, relevant, strict=True)
            if r == 0
        ]
        if empty:
            raise DataError(
                f"corpus {corpus.name!r}: {len(empty)} domain(s) have no relevant "
                f"document: {', '.join(empty[:10])}; add relevant documents, drop "
                "the domain, or lower min_relevant_grade for graded collections"
            )
