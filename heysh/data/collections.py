"""Load a labelled collection in the shared three-file format.

A collection folder holds ``documents.jsonl``, ``domains.jsonl`` and, for
information-retrieval collections, ``judgments.jsonl`` (the format is described
in ``shared/datasets/README.md``). Every document is paired with every domain:

* label domains (``relevance == "labels"``): a document is relevant when its
  labels meet the domain's ``relevant_labels``, a hard negative when it is not
  relevant but carries one of the ``related_labels``;
* judgment domains (``relevance == "judgments"``): the grade comes from the
  judgments (unjudged = 0); relevant when ``grade >= min_relevant_grade``, a
  hard negative when judged but below that grade. The Cranfield base paper of
  each query (``meta.base_doc_ids``) is left out and counted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heysh.data._build import assemble_corpus, full_pair_grid, model_text
from heysh.data._jsonl import read_jsonl, require_keys
from heysh.data.cleaning import clean_texts
from heysh.data.corpus import DomainInfo, LabelledCorpus
from heysh.errors import ConfigError, DataError

_logger = logging.getLogger(__name__)

_DOCUMENT_KEYS = ("id", "text")
_DOMAIN_KEYS = ("domain_id", "name", "description", "relevance")
_JUDGMENT_KEYS = ("domain_id", "doc_id", "grade")


def load_collection(
    path: Path,
    *,
    min_relevant_grade: int = 1,
    description_language: str | None = None,
) -> LabelledCorpus:
    """Load a collection folder as a LabelledCorpus.

    Args:
        path: Folder with ``documents.jsonl`` and ``domains.jsonl``.
        min_relevant_grade: For judgment domains, the lowest grade counted as
            relevant (1 = any judged document; Cranfield grades run 1 to 4).
        description_language: Language of the domain descriptions models read.
            By default each domain's own language (``description_sv`` for a
            Swedish domain, ``description`` otherwise); ``"en"`` forces the
            English ``description``; another code picks ``description_<code>``
            where present and falls back to ``description`` with a WARNING.

    Returns:
        The corpus; ``input_report`` holds the cleaning counts plus
        ``pairs_excluded_unusable_text``, ``base_document_pairs_excluded``,
        ``judgments`` and ``judged_pairs_excluded`` (judgments of documents
        left out, e.g. an empty one).

    Raises:
        DataError: if a file is missing or malformed, or judgments name an
            unknown document or domain.
        ConfigError: if ``min_relevant_grade`` is below 1.
    """
    if min_relevant_grade < 1:
        raise ConfigError(
            f"min_relevant_grade ({min_relevant_grade}) must be at least 1, since "
            "grade 0 means unjudged; use 1 to count every judged document"
        )
    started = time.perf_counter()
    path = Path(path)
    documents, domain_records, judgments = _read_collection_files(path)

    doc_ids = [str(record["id"]) for record in documents]
    _check_text_fields(documents, path)
    cleaned = clean_texts(
        doc_ids,
        [model_text(record.get("title"), record["text"]) for record in documents],
        source_flags=[record.get("flags") or [] for record in documents],
    )
    domains = [
        domain_info_from_record(record, description_language)
        for record in domain_records
    ]

    doc_index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    grades, related = _label_matrices(documents, domain_records, judgments, doc_index)
    excluded = _base_document_mask(domain_records, doc_index, len(doc_ids))
    judgment_domain = np.array(
        [record["relevance"] == "judgments" for record in domain_records], dtype=bool
    )

    judged_lost = (
        (grades > 0) & judgment_domain & (excluded | ~cleaned.keep_mask[:, None])
    )
    pair_doc, pair_domain = full_pair_grid(cleaned.keep_mask, len(domains))
    is_base = excluded[pair_doc, pair_domain]
    pair_doc, pair_domain = pair_doc[~is_base], pair_domain[~is_base]
    pair_grade = grades[pair_doc, pair_domain]
    threshold = np.where(judgment_domain[pair_domain], min_relevant_grade, 1)
    pair_label = (pair_grade >= threshold).astype(np.int64)
    pair_hard_negative = (pair_label == 0) & (
        related[pair_doc, pair_domain] | (pair_grade > 0)
    )

    corpus = assemble_corpus(
        name=_collection_name(path, domain_records),
        source=str(path),
        doc_ids=doc_ids,
        cleaned=cleaned,
        languages=[str(record.get("lang") or "en") for record in documents],
        domains=domains,
        pair_doc=pair_doc,
        pair_domain=pair_domain,
        pair_label=pair_label,
        pair_grade=pair_grade,
        pair_hard_negative=pair_hard_negative,
        extra_report={
            "pairs_excluded_unusable_text": int(
                (~cleaned.keep_mask).sum() * len(domains)
            ),
            "base_document_pairs_excluded": int(is_base.sum()),
            "judgments": len(judgments),
            "judged_pairs_excluded": int(judged_lost.sum()),
        },
    )
    _logger.info(
        "collection_loaded",
        extra={
            "collection": corpus.name,
            "documents": corpus.n_docs,
            "domains": len(domains),
            "pairs": corpus.n_pairs,
            "duration_s": round(time.perf_counter() - started, 3),
        },
    )
    return corpus


def _read_collection_files(
    path: Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Read and check the three files of a collection folder."""
    if not path.is_dir():
        raise DataError(
            f"collection folder not found: {path}; pass a folder that holds "
            "documents.jsonl and domains.jsonl"
        )
    for required in ("documents.jsonl", "domains.jsonl"):
        if not (path / required).is_file():
            raise DataError(
                f"{path} has no {required}; a collection folder needs "
                "documents.jsonl and domains.jsonl (judgments.jsonl for IR "
                "collections)"
            )
    documents = read_jsonl(path / "documents.jsonl")
    require_keys(documents, _DOCUMENT_KEYS, path / "documents.jsonl")
    domains = read_jsonl(path / "domains.jsonl")
    require_keys(domains, _DOMAIN_KEYS, path / "domains.jsonl")
    judgments_path = path / "judgments.jsonl"
    judgments = read_jsonl(judgments_path) if judgments_path.is_file() else []
    require_keys(judgments, _JUDGMENT_KEYS, judgments_path)

    _reject_duplicates([str(r["id"]) for r in documents], "document id", path)
    _reject_duplicates([str(r["domain_id"]) for r in domains], "domain_id", path)
    for record in domains:
        if record["relevance"] not in ("labels", "judgments"):
            raise DataError(
                f"{path / 'domains.jsonl'}: domain {record['domain_id']!r} has "
                f"relevance {record['relevance']!r}; expected 'labels' or "
                "'judgments'"
            )
    if not domains:
        raise DataError(f"{path / 'domains.jsonl'} holds no domains; add at least one")
    return documents, domains, judgments


def _check_text_fields(documents: list[dict[str, Any]], path: Path) -> None:
    """Refuse a document whose text or title is not a string (or null title)."""
    for record in documents:
        text, title = record.get("text"), record.get("title")
        if not isinstance(text, str) or not (title is None or isinstance(title, str)):
            raise DataError(
                f"{path / 'documents.jsonl'}: document {record.get('id')!r} has "
                f"text of type {type(text).__name__} and title of type "
                f"{type(title).__name__}; text must be a string (empty is allowed) "
                "and title a string or null"
            )


def _reject_duplicates(values: list[str], what: str, path: Path) -> None:
    duplicates = sorted(value for value, n in Counter(values).items() if n > 1)
    if duplicates:
        raise DataError(
            f"{path}: {len(duplicates)} duplicate {what}(s), e.g. "
            f"{', '.join(map(repr, duplicates[:5]))}; each must be unique"
        )


def domain_info_from_record(
    record: Mapping[str, Any], description_language: str | None
) -> DomainInfo:
    """Build a DomainInfo from a ``domains.jsonl`` record.

    Args:
        record: One record of the shared domains schema.
        description_language: ``None`` for the domain's own language, else a
            language code (see :func:`load_collection`).
    """
    domain_language = str(record.get("lang") or "en")
    language = description_language or domain_language
    suffix = "" if language == "en" else f"_{language}"
    description = record.get(f"description{suffix}")
    name = record.get(f"name{suffix}") or record["name"]
    if description is None:
        if description_language is not None:
            _logger.warning(
                "domain_description_language_missing",
                extra={
                    "domain_id": record["domain_id"],
                    "requested": description_language,
                    "used": "description",
                },
            )
        description = record["description"]
    return DomainInfo(
        domain_id=str(record["domain_id"]),
        name=str(name),
        description=str(description),
        language=domain_language,
    )


def _label_matrices(
    documents: list[dict[str, Any]],
    domains: list[dict[str, Any]],
    judgments: list[dict[str, Any]],
    doc_index: dict[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Return grades and related-label flags, each shape ``(n_docs, n_domains)``.

    For label domains the grade is 1 for a relevant document and 0 otherwise.
    """
    n_docs, n_domains = len(documents), len(domains)
    grades = np.zeros((n_docs, n_domains), dtype=np.int64)
    related = np.zeros((n_docs, n_domains), dtype=bool)

    docs_by_label: dict[str, list[int]] = {}
    for i, record in enumerate(documents):
        for label in _label_list(record, "labels", "document", "id"):
            docs_by_label.setdefault(label, []).append(i)
    for k, domain in enumerate(domains):
        if domain["relevance"] != "labels":
            continue
        for label in _label_list(domain, "relevant_labels", "domain", "domain_id"):
            grades[docs_by_label.get(label, []), k] = 1
        for label in _label_list(domain, "related_labels", "domain", "domain_id"):
            related[docs_by_label.get(label, []), k] = True

    domain_index = {str(d["domain_id"]): k for k, d in enumerate(domains)}
    unknown = [
        j
        for j in judgments
        if j["doc_id"] not in doc_index or j["domain_id"] not in domain_index
    ]
    if unknown:
        first = unknown[0]
        raise DataError(
            f"{len(unknown)} judgment(s) name an unknown document or domain, e.g. "
            f"doc_id {first['doc_id']!r} for domain {first['domain_id']!r}; "
            "judgments.jsonl must match documents.jsonl and domains.jsonl"
        )
    for judgment in judgments:
        grades[doc_index[judgment["doc_id"]], domain_index[judgment["domain_id"]]] = (
            int(judgment["grade"])
        )
    return grades, related


def _label_list(record: dict[str, Any], key: str, kind: str, id_key: str) -> list[str]:
    """The record's labels under ``key`` as strings; absent or null is none.

    Raises:
        DataError: if the value is not a list (a bare string would otherwise be
            read one character at a time).
    """
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(
            f"{kind} {record.get(id_key)!r} has {key} {value!r}, a "
            f"{type(value).__name__}; {key} must be a list, e.g. [{value!r}]"
        )
    return [str(label) for label in value]


def _base_document_mask(
    domains: list[dict[str, Any]], doc_index: dict[str, int], n_docs: int
) -> np.ndarray:
    """Mark each domain's base documents (Cranfield); shape ``(n_docs, n_domains)``."""
    mask = np.zeros((n_docs, len(domains)), dtype=bool)
    for k, domain in enumerate(domains):
        for doc_id in (domain.get("meta") or {}).get("base_doc_ids") or []:
            if doc_id in doc_index:
                mask[doc_index[doc_id], k] = True
    return mask


def _collection_name(path: Path, domains: list[dict[str, Any]]) -> str:
    names = {str(d["collection"]) for d in domains if d.get("collection")}
    return names.pop() if len(names) == 1 else path.name
