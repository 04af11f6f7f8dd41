"""Fingerprint a labelled corpus so a run records exactly which data it used."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Protocol

from heysh.data.corpus import LabelledCorpus

# Separators that cannot occur in ids: unit and record separators.
_UNIT = "\x1f"
_RECORD = "\x1e"


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


def corpus_content_hash(corpus: LabelledCorpus) -> str:
    """Return a SHA-256 hex digest of the corpus content.

    Covered: document ids and texts, domain ids, names, descriptions and
    languages, and every pair with its label, grade and hard-negative flag.
    Not covered: the corpus name, source and input report, which describe
    where the data came from rather than what it is. The order of documents,
    domains and pairs does not matter; any change to a text, a description
    or a label gives a different digest.

    Args:
        corpus: The labelled corpus.

    Returns:
        64 lower-case hex characters.
    """
    digest = hashlib.sha256()

    documents = sorted(
        zip(map(str, corpus.doc_ids), map(str, corpus.texts), strict=True)
    )
    _update_section(digest, "documents", (_UNIT.join(doc) for doc in documents))

    domains = sorted(
        _UNIT.join((d.domain_id, d.name, d.description, d.language))
        for d in corpus.domains
    )
    _update_section(digest, "domains", domains)

    doc_ids = [str(doc_id) for doc_id in corpus.doc_ids]
    domain_ids = [d.domain_id for d in corpus.domains]
    pairs = sorted(
        f"{doc_ids[doc]}{_UNIT}{domain_ids[domain]}{_UNIT}{label}{_UNIT}"
        f"{grade}{_UNIT}{int(hard)}"
        for doc, domain, label, grade, hard in zip(
            corpus.pair_doc.tolist(),
            corpus.pair_domain.tolist(),
            corpus.pair_label.tolist(),
            corpus.pair_grade.tolist(),
            corpus.pair_hard_negative.tolist(),
            strict=True,
        )
    )
    _update_section(digest, "pairs", pairs)
    return digest.hexdigest()


def _update_section(digest: _Digest, name: str, lines: Iterable[str]) -> None:
    """Feed a named, counted section of records into ``digest``."""
    count = 0
    digest.update(f"{_RECORD}{name}{_RECORD}".encode())
    for line in lines:
        digest.update(line.encode())
        digest.update(_RECORD.encode())
        count += 1
    digest.update(f"{name}:{count}{_RECORD}".encode())
