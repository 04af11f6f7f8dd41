"""One entry point for labelled data: pick the loader from the source string.

Also holds the two corpus transformations every consumer needs: a fast slice
(:func:`subset_corpus`) and the flat ``datasets.Dataset`` view
(:func:`to_pairs_dataset`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from heysh.data.collections import load_collection
from heysh.data.corpus import LabelledCorpus
from heysh.data.demo import generate_demo_corpus
from heysh.data.files import PAIRS_FILE_SUFFIXES, load_pairs_file
from heysh.data.hub import load_hub_dataset
from heysh.errors import DataError

if TYPE_CHECKING:
    import datasets

_logger = logging.getLogger(__name__)

ACCEPTED_SOURCES = (
    "'demo' (the synthetic heysh demo corpus), 'hf:NAME' or 'hf:NAME:SPLIT' "
    "(a Hugging Face hub dataset), a collection folder holding documents.jsonl, "
    f"or a pairs file ({', '.join(PAIRS_FILE_SUFFIXES)})"
)


def load_labelled_corpus(source: str, **options: Any) -> LabelledCorpus:
    """Load labelled data from any supported source.

    Args:
        source: ``"demo"``; ``"hf:NAME"`` or ``"hf:NAME:SPLIT"`` (the split
            defaults to ``train``); a collection folder with
            ``documents.jsonl``; or a ``.jsonl``/``.json``/``.csv``/
            ``.parquet`` pairs file.
        **options: Passed to the chosen loader: ``generate_demo_corpus``
            (``seed``, ``docs_per_domain``), ``load_hub_dataset`` (``config``,
            ``columns``, ...), ``load_collection`` (``min_relevant_grade``,
            ``description_language``) or ``load_pairs_file`` (``domains_path``,
            ``description_language``).

    Returns:
        The corpus.

    Raises:
        DataError: if ``source`` matches none of the accepted forms, or the
            loader fails.
        TypeError: if an option is not accepted by the chosen loader.
    """
    text = str(source).strip()
    if text == "demo":
        return generate_demo_corpus(**options)
    if text.startswith("hf:"):
        name, _, split = text[3:].partition(":")
        if not name:
            raise DataError(
                f"source {source!r} names no hub dataset; write hf:NAME or "
                "hf:NAME:SPLIT"
            )
        return load_hub_dataset(name, split=split or "train", **options)
    path = Path(text).expanduser()
    if path.is_dir() and (path / "documents.jsonl").is_file():
        return load_collection(path, **options)
    if path.suffix.lower() in PAIRS_FILE_SUFFIXES:
        return load_pairs_file(path, **options)
    if path.is_dir():
        raise DataError(
            f"folder {str(source)!r} has no documents.jsonl, so it is not a "
            f"collection; accepted sources: {ACCEPTED_SOURCES}"
        )
    raise DataError(
        f"cannot load labelled data from {source!r}; accepted: {ACCEPTED_SOURCES}"
    )


def subset_corpus(
    corpus: LabelledCorpus,
    *,
    max_docs: int | None = None,
    max_domains: int | None = None,
    seed: int = 0,
) -> LabelledCorpus:
    """Return a smaller corpus for quick runs.

    Domains with the most relevant documents are kept first. Every relevant
    document of a kept domain is kept when ``max_docs`` allows; the rest of
    the budget goes to randomly chosen other documents (negatives). When the
    relevant documents alone exceed ``max_docs``, they are taken in turn from
    each kept domain so that every domain keeps some. Documents keep their
    order; the pairs kept are those between kept documents and kept domains.

    Args:
        corpus: The full corpus.
        max_docs: Most documents to keep; ``None`` keeps all that have pairs.
        max_domains: Most domains to keep; ``None`` keeps all.
        seed: Seed of the random choices.

    Returns:
        A new corpus; ``input_report`` gains ``subset_from_documents`` and
        ``subset_from_domains`` and ``source`` names the subset parameters.

    Raises:
        DataError: if ``max_docs`` or ``max_domains`` is below 1.
    """
    for label, value in (("max_docs", max_docs), ("max_domains", max_domains)):
        if value is not None and value < 1:
            raise DataError(
                f"{label} ({value}) must be at least 1, or None for no limit"
            )
    rng = np.random.default_rng(seed)
    n_domains = len(corpus.domains)
    relevant_per_domain = np.bincount(
        corpus.pair_domain, weights=corpus.pair_label, minlength=n_domains
    )
    order = np.argsort(-relevant_per_domain, kind="stable")
    kept_domains = np.sort(order[: max_domains or n_domains])

    in_kept = np.isin(corpus.pair_domain, kept_domains)
    candidates = np.unique(corpus.pair_doc[in_kept])
    if max_docs is None or len(candidates) <= max_docs:
        kept_docs = candidates
    else:
        kept_docs = _choose_documents(corpus, kept_domains, in_kept, max_docs, rng)
    return _restrict(corpus, kept_docs, kept_domains, max_docs, max_domains, seed)


def drop_domains_without_relevant(corpus: LabelledCorpus) -> LabelledCorpus:
    """Return the corpus without the domains that have no relevant document.

    Such a domain can be neither tuned nor measured (graded collections often
    have some once ``min_relevant_grade`` is raised). The dropped domains are
    logged and counted in ``input_report`` as ``domains_dropped_no_relevant``.
    """
    relevant = np.bincount(
        corpus.pair_domain, weights=corpus.pair_label, minlength=len(corpus.domains)
    )
    kept = np.flatnonzero(relevant > 0)
    if len(kept) == len(corpus.domains):
        return corpus
    dropped = [corpus.domains[i].domain_id for i in np.flatnonzero(relevant == 0)]
    _logger.warning(
        "domains_dropped_no_relevant",
        extra={"count": len(dropped), "domains": dropped[:10]},
    )
    subset = _restrict(corpus, np.arange(corpus.n_docs), kept, None, None, 0)
    subset.input_report["domains_dropped_no_relevant"] = len(dropped)
    subset.source = corpus.source
    return subset


def to_pairs_dataset(corpus: LabelledCorpus) -> datasets.Dataset:
    """Return one row per (document, domain) pair as a ``datasets.Dataset``.

    Columns: ``id``, ``domain`` (domain id), ``text``, ``label`` (0/1),
    ``grade``, and, so the table can be written to Parquet and read back with
    ``load_pairs_file`` without loss, ``hard_negative``, ``lang``,
    ``domain_name`` and ``domain_description``.

    Warning:
        The text is repeated on every pair of its document: a corpus with many
        domains (Cranfield: 225) makes a table hundreds of megabytes large.
        Slice it first with :func:`subset_corpus`.
    """
    import datasets
    import pyarrow as pa

    doc = pa.array(corpus.pair_doc, type=pa.int64())
    domain = pa.array(corpus.pair_domain, type=pa.int64())
    table = pa.table(
        {
            "id": pa.array(list(corpus.doc_ids), type=pa.string()).take(doc),
            "domain": pa.array([d.domain_id for d in corpus.domains]).take(domain),
            "text": pa.array(list(corpus.texts), type=pa.string()).take(doc),
            "label": pa.array(corpus.pair_label, type=pa.int64()),
            "grade": pa.array(corpus.pair_grade, type=pa.int64()),
            "hard_negative": pa.array(corpus.pair_hard_negative, type=pa.bool_()),
            "lang": pa.array(list(corpus.languages), type=pa.string()).take(doc),
            "domain_name": pa.array(
                [d.name for d in corpus.domains], type=pa.string()
            ).take(domain),
            "domain_description": pa.array(
                [d.description for d in corpus.domains], type=pa.string()
            ).take(domain),
        }
    )
    return datasets.Dataset(table)


def _choose_documents(
    corpus: LabelledCorpus,
    kept_domains: np.ndarray,
    in_kept: np.ndarray,
    max_docs: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Pick ``max_docs`` documents: relevant ones first, then negatives."""
    relevant_pairs = in_kept & (corpus.pair_label == 1)
    relevant_docs = np.unique(corpus.pair_doc[relevant_pairs])
    if len(relevant_docs) <= max_docs:
        others = np.setdiff1d(np.unique(corpus.pair_doc[in_kept]), relevant_docs)
        extra = rng.choice(others, size=max_docs - len(relevant_docs), replace=False)
        return np.sort(np.concatenate([relevant_docs, extra]))

    # Round robin over domains so that each keeps some relevant documents.
    queues = []
    for k in kept_domains:
        docs = corpus.pair_doc[relevant_pairs & (corpus.pair_domain == k)]
        queues.append(list(rng.permutation(docs)))
    chosen: set[int] = set()
    while len(chosen) < max_docs:
        for queue in queues:
            while queue and queue[-1] in chosen:
                queue.pop()
            if queue and len(chosen) < max_docs:
                chosen.add(int(queue.pop()))
    return np.array(sorted(chosen), dtype=np.int64)


def _restrict(
    corpus: LabelledCorpus,
    kept_docs: np.ndarray,
    kept_domains: np.ndarray,
    max_docs: int | None,
    max_domains: int | None,
    seed: int,
) -> LabelledCorpus:
    """The corpus restricted to the given documents and domains."""
    doc_map = np.full(corpus.n_docs, -1, dtype=np.int64)
    doc_map[kept_docs] = np.arange(len(kept_docs))
    domain_map = np.full(len(corpus.domains), -1, dtype=np.int64)
    domain_map[kept_domains] = np.arange(len(kept_domains))
    pairs = (doc_map[corpus.pair_doc] >= 0) & (domain_map[corpus.pair_domain] >= 0)

    report = dict(corpus.input_report)
    report["subset_from_documents"] = corpus.n_docs
    report["subset_from_domains"] = len(corpus.domains)
    report["domains"] = len(kept_domains)
    report["pairs"] = int(pairs.sum())
    subset = LabelledCorpus(
        name=corpus.name,
        doc_ids=corpus.doc_ids[kept_docs],
        texts=corpus.texts[kept_docs],
        languages=corpus.languages[kept_docs],
        domains=[corpus.domains[k] for k in kept_domains],
        pair_doc=doc_map[corpus.pair_doc[pairs]],
        pair_domain=domain_map[corpus.pair_domain[pairs]],
        pair_label=corpus.pair_label[pairs],
        pair_grade=corpus.pair_grade[pairs],
        pair_hard_negative=corpus.pair_hard_negative[pairs],
        input_report=report,
        source=(
            f"{corpus.source} [subset max_docs={max_docs} "
            f"max_domains={max_domains} seed={seed}]"
        ),
    )
    _logger.info(
        "corpus_subset",
        extra={
            "corpus": corpus.name,
            "documents": subset.n_docs,
            "domains": len(subset.domains),
            "pairs": subset.n_pairs,
        },
    )
    return subset
