"""Tests for heysh.data.collections: the shared three-file collection format."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from heysh.data.collections import load_collection
from heysh.data.corpus import LabelledCorpus
from heysh.errors import ConfigError, DataError


def _doc(doc_id, text, labels=(), title=None, lang="en", flags=()):
    return {
        "id": doc_id,
        "collection": "mini",
        "lang": lang,
        "title": title,
        "text": text,
        "labels": list(labels),
        "flags": list(flags),
    }


@pytest.fixture
def label_collection(tmp_path, jsonl_writer) -> Path:
    """Four documents, two label domains; one document is empty."""
    folder = tmp_path / "mini"
    folder.mkdir()
    jsonl_writer(
        "mini/documents.jsonl",
        [
            _doc("mini:1", "Goals and a win.", ["sport"], title="Match"),
            _doc("mini:2", "A new film opens.", ["film"]),
            _doc("mini:3", "Shares fell.", ["business"]),
            _doc("mini:4", "", ["sport"], flags=["empty_text"]),
        ],
    )
    jsonl_writer(
        "mini/domains.jsonl",
        [
            {
                "domain_id": "mini:sport",
                "collection": "mini",
                "name": "Sport",
                "description": "Sport news.",
                "lang": "en",
                "relevance": "labels",
                "relevant_labels": ["sport"],
                "related_labels": ["film"],
            },
            {
                "domain_id": "mini:film",
                "collection": "mini",
                "name": "Film",
                "name_sv": "Film (sv)",
                "description": "Film news.",
                "description_sv": "Filmnyheter.",
                "lang": "sv",
                "relevance": "labels",
                "relevant_labels": ["film"],
                "related_labels": [],
            },
        ],
    )
    return folder


@pytest.fixture
def judged_collection(tmp_path, jsonl_writer) -> Path:
    """Three documents, one graded query whose base paper is document 3."""
    folder = tmp_path / "ir"
    folder.mkdir()
    jsonl_writer(
        "ir/documents.jsonl",
        [_doc("ir:1", "alpha"), _doc("ir:2", "beta"), _doc("ir:3", "gamma")],
    )
    jsonl_writer(
        "ir/domains.jsonl",
        [
            {
                "domain_id": "ir:q1",
                "collection": "ir",
                "name": "q1",
                "description": "Query one.",
                "lang": "en",
                "relevance": "judgments",
                "relevant_labels": [],
                "related_labels": [],
                "meta": {"base_doc_ids": ["ir:3"]},
            }
        ],
    )
    jsonl_writer(
        "ir/judgments.jsonl",
        [
            {"domain_id": "ir:q1", "doc_id": "ir:1", "grade": 3},
            {"domain_id": "ir:q1", "doc_id": "ir:2", "grade": 1},
        ],
    )
    return folder


def _pairs(corpus: LabelledCorpus) -> dict[tuple[str, str], tuple[int, int, bool]]:
    return {
        (corpus.doc_ids[d], corpus.domains[k].domain_id): (int(lab), int(g), bool(h))
        for d, k, lab, g, h in zip(
            corpus.pair_doc,
            corpus.pair_domain,
            corpus.pair_label,
            corpus.pair_grade,
            corpus.pair_hard_negative,
            strict=True,
        )
    }


def test_load_collection_label_domains_give_labels_and_hard_negatives(label_collection):
    """Relevant by relevant_labels, hard negative by related_labels; empty left out."""
    corpus = load_collection(label_collection)

    assert _pairs(corpus) == {
        ("mini:1", "mini:sport"): (1, 1, False),
        ("mini:1", "mini:film"): (0, 0, False),
        ("mini:2", "mini:sport"): (0, 0, True),
        ("mini:2", "mini:film"): (1, 1, False),
        ("mini:3", "mini:sport"): (0, 0, False),
        ("mini:3", "mini:film"): (0, 0, False),
    }
    assert corpus.name == "mini"
    assert corpus.input_report["empty_text"] == 1
    assert corpus.input_report["pairs_excluded_unusable_text"] == 2
    assert corpus.input_report["source_flag:empty_text"] == 1


def test_load_collection_title_present_prepended_to_text(label_collection):
    """Models read the title, a blank line, then the text."""
    corpus = load_collection(label_collection)

    assert corpus.texts[0] == "Match\n\nGoals and a win."
    assert corpus.texts[1] == "A new film opens."


def test_load_collection_swedish_domain_default_uses_swedish_description(
    label_collection,
):
    """A Swedish domain reads description_sv unless another language is asked for."""
    default = load_collection(label_collection)
    english = load_collection(label_collection, description_language="en")

    assert default.domains[1].description == "Filmnyheter."
    assert default.domains[1].name == "Film (sv)"
    assert english.domains[1].description == "Film news."
    assert default.domains[0].description == "Sport news."


def test_load_collection_missing_language_falls_back_with_warning(
    label_collection, caplog
):
    """A description language a domain lacks falls back to English, with a WARNING."""
    caplog.set_level(logging.WARNING, logger="heysh.data.collections")

    corpus = load_collection(label_collection, description_language="de")

    assert [d.description for d in corpus.domains] == ["Sport news.", "Film news."]
    assert [r.domain_id for r in caplog.records] == ["mini:sport", "mini:film"]


def test_load_collection_judgments_grade_and_exclude_base_document(judged_collection):
    """Grades come from judgments, unjudged is 0, and the base paper is left out."""
    corpus = load_collection(judged_collection)

    assert _pairs(corpus) == {
        ("ir:1", "ir:q1"): (1, 3, False),
        ("ir:2", "ir:q1"): (1, 1, False),
    }
    assert corpus.input_report["base_document_pairs_excluded"] == 1
    assert corpus.input_report["judgments"] == 2


def test_load_collection_min_grade_marks_lower_grades_hard_negative(judged_collection):
    """Below min_relevant_grade a judged document is a hard negative."""
    corpus = load_collection(judged_collection, min_relevant_grade=2)

    assert _pairs(corpus) == {
        ("ir:1", "ir:q1"): (1, 3, False),
        ("ir:2", "ir:q1"): (0, 1, True),
    }


def test_load_collection_min_grade_zero_raises(judged_collection):
    """Grade 0 means unjudged, so it cannot be the relevance line."""
    with pytest.raises(
        ConfigError, match=r"min_relevant_grade \(0\) must be at least 1"
    ):
        load_collection(judged_collection, min_relevant_grade=0)


def test_load_collection_missing_folder_raises(tmp_path):
    """A path that is not a folder is named in the error."""
    with pytest.raises(DataError, match=r"collection folder not found: .*nowhere"):
        load_collection(tmp_path / "nowhere")


def test_load_collection_missing_domains_file_raises(label_collection):
    """A folder without domains.jsonl says which file is missing."""
    (label_collection / "domains.jsonl").unlink()

    with pytest.raises(DataError, match=r"has no domains\.jsonl"):
        load_collection(label_collection)


def test_load_collection_bad_json_line_raises_with_line_number(label_collection):
    """A broken line is reported with its file and line number."""
    path = label_collection / "documents.jsonl"
    path.write_text(path.read_text() + "{not json\n")

    with pytest.raises(DataError, match=r"documents.jsonl, line 5: not valid JSON"):
        load_collection(label_collection)


def test_load_collection_record_missing_key_raises(label_collection, jsonl_writer):
    """A document without text names the record and the keys found."""
    jsonl_writer("mini/documents.jsonl", [{"id": "mini:1", "title": "x"}])

    with pytest.raises(
        DataError, match=r"record 1: missing key\(s\) text; found id, title"
    ):
        load_collection(label_collection)


def test_load_collection_duplicate_document_ids_raises(label_collection, jsonl_writer):
    """Two documents with one id are refused, naming the id."""
    jsonl_writer("mini/documents.jsonl", [_doc("mini:1", "a"), _doc("mini:1", "b")])

    with pytest.raises(DataError, match=r"1 duplicate document id.*'mini:1'"):
        load_collection(label_collection)


def test_load_collection_string_labels_is_a_clear_error(label_collection, jsonl_writer):
    """A bare string for labels is refused instead of read per character."""
    doc = _doc("mini:1", "Goals and a win.")
    doc["labels"] = "sport"
    jsonl_writer("mini/documents.jsonl", [doc])

    with pytest.raises(
        DataError, match=r"document 'mini:1' has labels 'sport', a str; .* \['sport'\]"
    ):
        load_collection(label_collection)


def test_load_collection_unknown_relevance_kind_raises(label_collection, jsonl_writer):
    """A domain whose relevance is neither labels nor judgments is refused."""
    jsonl_writer(
        "mini/domains.jsonl",
        [
            {
                "domain_id": "mini:x",
                "name": "x",
                "description": "x",
                "relevance": "votes",
            }
        ],
    )

    with pytest.raises(DataError, match="relevance 'votes'; expected 'labels' or"):
        load_collection(label_collection)


def test_load_collection_judgment_of_unknown_document_raises(
    judged_collection, jsonl_writer
):
    """A judgment naming a document that does not exist is refused."""
    jsonl_writer(
        "ir/judgments.jsonl", [{"domain_id": "ir:q1", "doc_id": "ir:9", "grade": 1}]
    )

    with pytest.raises(DataError, match="doc_id 'ir:9' for domain 'ir:q1'"):
        load_collection(judged_collection)


# --- The shared collections (../shared/datasets) -----------------------------

# Counts from ../shared/datasets/README.md.
EXPECTED_SIZES = {
    "reuters21578": (3299, 16),
    "bbc-news": (2225, 5),
    "ag-news": (7600, 4),
    "cranfield": (1400, 225),
    "cisi": (1460, 76),
    "sib200-swedish": (1004, 7),
    "swefaq": (219, 17),
}


@pytest.fixture(scope="module")
def collections(datasets_root) -> dict[str, LabelledCorpus]:
    """All seven shared collections, loaded once for this module."""
    return {name: load_collection(datasets_root / name) for name in EXPECTED_SIZES}


def _relevant_per_domain(corpus: LabelledCorpus) -> dict[str, int]:
    counts = np.bincount(
        corpus.pair_domain, weights=corpus.pair_label, minlength=len(corpus.domains)
    )
    return {d.domain_id: int(c) for d, c in zip(corpus.domains, counts, strict=True)}


def test_load_collection_shared_collections_have_readme_sizes(collections):
    """Each collection has the documents and domains its README states."""
    sizes = {
        name: (corpus.n_docs, len(corpus.domains))
        for name, corpus in collections.items()
    }

    assert sizes == EXPECTED_SIZES


@pytest.mark.parametrize(
    "name", ["reuters21578", "bbc-news", "ag-news", "sib200-swedish", "swefaq"]
)
def test_load_collection_label_collections_match_domain_stats(
    collections, datasets_root, name
):
    """Relevant and hard-negative counts per domain equal the stats in domains.jsonl."""
    corpus = collections[name]
    lines = (datasets_root / name / "domains.jsonl").read_text().splitlines()
    stats = {r["domain_id"]: r["stats"] for r in map(json.loads, lines)}
    hard = np.bincount(
        corpus.pair_domain,
        weights=corpus.pair_hard_negative,
        minlength=len(corpus.domains),
    )

    assert _relevant_per_domain(corpus) == {k: s["relevant"] for k, s in stats.items()}
    assert dict(
        zip(_relevant_per_domain(corpus), hard.astype(int).tolist(), strict=True)
    ) == {k: s["related_hard_negative"] for k, s in stats.items()}
    assert corpus.n_pairs == corpus.n_docs * len(corpus.domains)


def test_load_collection_bbc_counts_sections_and_quirks(collections):
    """BBC: section sizes, 98 exact duplicates, one Latin-1 file, 25 with entities."""
    corpus = collections["bbc-news"]

    assert _relevant_per_domain(corpus) == {
        "bbc-news:business": 510,
        "bbc-news:entertainment": 386,
        "bbc-news:politics": 417,
        "bbc-news:sport": 511,
        "bbc-news:tech": 401,
    }
    report = corpus.input_report
    assert (report["exact_duplicate"], report["non_utf8_decoded"]) == (98, 1)
    assert report["html_entities_decoded"] == 25


def test_load_collection_reuters_non_utf8_document_flagged(datasets_root, caplog):
    """Reuters record 17980 (one 0xFC byte) is counted and named as non-UTF-8."""
    caplog.set_level(logging.INFO, logger="heysh.data.cleaning")

    corpus = load_collection(datasets_root / "reuters21578")

    flagged = {
        r.flag: r.example_ids
        for r in caplog.records
        if r.getMessage() == "documents_flagged"
    }
    assert flagged["non_utf8_decoded"] == ["reuters21578:17980"]
    assert corpus.input_report["non_utf8_decoded"] == 1
    assert corpus.input_report["exact_duplicate"] == 16
    position = list(corpus.doc_ids).index("reuters21578:17980")
    assert "\ufffd" not in corpus.texts[position]


def test_load_collection_cranfield_grades_match_readme(collections):
    """Cranfield: README grade counts, base papers and the two empty documents."""
    corpus = collections["cranfield"]

    grades = np.bincount(corpus.pair_grade, minlength=5)[1:].tolist()
    # README: grade 1: 363, 2: 734, 3: 387, 4: 128; one grade-2 judgment is of
    # the empty document 995, which has no pairs.
    assert grades == [363, 733, 387, 128]
    report = corpus.input_report
    assert report["base_document_pairs_excluded"] == 225
    assert (report["empty_text"], report["judged_pairs_excluded"]) == (2, 1)
    assert corpus.n_pairs == 1398 * 225 - 225


def test_load_collection_cranfield_min_grade_three_counts_readme_grades(datasets_root):
    """With min_relevant_grade=3 only grades 3 and 4 are relevant; 1-2 are hard."""
    corpus = load_collection(datasets_root / "cranfield", min_relevant_grade=3)

    assert int(corpus.pair_label.sum()) == 387 + 128
    assert int(corpus.pair_hard_negative.sum()) == 733 + 363


def test_load_collection_cisi_binary_judgments(collections):
    """CISI: 3,114 relevant pairs, all grade 1."""
    corpus = collections["cisi"]

    assert int(corpus.pair_label.sum()) == 3114
    assert set(corpus.pair_grade[corpus.pair_label == 1].tolist()) == {1}


def test_load_collection_sib200_swedish_descriptions_by_default(collections):
    """SIB-200 documents are Swedish, so domains carry the Swedish descriptions."""
    corpus = collections["sib200-swedish"]

    assert corpus.domains[0].description.startswith("Meningar om vetenskap och teknik")
    assert corpus.domains[0].language == "sv"
    assert set(corpus.languages.tolist()) == {"sv"}
    assert _relevant_per_domain(corpus)["sib200-swedish:science-technology"] == 252


def test_load_collection_non_string_text_is_a_clear_error(tmp_path: Path) -> None:
    """A document whose text is null is refused with the document named."""
    (tmp_path / "documents.jsonl").write_text(
        '{"id": "c:1", "collection": "c", "lang": "en", "split": null, "title": null, '
        '"text": null, "labels": ["a"], "flags": [], "source": "x", "meta": {}}\n'
    )
    (tmp_path / "domains.jsonl").write_text(
        '{"domain_id": "c:a", "collection": "c", "name": "a", "description": "A.", '
        '"lang": "en", "relevance": "labels", "relevant_labels": ["a"], '
        '"related_labels": [], "stats": {}}\n'
    )

    with pytest.raises(DataError, match="document 'c:1' has text of type NoneType"):
        load_collection(tmp_path)
