"""Tests for the helper methods of heysh.data.corpus.LabelledCorpus."""

from __future__ import annotations

import numpy as np

from heysh.data.corpus import DomainInfo, LabelledCorpus


def test_labelled_corpus_split_keys_point_duplicates_to_first_id():
    """split_keys maps each document to the first document with the same text."""
    corpus = LabelledCorpus(
        name="t",
        doc_ids=np.array(["a", "b", "c"], dtype=object),
        texts=np.array(["same", "other", "same"], dtype=object),
        languages=np.array(["en"] * 3, dtype=object),
        domains=[DomainInfo("t:x", "x", "x")],
        pair_doc=np.array([0, 1, 2]),
        pair_domain=np.array([0, 0, 0]),
        pair_label=np.array([1, 0, 1]),
        pair_grade=np.array([1, 0, 1]),
        pair_hard_negative=np.zeros(3, dtype=bool),
    )

    assert corpus.split_keys().tolist() == ["a", "b", "a"]
