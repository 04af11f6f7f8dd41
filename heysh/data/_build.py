"""Assemble a LabelledCorpus from cleaned documents and labelled pairs.

Private to ``heysh.data``: every loader ends here so array types, pair order
and the input report are the same whatever the source.
"""

from __future__ import annotations

import numpy as np

from heysh.data.cleaning import CleanedTexts
from heysh.data.corpus import DomainInfo, LabelledCorpus


def full_pair_grid(
    keep_mask: np.ndarray, n_domains: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pair every kept document with every domain, document by document.

    Args:
        keep_mask: Shape ``(n_docs,)``, bool; documents fit for evaluation.
        n_domains: Number of domains.

    Returns:
        ``(pair_doc, pair_domain)``, each of shape ``(n_kept * n_domains,)``.
    """
    kept = np.flatnonzero(keep_mask)
    pair_doc = np.repeat(kept, n_domains).astype(np.int64)
    pair_domain = np.tile(np.arange(n_domains, dtype=np.int64), len(kept))
    return pair_doc, pair_domain


def assemble_corpus(
    *,
    name: str,
    source: str,
    doc_ids: list[str],
    cleaned: CleanedTexts,
    languages: list[str],
    domains: list[DomainInfo],
    pair_doc: np.ndarray,
    pair_domain: np.ndarray,
    pair_label: np.ndarray,
    pair_grade: np.ndarray,
    pair_hard_negative: np.ndarray,
    extra_report: dict[str, int] | None = None,
) -> LabelledCorpus:
    """Build the corpus with the array types every consumer expects.

    ``doc_ids``, ``texts`` and ``languages`` become object arrays, indices and
    grades int64, labels int64 (0 or 1), hard negatives bool. The cleaning
    report is copied and extended with ``extra_report`` plus ``pairs`` and
    ``domains`` counts.
    """
    report = dict(cleaned.report)
    report.update(extra_report or {})
    report["domains"] = len(domains)
    report["pairs"] = len(pair_doc)
    return LabelledCorpus(
        name=name,
        doc_ids=np.asarray(doc_ids, dtype=object),
        texts=cleaned.texts,
        languages=np.asarray(languages, dtype=object),
        domains=list(domains),
        pair_doc=np.asarray(pair_doc, dtype=np.int64),
        pair_domain=np.asarray(pair_domain, dtype=np.int64),
        pair_label=np.asarray(pair_label, dtype=np.int64),
        pair_grade=np.asarray(pair_grade, dtype=np.int64),
        pair_hard_negative=np.asarray(pair_hard_negative, dtype=bool),
        input_report=report,
        source=source,
    )


def model_text(title: str | None, text: str) -> str:
    """Return what models read: the title, a blank line, then the text.

    >>> model_text("Headline", "Body.")
    'Headline\\n\\nBody.'
    >>> model_text(None, "Body.")
    'Body.'
    """
    if title and title.strip():
        return f"{title}\n\n{text}" if text.strip() else title
    return text
