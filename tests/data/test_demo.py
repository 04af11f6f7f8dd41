"""Tests for heysh.data.demo: the synthetic demo corpus and its properties."""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np

from heysh.data.demo import generate_demo_corpus, generate_demo_documents
from heysh.data.hashing import corpus_content_hash
from heysh.documents import split_into_windows

_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"[a-zåäöé]+")


def _per_domain(corpus, values):
    sums = np.bincount(
        corpus.pair_domain, weights=values, minlength=len(corpus.domains)
    )
    return dict(
        zip(
            [d.domain_id for d in corpus.domains],
            sums.astype(int).tolist(),
            strict=True,
        )
    )


def test_generate_demo_corpus_names_itself_a_demo(demo_corpus):
    """The corpus is called heysh-demo and its source says demo and the seed."""
    assert (demo_corpus.name, demo_corpus.source) == ("heysh-demo", "demo:seed=0")


def test_generate_demo_corpus_six_domains_four_english_two_swedish(demo_corpus):
    """Four English and two Swedish domains, each described in its own language."""
    languages = [(d.domain_id, d.language) for d in demo_corpus.domains]

    assert languages == [
        ("heysh-demo:renewable-energy", "en"),
        ("heysh-demo:football", "en"),
        ("heysh-demo:machine-learning", "en"),
        ("heysh-demo:public-health", "en"),
        ("heysh-demo:skogsbruk", "sv"),
        ("heysh-demo:kollektivtrafik", "sv"),
    ]
    assert "avverkning" in demo_corpus.domains[4].description


def test_generate_demo_corpus_enough_relevant_and_hard_negatives(demo_corpus):
    """Each domain has 260 relevant documents and at least 80 hard negatives."""
    relevant = _per_domain(demo_corpus, demo_corpus.pair_label)
    hard = _per_domain(demo_corpus, demo_corpus.pair_hard_negative)

    assert set(relevant.values()) == {260}
    assert min(hard.values()) >= 80


def test_generate_demo_corpus_every_document_paired_with_every_domain(demo_corpus):
    """Every kept document has exactly one pair per domain."""
    kept = demo_corpus.input_report["documents_kept"]
    per_doc = np.bincount(demo_corpus.pair_doc, minlength=demo_corpus.n_docs)

    assert demo_corpus.n_pairs == kept * 6
    assert set(per_doc.tolist()) == {0, 6}
    assert (per_doc == 0).sum() == demo_corpus.input_report["empty_text"]


def test_generate_demo_corpus_messy_documents_counted(demo_corpus):
    """Every cleaning count is exercised by the demo's messy documents."""
    report = demo_corpus.input_report

    assert report["empty_text"] == 2
    assert report["exact_duplicate"] >= 6
    assert report["non_utf8_decoded"] == 3
    assert report["html_entities_decoded"] == 12
    assert report["control_characters_removed"] == 4
    assert report["long_documents"] >= 300


def test_generate_demo_corpus_same_seed_same_content():
    """Generation is deterministic for a seed and changes with the seed."""
    first = corpus_content_hash(generate_demo_corpus(seed=1, docs_per_domain=30))
    again = corpus_content_hash(generate_demo_corpus(seed=1, docs_per_domain=30))
    other = corpus_content_hash(generate_demo_corpus(seed=2, docs_per_domain=30))

    assert first == again
    assert first != other


def test_generate_demo_corpus_default_size_fast():
    """The default corpus is generated in well under the 2-second budget."""
    started = time.perf_counter()

    generate_demo_corpus()

    # 2 s is the budget on an idle machine; allow for a shared, busy CI box.
    assert time.perf_counter() - started < 4.0


def test_generate_demo_documents_long_and_buried_documents_need_windows():
    """Some documents exceed 400 words, and buried ones start off topic."""
    documents = generate_demo_documents()
    kinds = Counter(d.kind for d in documents)
    long_ones = [d for d in documents if d.kind in ("long", "buried")]
    buried = [d for d in documents if d.kind == "buried"]

    assert kinds["long"] + kinds["buried"] >= 150
    assert min(len(_WORD.findall(str(d.body))) for d in long_ones) > 400
    first_windows = [split_into_windows(str(d.body))[0] for d in buried]
    assert not any(w in " ".join(first_windows).lower() for w in ("turbine", "striker"))


def test_generate_demo_documents_borderline_and_traps_present():
    """Borderline mixes, neighbour documents, near-duplicates and traps all exist."""
    kinds = Counter(d.kind for d in generate_demo_documents())

    assert kinds["borderline"] == 6 * 39
    assert kinds["neighbour_borderline"] >= 100
    assert kinds["near_duplicate"] == 6 * 13
    assert kinds["trap"] == 6 * 13


def test_generate_demo_corpus_no_single_keyword_decides_labels(demo_corpus):
    """For every domain, the best one-word rule stays below F1 0.85."""
    tokens = [set(_TOKEN.findall(text.lower())) for text in demo_corpus.texts]
    best = {}
    for k, domain in enumerate(demo_corpus.domains):
        mask = demo_corpus.pair_domain == k
        total, hits = Counter(), Counter()
        for doc, label in zip(
            demo_corpus.pair_doc[mask], demo_corpus.pair_label[mask], strict=True
        ):
            total.update(tokens[doc])
            if label:
                hits.update(tokens[doc])
        positives = int(demo_corpus.pair_label[mask].sum())
        best[domain.domain_id] = max(
            2 * hits[w] / (total[w] + positives) for w in total
        )

    assert max(best.values()) < 0.85, best


def test_generate_demo_corpus_labels_follow_stated_rule(demo_corpus):
    """Traps, neighbours and borderline mixes get the labels the module states."""
    documents = generate_demo_documents()
    domain_keys = [d.domain_id.split(":")[1] for d in demo_corpus.domains]
    labels = {
        (int(doc), domain_keys[k]): (int(label), bool(hard))
        for doc, k, label, hard in zip(
            demo_corpus.pair_doc,
            demo_corpus.pair_domain,
            demo_corpus.pair_label,
            demo_corpus.pair_hard_negative,
            strict=True,
        )
    }
    trap = next(i for i, d in enumerate(documents) if d.primary == "trap-football")
    neighbour = next(i for i, d in enumerate(documents) if d.primary == "bilism")
    mixed = next(
        i
        for i, d in enumerate(documents)
        if (d.primary, d.secondary) == ("machine-learning", ("public-health",))
    )

    assert labels[trap, "football"] == (0, True)
    assert labels[trap, "public-health"] == (0, False)
    assert labels[neighbour, "kollektivtrafik"] == (0, True)
    assert labels[neighbour, "skogsbruk"] == (0, False)
    assert labels[mixed, "machine-learning"] == (1, False)
    assert labels[mixed, "public-health"] == (0, True)
    assert labels[mixed, "football"] == (0, False)
