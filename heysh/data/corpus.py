"""The in-memory shape of a labelled collection: documents, domains, pairs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from heysh.data.cleaning import first_occurrence_keys


@dataclass(frozen=True)
class DomainInfo:
    """A domain of a labelled collection.

    Attributes:
        domain_id: Unique id, e.g. ``reuters21578:crude``.
        name: Short human name.
        description: What belongs in the domain; zero-shot models read it.
        language: ISO code of the domain's documents (``en``, ``sv``).
    """

    domain_id: str
    name: str
    description: str
    language: str = "en"


@dataclass
class LabelledCorpus:
    """Documents, domains and the judged (document, domain) pairs.

    Each document's text is stored once however many domains judge it.

    Attributes:
        name: Collection name, e.g. ``bbc-news`` or ``heysh-demo``.
        doc_ids: Shape ``(n_docs,)``; unique.
        texts: Shape ``(n_docs,)``; cleaned text that models score.
        languages: Shape ``(n_docs,)``.
        domains: The collection's domains.
        pair_doc: Shape ``(n_pairs,)``, index into ``doc_ids``.
        pair_domain: Shape ``(n_pairs,)``, index into ``domains``.
        pair_label: Shape ``(n_pairs,)``, 1 relevant, 0 not.
        pair_grade: Shape ``(n_pairs,)``, graded relevance (0 = not relevant),
            equal to ``pair_label`` for binary collections.
        pair_hard_negative: Shape ``(n_pairs,)``, True where the document is not
            relevant but topically close (a related label).
        input_report: What cleaning found and did, counted (``empty_text``,
            ``exact_duplicate``, ``non_utf8``, ``html_entities``,
            ``long_documents``...).
        source: Where the data came from (a path or ``hf:NAME``).
    """

    name: str
    doc_ids: np.ndarray
    texts: np.ndarray
    languages: np.ndarray
    domains: list[DomainInfo]
    pair_doc: np.ndarray
    pair_domain: np.ndarray
    pair_label: np.ndarray
    pair_grade: np.ndarray
    pair_hard_negative: np.ndarray
    input_report: dict[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def n_docs(self) -> int:
        return len(self.doc_ids)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_doc)

    def split_keys(self) -> np.ndarray:
        """Return, per document, the id of the first document with the same text.

        Splits are assigned by these keys (``heysh.data.splits``), so an exact
        duplicate always falls in the split of its first occurrence.

        Returns:
            Shape ``(n_docs,)``, object array of document ids.
        """
        return first_occurrence_keys(list(self.doc_ids), list(self.texts))

    def domain_index(self, domain_id: str) -> int:
        """Return the position of ``domain_id`` in ``domains``."""
        for i, domain in enumerate(self.domains):
            if domain.domain_id == domain_id:
                return i
        known = ", ".join(d.domain_id for d in self.domains[:10])
        raise KeyError(f"unknown domain {domain_id!r}; known domains include {known}")
