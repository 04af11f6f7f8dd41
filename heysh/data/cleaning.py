"""Clean the documents of a labelled collection and count what was found.

Every loader passes its documents through :func:`clean_texts`, so messy input
(empty documents, HTML entities, bytes that are not UTF-8, control characters,
exact duplicates, long documents) is handled the same way everywhere and
counted in the corpus's ``input_report``. Nothing is silently dropped: a
document that cannot be scored is kept out of the evaluation pairs and counted.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from heysh.documents import decode_document_bytes, normalise_text
from heysh.errors import DocumentError

_logger = logging.getLogger(__name__)

# Documents above this many words are scored in windows (the MiniLM input
# limit, see heysh.documents.windows); counted here so the cost is visible.
LONG_DOCUMENT_WORDS = 160

# Control characters that normalise_text removes (tab, line feed, form feed
# and carriage return are whitespace, not noise).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# AG News style entities that lost their ampersand: " #36;10 million".
_AMPERSANDLESS_ENTITY = re.compile(r"(?<![&\w])#\d{2,4};")
_WORD = re.compile(r"\S+")

REPORT_KEYS = (
    "documents_in",
    "empty_text",
    "binary_refused",
    "exact_duplicate",
    "non_utf8_decoded",
    "html_entities_decoded",
    "control_characters_removed",
    "long_documents",
    "documents_kept",
)
"""Keys every cleaning report has, in this order; source flags are added after."""


class CleanedTexts(NamedTuple):
    """The result of :func:`clean_texts`.

    Attributes:
        texts: Shape ``(n_docs,)``, object array of cleaned text; ``""`` where
            a document was refused.
        report: Counts per finding, keys :data:`REPORT_KEYS` plus one
            ``source_flag:<name>`` key per flag the source had already set.
        keep_mask: Shape ``(n_docs,)``, bool; False for documents that must not
            enter evaluation pairs (empty after cleaning, or binary).
        split_keys: Shape ``(n_docs,)``, object array; the id of the first
            document with the same cleaned text, so an exact duplicate always
            lands in the split of its first occurrence.
        flags: One tuple per document naming its findings (``empty_text``,
            ``exact_duplicate``, ``non_utf8_decoded``...).
    """

    texts: np.ndarray
    report: dict[str, int]
    keep_mask: np.ndarray
    split_keys: np.ndarray
    flags: list[tuple[str, ...]]


def clean_texts(
    doc_ids: Sequence[str],
    texts_or_bytes: Sequence[str | bytes],
    *,
    source_flags: Sequence[Sequence[str]] | None = None,
    long_document_words: int = LONG_DOCUMENT_WORDS,
) -> CleanedTexts:
    """Decode, normalise and inspect documents, counting every finding.

    Args:
        doc_ids: Unique document ids, in corpus order.
        texts_or_bytes: The documents as text or as raw bytes (decoded with
            :func:`heysh.documents.decode_document_bytes`); mixed is fine.
        source_flags: Flags the source already set per document (the shared
            collections' ``flags``); a source flag starting with ``non_utf8``
            counts as ``non_utf8_decoded`` because the bytes were decoded
            before the text reached heysh.
        long_document_words: Word count above which a document is counted in
            ``long_documents`` (it will be scored in windows).

    Returns:
        Cleaned texts, the report, the mask of documents fit for evaluation,
        duplicate-aware split keys and per-document flags.

    Raises:
        ValueError: if the sequences differ in length.
    """
    n_docs = len(doc_ids)
    if len(texts_or_bytes) != n_docs or (
        source_flags is not None and len(source_flags) != n_docs
    ):
        raise ValueError(
            f"clean_texts needs one text per id: got {n_docs} ids, "
            f"{len(texts_or_bytes)} texts and "
            f"{'no' if source_flags is None else len(source_flags)} flag lists"
        )

    report = dict.fromkeys(REPORT_KEYS, 0)
    report["documents_in"] = n_docs
    texts = np.empty(n_docs, dtype=object)
    keep = np.ones(n_docs, dtype=bool)
    flags: list[tuple[str, ...]] = []
    for i, raw in enumerate(texts_or_bytes):
        given = tuple(source_flags[i]) if source_flags is not None else ()
        text, found = _clean_one(raw, given, long_document_words)
        texts[i] = text
        keep[i] = not ({"empty_text", "binary_refused"} & set(found))
        flags.append(found)
        for flag in found:
            if flag in report:
                report[flag] += 1
        for flag in given:
            key = f"source_flag:{flag}"
            report[key] = report.get(key, 0) + 1

    split_keys = first_occurrence_keys(doc_ids, list(texts))
    is_duplicate = (split_keys != np.asarray(doc_ids, dtype=object)) & keep
    for i in np.flatnonzero(is_duplicate).tolist():
        flags[i] = (*flags[i], "exact_duplicate")
        report["exact_duplicate"] += 1
    report["documents_kept"] = int(keep.sum())

    _logger.info("documents_cleaned", extra=dict(report))
    _log_flagged_ids(doc_ids, flags)
    return CleanedTexts(texts, report, keep, split_keys, flags)


def first_occurrence_keys(doc_ids: Sequence[str], texts: Sequence[str]) -> np.ndarray:
    """Map each document to the id of the first document with the same text.

    Args:
        doc_ids: Document ids, in corpus order.
        texts: Cleaned texts, parallel to ``doc_ids``.

    Returns:
        Shape ``(n_docs,)``, object array of ids; a document that is not a
        duplicate maps to its own id.

    >>> list(first_occurrence_keys(["a", "b", "c"], ["x", "y", "x"]))
    ['a', 'b', 'a']
    """
    first: dict[str, str] = {}
    keys = np.empty(len(doc_ids), dtype=object)
    for i, (doc_id, text) in enumerate(zip(doc_ids, texts, strict=True)):
        keys[i] = first.setdefault(text, doc_id)
    return keys


def _log_flagged_ids(doc_ids: Sequence[str], flags: list[tuple[str, ...]]) -> None:
    """Log which documents carry each finding (ids only, at most ten per flag)."""
    flagged: dict[str, list[str]] = {}
    for doc_id, found in zip(doc_ids, flags, strict=True):
        for flag in found:
            if flag != "long_documents":
                flagged.setdefault(flag, []).append(str(doc_id))
    for flag, ids in flagged.items():
        _logger.info(
            "documents_flagged",
            extra={"flag": flag, "count": len(ids), "example_ids": ids[:10]},
        )


def _clean_one(
    raw: str | bytes, given: tuple[str, ...], long_document_words: int
) -> tuple[str, tuple[str, ...]]:
    """Clean one document; return its text and what was found in it."""
    found: list[str] = []
    if any(flag.startswith("non_utf8") for flag in given):
        found.append("non_utf8_decoded")
    if isinstance(raw, bytes | bytearray):
        try:
            decoded = decode_document_bytes(bytes(raw))
        except DocumentError:
            return "", ("binary_refused",)
        if any(flag.startswith("non_utf8") for flag in decoded.flags):
            found.append("non_utf8_decoded")
        raw = decoded.text

    has_entity = "&" in raw and html.unescape(raw) != raw
    if has_entity or ("#" in raw and _AMPERSANDLESS_ENTITY.search(raw)):
        found.append("html_entities_decoded")
    if _CONTROL.search(raw):
        found.append("control_characters_removed")
    text = normalise_text(raw)
    if not text:
        found.append("empty_text")
    elif len(_WORD.findall(text)) > long_document_words:
        found.append("long_documents")
    return text, tuple(dict.fromkeys(found))
