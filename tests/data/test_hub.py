"""Tests for heysh.data.hub: Hugging Face hub datasets, offline and in memory."""

from __future__ import annotations

import time

import datasets
import huggingface_hub.constants
import pytest

from heysh.data.hub import corpus_from_hub_dataset, load_hub_dataset
from heysh.errors import DataError


@pytest.fixture
def hub_offline(monkeypatch):
    """Offline mode as HF_HUB_OFFLINE=1 gives it, also for already-imported modules."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def _pairs(corpus):
    return [
        (corpus.doc_ids[d], corpus.domains[k].domain_id, int(lab))
        for d, k, lab in zip(
            corpus.pair_doc, corpus.pair_domain, corpus.pair_label, strict=True
        )
    ]


def test_load_hub_dataset_offline_raises_clear_error_quickly(hub_offline):
    """Offline, an uncached dataset fails fast with what to do instead."""
    started = time.perf_counter()

    with pytest.raises(
        DataError,
        match=r"could not reach the Hugging Face hub for 'heysh-tests/no-such-set'.*"
        r"Set HF_HUB_OFFLINE=0 .* pass a local JSONL/CSV/Parquet file",
    ):
        load_hub_dataset("heysh-tests/no-such-set")

    assert time.perf_counter() - started < 10


def test_corpus_from_hub_dataset_class_labels_become_domains():
    """Each class of a ClassLabel column is a domain; documents pair with all."""
    dataset = datasets.Dataset.from_dict(
        {"sentence": ["Goal!", "New chip.", "Cup final."], "topic": [0, 1, 0]},
        features=datasets.Features(
            {
                "sentence": datasets.Value("string"),
                "topic": datasets.ClassLabel(names=["sport", "tech"]),
            }
        ),
    )

    corpus = corpus_from_hub_dataset(
        dataset,
        name="hf:toy",
        source="hf:toy:train",
        columns={"text": "sentence", "label": "topic"},
        domain_descriptions={"sport": "Sport news."},
    )

    assert _pairs(corpus) == [
        ("hf:toy:0", "hf:toy:sport", 1),
        ("hf:toy:0", "hf:toy:tech", 0),
        ("hf:toy:1", "hf:toy:sport", 0),
        ("hf:toy:1", "hf:toy:tech", 1),
        ("hf:toy:2", "hf:toy:sport", 1),
        ("hf:toy:2", "hf:toy:tech", 0),
    ]
    assert [d.description for d in corpus.domains] == ["Sport news.", "tech"]


def test_corpus_from_hub_dataset_multi_label_strings_relevant_to_each():
    """A list of string labels makes the document relevant to each of them."""
    dataset = datasets.Dataset.from_dict(
        {"id": ["x", "y"], "text": ["a", "b"], "label": [["sport", "tech"], []]}
    )

    corpus = corpus_from_hub_dataset(dataset, name="hf:multi", source="hf:multi:train")

    assert _pairs(corpus) == [
        ("x", "hf:multi:sport", 1),
        ("x", "hf:multi:tech", 1),
        ("y", "hf:multi:sport", 0),
        ("y", "hf:multi:tech", 0),
    ]


def test_corpus_from_hub_dataset_domain_column_reads_pairs():
    """With a domain column the rows are pairs, read like a pairs file."""
    dataset = datasets.Dataset.from_dict(
        {
            "doc": ["a", "a"],
            "domain": ["d1", "d2"],
            "body": ["text", "text"],
            "label": ["relevant", "not_relevant"],
        }
    )

    corpus = corpus_from_hub_dataset(
        dataset,
        name="hf:pairs",
        source="hf:pairs:train",
        columns={"id": "doc", "text": "body"},
        domain_descriptions={"d1": "One.", "d2": "Two."},
    )

    assert _pairs(corpus) == [("a", "d1", 1), ("a", "d2", 0)]
    assert [d.description for d in corpus.domains] == ["One.", "Two."]


def test_corpus_from_hub_dataset_mapped_column_missing_raises():
    """A mapping to a column the dataset lacks lists the columns found."""
    dataset = datasets.Dataset.from_dict({"text": ["a"], "label": [1]})

    with pytest.raises(
        DataError,
        match=r"mapped column\(s\) not in the dataset: text -> body \(found: text",
    ):
        corpus_from_hub_dataset(dataset, name="n", source="s", columns={"text": "body"})


def test_corpus_from_hub_dataset_no_text_column_raises():
    """Without a text column the error says how to map one."""
    dataset = datasets.Dataset.from_dict({"sentence": ["a"], "label": [1]})

    with pytest.raises(
        DataError, match=r"has no 'text' column .* map one with columns="
    ):
        corpus_from_hub_dataset(dataset, name="n", source="s")


def test_corpus_from_hub_dataset_unknown_heysh_column_raises():
    """A mapping key that is not a heysh column is refused."""
    dataset = datasets.Dataset.from_dict({"text": ["a"], "label": [1]})

    with pytest.raises(DataError, match="unknown heysh column\\(s\\) body"):
        corpus_from_hub_dataset(dataset, name="n", source="s", columns={"body": "text"})
