"""Load labelled data from the Hugging Face hub with ``datasets.load_dataset``.

Two table shapes are understood, after renaming columns with ``columns``:

* **pairs**: a ``domain`` column is present; one row per (document, domain)
  pair, read exactly like a pairs file (``heysh.data.files``);
* **classification**: no ``domain`` column; each row is one document with a
  ``text`` and a class ``label`` (a ``ClassLabel``, a string, or a list of
  either for multi-label data). Every class becomes a domain and every
  document is paired with every domain: relevant for its own class(es).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from heysh.data._build import assemble_corpus, full_pair_grid, model_text
from heysh.data._pairs import corpus_from_pairs_frame
from heysh.data.cleaning import clean_texts
from heysh.data.corpus import DomainInfo, LabelledCorpus
from heysh.errors import DataError

if TYPE_CHECKING:
    import datasets

_logger = logging.getLogger(__name__)

_HEYSH_COLUMNS = ("id", "domain", "text", "label", "grade", "title", "lang")


def load_hub_dataset(
    name: str,
    *,
    split: str = "train",
    config: str | None = None,
    columns: Mapping[str, str] | None = None,
    domain_descriptions: Mapping[str, str] | None = None,
    language: str = "en",
) -> LabelledCorpus:
    """Download (or read from the local cache) a hub dataset as a corpus.

    Args:
        name: Hub dataset name, e.g. ``fancyzhx/ag_news``.
        split: Split to load.
        config: Dataset configuration name, where the dataset has several.
        columns: heysh column name -> dataset column name, e.g.
            ``{"text": "sentence", "label": "topic"}``; unmapped heysh columns
            are looked up under their own name.
        domain_descriptions: Classification shape only: class name ->
            description; a class without one is described by its name (and a
            WARNING is logged).
        language: Language of the documents when there is no ``lang`` column.

    Returns:
        The corpus, named ``hf:<name>`` with source ``hf:<name>:<split>``.

    Raises:
        DataError: if the hub cannot be reached (offline mode or no network),
            the dataset, config or split does not exist, or the columns do not
            fit either shape.
    """
    import datasets

    started = time.perf_counter()
    try:
        dataset = datasets.load_dataset(name, config, split=split)
    except (
        ConnectionError,
        FileNotFoundError,
        datasets.exceptions.DatasetsError,
        ValueError,
    ) as err:
        raise DataError(_hub_failure_message(name, split, config, err)) from err
    if not isinstance(dataset, datasets.Dataset):
        raise DataError(
            f"hub dataset {name!r} returned {type(dataset).__name__}, not one "
            "split; pass a single split name such as split='train'"
        )
    corpus = corpus_from_hub_dataset(
        dataset,
        name=f"hf:{name}",
        source=f"hf:{name}:{split}",
        columns=columns,
        domain_descriptions=domain_descriptions,
        language=language,
    )
    _logger.info(
        "hub_dataset_loaded",
        extra={
            "dataset": name,
            "split": split,
            "documents": corpus.n_docs,
            "domains": len(corpus.domains),
            "duration_s": round(time.perf_counter() - started, 3),
        },
    )
    return corpus


def corpus_from_hub_dataset(
    dataset: datasets.Dataset,
    *,
    name: str,
    source: str,
    columns: Mapping[str, str] | None = None,
    domain_descriptions: Mapping[str, str] | None = None,
    language: str = "en",
) -> LabelledCorpus:
    """Turn an in-memory ``datasets.Dataset`` into a corpus (see module doc).

    Args:
        dataset: The loaded split.
        name: Corpus name; also the prefix of generated document and domain ids.
        source: Where the data came from.
        columns: heysh column name -> dataset column name.
        domain_descriptions: Class name -> description (classification shape).
        language: Document language when there is no ``lang`` column.

    Raises:
        DataError: if a mapped column is missing, or ``text`` / ``label`` are
            missing in the classification shape.
    """
    mapping = _column_mapping(dataset, columns or {}, source)
    if "domain" in mapping:
        frame = dataset.select_columns(list(mapping.values())).to_pandas()
        frame = frame.rename(columns={v: k for k, v in mapping.items()})
        if "lang" not in frame:
            frame["lang"] = language
        if domain_descriptions:
            frame["domain_description"] = frame["domain"].map(domain_descriptions)
        return corpus_from_pairs_frame(frame, name=name, source=source)
    return _corpus_from_classes(
        dataset, mapping, name, source, domain_descriptions or {}, language
    )


def _column_mapping(
    dataset: datasets.Dataset, columns: Mapping[str, str], source: str
) -> dict[str, str]:
    """heysh column -> dataset column, for the columns the dataset has."""
    unknown = sorted(set(columns) - set(_HEYSH_COLUMNS))
    if unknown:
        raise DataError(
            f"columns maps unknown heysh column(s) {', '.join(unknown)}; the keys "
            f"must be among {', '.join(_HEYSH_COLUMNS)}"
        )
    found = list(dataset.column_names)
    missing = [f"{k} -> {v}" for k, v in columns.items() if v not in found]
    if missing:
        raise DataError(
            f"{source}: mapped column(s) not in the dataset: {', '.join(missing)} "
            f"(found: {', '.join(found)}); fix the columns mapping"
        )
    mapping = {key: columns.get(key, key) for key in _HEYSH_COLUMNS}
    mapping = {key: value for key, value in mapping.items() if value in found}
    for key in ("text", "label"):
        if key not in mapping:
            raise DataError(
                f"{source} has no {key!r} column (found: {', '.join(found)}); map "
                f"one with columns={{{key!r}: '<dataset column>'}}"
            )
    return mapping


def _corpus_from_classes(
    dataset: datasets.Dataset,
    mapping: dict[str, str],
    name: str,
    source: str,
    domain_descriptions: Mapping[str, str],
    language: str,
) -> LabelledCorpus:
    """Classification shape: one domain per class, every doc paired with each."""
    rows = dataset.select_columns(list(mapping.values())).to_dict()
    n_docs = len(dataset)
    class_names = _class_names(dataset.features[mapping["label"]])
    doc_classes = [
        _as_class_list(value, class_names, source) for value in rows[mapping["label"]]
    ]
    classes = class_names or sorted({c for labels in doc_classes for c in labels})

    if "id" in mapping:
        doc_ids = [str(value) for value in rows[mapping["id"]]]
    else:
        doc_ids = [f"{name}:{i}" for i in range(n_docs)]
    if len(set(doc_ids)) != n_docs:
        raise DataError(
            f"{source}: the id column has duplicates; map a unique id column or "
            "leave id unmapped to number the rows"
        )
    titles = rows[mapping["title"]] if "title" in mapping else [None] * n_docs
    texts = [
        model_text(t, str(x or ""))
        for t, x in zip(titles, rows[mapping["text"]], strict=True)
    ]
    languages = (
        [str(v or language) for v in rows[mapping["lang"]]]
        if "lang" in mapping
        else [language] * n_docs
    )
    cleaned = clean_texts(doc_ids, texts)

    domains = []
    for class_name in classes:
        description = domain_descriptions.get(class_name)
        if description is None:
            _logger.warning(
                "domain_description_missing",
                extra={"domain_id": f"{name}:{class_name}", "fallback": "class name"},
            )
        domains.append(
            DomainInfo(
                f"{name}:{class_name}", class_name, description or class_name, language
            )
        )
    class_index = {c: k for k, c in enumerate(classes)}
    relevant = np.zeros((n_docs, len(classes)), dtype=np.int64)
    for i, labels in enumerate(doc_classes):
        relevant[i, [class_index[c] for c in labels]] = 1

    pair_doc, pair_domain = full_pair_grid(cleaned.keep_mask, len(domains))
    pair_label = relevant[pair_doc, pair_domain]
    return assemble_corpus(
        name=name,
        source=source,
        doc_ids=doc_ids,
        cleaned=cleaned,
        languages=languages,
        domains=domains,
        pair_doc=pair_doc,
        pair_domain=pair_domain,
        pair_label=pair_label,
        pair_grade=pair_label,
        pair_hard_negative=np.zeros(len(pair_doc), dtype=bool),
        extra_report={
            "pairs_excluded_unusable_text": int((~cleaned.keep_mask).sum())
            * len(domains)
        },
    )


def _class_names(feature: Any) -> list[str]:  # Any: a datasets feature object
    """Names of a ClassLabel feature (or of a list of them); [] otherwise."""
    inner = getattr(feature, "feature", feature)
    return [str(n) for n in getattr(inner, "names", None) or []]


def _as_class_list(value: Any, class_names: list[str], source: str) -> list[str]:
    """One row's label(s) as class names."""
    values = value if isinstance(value, list | tuple) else [value]
    result = []
    for item in values:
        if class_names and isinstance(item, int | np.integer):
            if not 0 <= item < len(class_names):
                raise DataError(
                    f"{source}: class index {item} is outside 0..{len(class_names) - 1}"
                    "; check the label column mapping"
                )
            result.append(class_names[item])
        elif item is None:
            continue
        else:
            result.append(str(item))
    return result


def _hub_failure_message(
    name: str, split: str, config: str | None, err: Exception
) -> str:
    """Say why loading failed and what to do, without the library's traceback."""
    what = f"{name!r}" + (f" (config {config!r})" if config else "")
    offline = os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}
    reason = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
    if offline or "offline" in str(err).lower():
        return (
            f"could not reach the Hugging Face hub for {what}: offline mode is on "
            f"(HF_HUB_OFFLINE=1) and the dataset is not in the local cache ({reason}). "
            "Set HF_HUB_OFFLINE=0 and check the network, or download the data and "
            "pass a local JSONL/CSV/Parquet file or collection folder instead"
        )
    if isinstance(err, ConnectionError):
        return (
            f"could not reach the Hugging Face hub for {what} ({reason}); check the "
            "network or proxy settings, or download the data and pass a local "
            "JSONL/CSV/Parquet file or collection folder instead"
        )
    if isinstance(err, ValueError):
        return (
            f"could not load split {split!r} of hub dataset {what} ({reason}); check "
            "the split and config names on the dataset's hub page"
        )
    return (
        f"hub dataset {what} was not found or cannot be read ({reason}); check the "
        "name (owner/dataset) and that you have access to it"
    )
