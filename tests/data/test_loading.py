"""Tests for heysh.data.loading: dispatch, subsets and the pairs dataset."""

from __future__ import annotations

import datasets
import huggingface_hub.constants
import numpy as np
import pytest

from heysh.data.corpus import LabelledCorpus
from heysh.data.files import load_pairs_file
from heysh.data.hashing import corpus_content_hash
from heysh.data.loading import load_labelled_corpus, subset_corpus, to_pairs_dataset
from heysh.errors import DataError


def _pair_set(corpus):
    return {
        (corpus.doc_ids[d], corpus.domains[k].domain_id, int(lab))
        for d, k, lab in zip(
            corpus.pair_doc, corpus.pair_domain, corpus.pair_label, strict=True
        )
    }


def test_load_labelled_corpus_demo_passes_options():
    """'demo' builds the demo corpus with the given options."""
    corpus = load_labelled_corpus("demo", docs_per_domain=10, seed=4)

    assert corpus.name == "heysh-demo"
    assert int(corpus.pair_label.sum()) == 60


def test_load_labelled_corpus_collection_folder_loaded(datasets_root):
    """A folder with documents.jsonl is loaded as a collection."""
    corpus = load_labelled_corpus(str(datasets_root / "swefaq"))

    assert (corpus.name, corpus.n_docs) == ("swefaq", 219)


def test_load_labelled_corpus_pairs_file_loaded(tmp_path):
    """A .csv path is loaded as a pairs file."""
    path = tmp_path / "p.csv"
    path.write_text("id,domain,text,label\na,x,hello,1\n")

    corpus = load_labelled_corpus(str(path))

    assert _pair_set(corpus) == {("a", "x", 1)}


def test_load_labelled_corpus_hub_source_offline_raises(monkeypatch):
    """'hf:NAME:SPLIT' goes to the hub loader, which fails clearly offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    with pytest.raises(
        DataError, match="could not reach the Hugging Face hub for 'o/n'"
    ):
        load_labelled_corpus("hf:o/n:test")


def test_load_labelled_corpus_hub_without_name_raises():
    """'hf:' alone names no dataset."""
    with pytest.raises(DataError, match="names no hub dataset; write hf:NAME"):
        load_labelled_corpus("hf:")


def test_load_labelled_corpus_unknown_source_names_accepted_forms():
    """Anything else is refused, naming the value and the accepted forms."""
    with pytest.raises(
        DataError,
        match=r"cannot load labelled data from 'bbc'; accepted: 'demo' .*hf:NAME.*"
        r"collection folder.*\.parquet",
    ):
        load_labelled_corpus("bbc")


def test_load_labelled_corpus_folder_without_documents_raises(tmp_path):
    """A folder that is not a collection says what it lacks."""
    with pytest.raises(
        DataError, match=r"has no documents\.jsonl, so it is not a collection"
    ):
        load_labelled_corpus(str(tmp_path))


def test_subset_corpus_keeps_domains_with_most_relevant(datasets_root):
    """max_domains keeps the domains with the most relevant documents, in file order."""
    corpus = load_labelled_corpus(str(datasets_root / "swefaq"))

    subset = subset_corpus(corpus, max_domains=3)

    # SweFAQ relevant counts: covid-vaccination 53, online-medical-records 20,
    # compulsory-care-of-children 18; wildfire (14) comes second in the file.
    assert [d.domain_id for d in subset.domains] == [
        "swefaq:covid-vaccination",
        "swefaq:online-medical-records",
        "swefaq:compulsory-care-of-children",
    ]
    assert int(subset.pair_label.sum()) == 53 + 20 + 18
    assert subset.n_pairs == 219 * 3


def test_subset_corpus_keeps_all_relevant_then_random_negatives(demo_corpus):
    """With room, all relevant documents of kept domains stay; negatives fill up."""
    subset = subset_corpus(demo_corpus, max_docs=700, max_domains=2, seed=1)

    assert subset.n_docs == 700
    assert int(subset.pair_label.sum()) == 520
    assert _pair_set(subset) <= _pair_set(demo_corpus)
    assert subset.input_report["subset_from_documents"] == demo_corpus.n_docs


def test_subset_corpus_small_budget_shares_relevant_between_domains(demo_corpus):
    """When relevant documents exceed max_docs, every kept domain keeps some."""
    subset = subset_corpus(demo_corpus, max_docs=63, seed=0)

    per_domain = np.bincount(subset.pair_domain, weights=subset.pair_label, minlength=6)
    assert subset.n_docs == 63
    # One document per domain in turn: ten rounds, then three more.
    assert per_domain.tolist() == [11, 11, 11, 10, 10, 10]


def test_subset_corpus_same_seed_same_subset(demo_corpus):
    """The subset is fixed by the seed."""
    first = subset_corpus(demo_corpus, max_docs=300, seed=3)
    again = subset_corpus(demo_corpus, max_docs=300, seed=3)
    other = subset_corpus(demo_corpus, max_docs=300, seed=4)

    assert corpus_content_hash(first) == corpus_content_hash(again)
    assert corpus_content_hash(first) != corpus_content_hash(other)


def test_subset_corpus_zero_documents_raises(demo_corpus):
    """Limits below 1 are refused."""
    with pytest.raises(DataError, match=r"max_docs \(0\) must be at least 1"):
        subset_corpus(demo_corpus, max_docs=0)


def test_to_pairs_dataset_rows_match_pairs(small_demo_corpus):
    """One row per pair with id, domain, text, label and grade."""
    dataset = to_pairs_dataset(small_demo_corpus)
    row = dataset[7]
    corpus = small_demo_corpus

    assert len(dataset) == corpus.n_pairs
    assert dataset.column_names[:5] == ["id", "domain", "text", "label", "grade"]
    assert row["id"] == corpus.doc_ids[corpus.pair_doc[7]]
    assert row["text"] == corpus.texts[corpus.pair_doc[7]]
    assert row["domain"] == corpus.domains[corpus.pair_domain[7]].domain_id
    assert row["label"] == corpus.pair_label[7]


def test_to_pairs_dataset_parquet_round_trip_keeps_content(small_demo_corpus, tmp_path):
    """Written to Parquet and read back, a corpus has the same content hash."""
    subset = subset_corpus(small_demo_corpus)
    path = tmp_path / "pairs.parquet"
    to_pairs_dataset(subset).to_parquet(path)

    again = load_pairs_file(path)

    assert corpus_content_hash(again) == corpus_content_hash(subset)


def test_drop_domains_without_relevant_removes_and_counts_them(
    demo_corpus: LabelledCorpus,
) -> None:
    """Domains with no relevant pair are dropped, counted, and the rest kept whole."""
    from dataclasses import replace

    from heysh.data.loading import drop_domains_without_relevant

    labels = demo_corpus.pair_label.copy()
    labels[demo_corpus.pair_domain == 0] = 0
    emptied = replace(
        demo_corpus, pair_label=labels, input_report=dict(demo_corpus.input_report)
    )

    kept = drop_domains_without_relevant(emptied)

    assert [d.domain_id for d in kept.domains] == [
        d.domain_id for d in demo_corpus.domains[1:]
    ]
    assert kept.input_report["domains_dropped_no_relevant"] == 1
    assert kept.n_docs == demo_corpus.n_docs
    assert kept.pair_label.sum() == labels.sum()
    assert drop_domains_without_relevant(demo_corpus) is demo_corpus
