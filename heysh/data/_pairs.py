"""Turn a table with one row per (document, domain) pair into a LabelledCorpus.

Private to ``heysh.data``: shared by the file loader and the hub loader, so a
pairs table means the same whatever it was read from.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from heysh.data._build import assemble_corpus, model_text
from heysh.data.cleaning import clean_texts
from heysh.data.collections import domain_info_from_record
from heysh.data.corpus import DomainInfo, LabelledCorpus
from heysh.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

_logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "domain", "text", "label")
OPTIONAL_COLUMNS = (
    "grade",
    "title",
    "lang",
    "domain_name",
    "domain_description",
    "hard_negative",
)

_TRUE = {"1", "true", "yes", "relevant"}
_FALSE = {"0", "false", "no", "not_relevant", "not relevant", "irrelevant"}
ACCEPTED_LABELS = "0/1, true/false, yes/no or relevant/not_relevant"


def corpus_from_pairs_frame(
    frame: pd.DataFrame,
    *,
    name: str,
    source: str,
    domain_records: Mapping[str, Mapping[str, Any]] | None = None,
    description_language: str | None = None,
) -> LabelledCorpus:
    """Build a corpus from a pairs table.

    Args:
        frame: One row per (document, domain) pair; columns
            :data:`REQUIRED_COLUMNS`, optionally :data:`OPTIONAL_COLUMNS`.
        name: Corpus name.
        source: Where the table came from, for messages and the corpus.
        domain_records: Domain records keyed by ``domain_id`` (the schema of
            the shared ``domains.jsonl``), used when the table has no
            ``domain_description`` column.
        description_language: Passed to the description choice of
            ``domain_records`` (see ``heysh.data.collections``).

    Returns:
        The corpus, with pairs in table order (minus pairs of documents whose
        text is unusable, counted as ``pairs_excluded_unusable_text``).

    Raises:
        DataError: on a missing column, duplicate (id, domain) rows, an id
            with two different texts, or labels that cannot be read.
    """
    _check_columns(frame, source)
    if frame.empty:
        raise DataError(f"{source} has no rows; add one row per (document, domain)")
    frame = frame.reset_index(drop=True)
    ids = _string_column(frame, "id", source)
    domain_names = _string_column(frame, "domain", source)
    _reject_duplicate_pairs(ids, domain_names, source)

    labels = interpret_labels(frame["label"], source)
    grades = _grades(frame, labels, source)
    hard = (
        interpret_labels(frame["hard_negative"], source, column="hard_negative")
        if "hard_negative" in frame
        else np.zeros(len(frame), dtype=np.int64)
    )

    doc_rows = _first_rows(ids)
    doc_ids = [ids[row] for row in doc_rows]
    texts = _optional_strings(frame, "text")
    titles = _optional_strings(frame, "title")
    _reject_conflicting_texts(ids, texts, titles, source)
    cleaned = clean_texts(
        doc_ids, [model_text(titles[row] or None, texts[row]) for row in doc_rows]
    )

    row_languages = _optional_strings(frame, "lang")
    descriptions = _optional_strings(frame, "domain_description")
    names = _optional_strings(frame, "domain_name")
    _check_descriptions(descriptions, domain_names, source)
    domain_languages = _domain_languages(domain_names, row_languages, labels)
    domains = [
        _domain_info(
            domain_names[row],
            names[row] or domain_names[row],
            domain_languages[domain_names[row]],
            descriptions[row],
            domain_records,
            description_language,
        )
        for row in _first_rows(domain_names)
    ]
    language_of = {d.domain_id: d.language for d in domains}
    languages = [
        row_languages[row] or language_of[domain_names[row]] for row in doc_rows
    ]

    doc_index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    domain_index = {d.domain_id: k for k, d in enumerate(domains)}
    pair_doc = np.array([doc_index[i] for i in ids], dtype=np.int64)
    pair_domain = np.array([domain_index[d] for d in domain_names], dtype=np.int64)
    usable = cleaned.keep_mask[pair_doc]
    return assemble_corpus(
        name=name,
        source=source,
        doc_ids=doc_ids,
        cleaned=cleaned,
        languages=languages,
        domains=domains,
        pair_doc=pair_doc[usable],
        pair_domain=pair_domain[usable],
        pair_label=labels[usable],
        pair_grade=grades[usable],
        pair_hard_negative=(hard[usable] == 1) & (labels[usable] == 0),
        extra_report={"pairs_excluded_unusable_text": int((~usable).sum())},
    )


def interpret_labels(
    values: pd.Series, source: str, *, column: str = "label"
) -> np.ndarray:
    """Read relevance labels as 0/1.

    Accepted: booleans, the numbers 0 and 1, and the strings of
    :data:`ACCEPTED_LABELS` (any case, surrounding spaces ignored).

    Raises:
        DataError: naming up to five unreadable values and their rows.
    """
    result = np.full(len(values), -1, dtype=np.int64)
    for row, value in enumerate(values.tolist()):
        if isinstance(value, bool | np.bool_):
            result[row] = int(value)
        elif isinstance(value, int | float | np.integer | np.floating):
            if value in (0, 1):
                result[row] = int(value)
        elif isinstance(value, str):
            text = value.strip().lower()
            result[row] = 1 if text in _TRUE else 0 if text in _FALSE else -1
    bad = np.flatnonzero(result < 0)
    if len(bad):
        examples = ", ".join(f"row {row + 1}: {values.iloc[row]!r}" for row in bad[:5])
        raise DataError(
            f"{source}: {len(bad)} value(s) of column {column!r} cannot be read as "
            f"relevant or not ({examples}); use {ACCEPTED_LABELS}"
        )
    return result


def _check_columns(frame: pd.DataFrame, source: str) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(
            f"{source} lacks column(s) {', '.join(missing)} (found: {found}); a "
            "pairs table needs one row per (document, domain) with columns "
            f"{', '.join(REQUIRED_COLUMNS)} and optionally "
            f"{', '.join(OPTIONAL_COLUMNS)}"
        )


def _string_column(frame: pd.DataFrame, column: str, source: str) -> list[str]:
    values = frame[column]
    missing = values.isna() | (values.astype(str).str.strip() == "")
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0]) + 1
        raise DataError(
            f"{source}: column {column!r} is empty in {int(missing.sum())} row(s), "
            f"first at row {row}; every row needs an {column}"
        )
    return [str(value).strip() for value in values.tolist()]


def _optional_strings(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame:
        return [""] * len(frame)
    return ["" if _is_missing(v) else str(v) for v in frame[column].tolist()]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _first_rows(keys: list[str]) -> list[int]:
    """Rows where each distinct key first appears, in table order."""
    first: dict[str, int] = {}
    for row, key in enumerate(keys):
        first.setdefault(key, row)
    return list(first.values())


def _reject_duplicate_pairs(ids: list[str], domains: list[str], source: str) -> None:
    seen: dict[tuple[str, str], int] = {}
    duplicates = []
    for row, pair in enumerate(zip(ids, domains, strict=True)):
        if pair in seen:
            duplicates.append((seen[pair], row, pair))
        else:
            seen[pair] = row
    if duplicates:
        first, again, (doc_id, domain) = duplicates[0]
        raise DataError(
            f"{source}: {len(duplicates)} duplicate (id, domain) row(s), e.g. id "
            f"{doc_id!r} with domain {domain!r} in rows {first + 1} and {again + 1}; "
            "keep one row per (document, domain) pair"
        )


def _reject_conflicting_texts(
    ids: list[str], texts: list[str], titles: list[str], source: str
) -> None:
    first: dict[str, int] = {}
    for row, doc_id in enumerate(ids):
        seen = first.setdefault(doc_id, row)
        if texts[seen] != texts[row] or titles[seen] != titles[row]:
            raise DataError(
                f"{source}: id {doc_id!r} has two different texts (rows {seen + 1} "
                f"and {row + 1}); one id must name one document: give the second "
                "document its own id"
            )


def _grades(frame: pd.DataFrame, labels: np.ndarray, source: str) -> np.ndarray:
    """Grades from the optional column; the label where a grade is missing."""
    if "grade" not in frame:
        return labels.copy()
    grades = labels.copy()
    for row, value in enumerate(frame["grade"].tolist()):
        if _is_missing(value) or (isinstance(value, str) and not value.strip()):
            continue
        try:
            grade = float(value)
        except (TypeError, ValueError):
            grade = -1.0
        if grade < 0 or grade != int(grade):
            raise DataError(
                f"{source}: row {row + 1} has grade {value!r}; grades must be whole "
                "numbers >= 0 (0 = not relevant), or left empty to use the label"
            )
        grades[row] = int(grade)
    return grades


def _domain_languages(
    domain_names: list[str], row_languages: list[str], labels: np.ndarray
) -> dict[str, str]:
    """A domain's language: the commonest ``lang`` of its relevant rows.

    Falls back to the commonest of all its rows, then to ``en``.
    """
    relevant: dict[str, Counter[str]] = {}
    every: dict[str, Counter[str]] = {}
    for domain, language, label in zip(
        domain_names, row_languages, labels.tolist(), strict=True
    ):
        every.setdefault(domain, Counter())[language or "en"] += 1
        if label == 1:
            relevant.setdefault(domain, Counter())[language or "en"] += 1
    return {
        domain: (relevant.get(domain) or counts).most_common(1)[0][0]
        for domain, counts in every.items()
    }


def _domain_info(
    domain_id: str,
    name: str,
    language: str,
    description: str,
    domain_records: Mapping[str, Mapping[str, Any]] | None,
    description_language: str | None,
) -> DomainInfo:
    """Describe a domain: its column value, else the domains file, else its name."""
    if description.strip():
        return DomainInfo(domain_id, name, description, language)
    record = (domain_records or {}).get(domain_id)
    if record is not None:
        return domain_info_from_record(record, description_language)
    _logger.warning(
        "domain_description_missing",
        extra={"domain_id": domain_id, "fallback": "domain name"},
    )
    return DomainInfo(domain_id, name, name, language)


def _check_descriptions(
    descriptions: list[str], domain_names: list[str], source: str
) -> None:
    first: dict[str, str] = {}
    for domain, description in zip(domain_names, descriptions, strict=True):
        if not description.strip():
            continue
        seen = first.setdefault(domain, description)
        if seen != description:
            raise DataError(
                f"{source}: domain {domain!r} has two different domain_description "
                "values; give every row of a domain the same description"
            )
