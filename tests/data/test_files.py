"""Tests for heysh.data.files: pairs files in JSONL, JSON, CSV and Parquet."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from heysh.data.files import load_pairs_file
from heysh.errors import DataError

ROWS = [
    {"id": "d1", "domain": "energy", "text": "Wind power.", "label": 1},
    {"id": "d1", "domain": "sport", "text": "Wind power.", "label": 0},
    {"id": "d2", "domain": "energy", "text": "A match.", "label": 0},
    {"id": "d2", "domain": "sport", "text": "A match.", "label": 1},
]


def _pairs(corpus):
    return [
        (corpus.doc_ids[d], corpus.domains[k].domain_id, int(lab), int(g), bool(h))
        for d, k, lab, g, h in zip(
            corpus.pair_doc,
            corpus.pair_domain,
            corpus.pair_label,
            corpus.pair_grade,
            corpus.pair_hard_negative,
            strict=True,
        )
    ]


def test_load_pairs_file_jsonl_all_columns_read(jsonl_writer):
    """Every optional column (grade, title, lang, name, description...) is used."""
    rows = [
        dict(
            r,
            title="T",
            lang="sv",
            domain_description=f"About {r['domain']}.",
            domain_name=r["domain"].title(),
            grade=2 * r["label"],
            hard_negative=r["id"] == "d2" and r["domain"] == "energy",
        )
        for r in ROWS
    ]
    path = jsonl_writer("pairs.jsonl", rows)

    corpus = load_pairs_file(path)

    assert _pairs(corpus) == [
        ("d1", "energy", 1, 2, False),
        ("d1", "sport", 0, 0, False),
        ("d2", "energy", 0, 0, True),
        ("d2", "sport", 1, 2, False),
    ]
    assert corpus.texts.tolist() == ["T\n\nWind power.", "T\n\nA match."]
    assert [(d.name, d.description, d.language) for d in corpus.domains] == [
        ("Energy", "About energy.", "sv"),
        ("Sport", "About sport.", "sv"),
    ]
    assert corpus.name == "pairs"


def test_load_pairs_file_csv_keeps_ids_and_reads_word_labels(tmp_path):
    """CSV ids keep leading zeros; relevant/not_relevant labels are understood."""
    path = tmp_path / "pairs.csv"
    pd.DataFrame(
        {
            "id": ["007", "007"],
            "domain": ["a", "b"],
            "text": ["x", "x"],
            "label": ["relevant", "Not_Relevant"],
            "grade": ["", "0"],
        }
    ).to_csv(path, index=False)

    corpus = load_pairs_file(path)

    assert _pairs(corpus) == [("007", "a", 1, 1, False), ("007", "b", 0, 0, False)]


def test_load_pairs_file_parquet_and_json_read_like_jsonl(tmp_path):
    """Parquet and JSON-array files give the same pairs as JSONL."""
    pd.DataFrame(ROWS).assign(label=lambda f: f.label.astype(bool)).to_parquet(
        tmp_path / "p.parquet"
    )
    (tmp_path / "p.json").write_text(json.dumps(ROWS))

    from_parquet = load_pairs_file(tmp_path / "p.parquet")
    from_json = load_pairs_file(tmp_path / "p.json")

    expected = [
        ("d1", "energy", 1, 1, False),
        ("d1", "sport", 0, 0, False),
        ("d2", "energy", 0, 0, False),
        ("d2", "sport", 1, 1, False),
    ]
    assert _pairs(from_parquet) == expected
    assert _pairs(from_json) == expected


def test_load_pairs_file_domains_path_supplies_descriptions(jsonl_writer):
    """Without a description column, descriptions come from the domains file."""
    path = jsonl_writer("pairs.jsonl", ROWS)
    domains = jsonl_writer(
        "domains.jsonl",
        [
            {"domain_id": "energy", "name": "Energy", "description": "Power."},
            {"domain_id": "sport", "name": "Sport", "description": "Games."},
        ],
    )

    corpus = load_pairs_file(path, domains_path=domains)

    assert [d.description for d in corpus.domains] == ["Power.", "Games."]


def test_load_pairs_file_no_description_uses_name_with_warning(jsonl_writer, caplog):
    """With no description anywhere, the domain name is used and a WARNING logged."""
    caplog.set_level(logging.WARNING, logger="heysh.data._pairs")

    corpus = load_pairs_file(jsonl_writer("pairs.jsonl", ROWS))

    assert [d.description for d in corpus.domains] == ["energy", "sport"]
    assert [r.getMessage() for r in caplog.records] == [
        "domain_description_missing"
    ] * 2


def test_load_pairs_file_empty_text_pairs_left_out_and_counted(jsonl_writer):
    """A document with no text has no pairs, and the report says so."""
    rows = [*ROWS, {"id": "d3", "domain": "sport", "text": " ", "label": 1}]

    corpus = load_pairs_file(jsonl_writer("pairs.jsonl", rows))

    assert corpus.n_pairs == 4
    assert corpus.input_report["empty_text"] == 1
    assert corpus.input_report["pairs_excluded_unusable_text"] == 1


def test_load_pairs_file_missing_column_lists_found_columns(jsonl_writer):
    """A missing column is named along with the columns that were found."""
    path = jsonl_writer(
        "p.jsonl", [{"id": "a", "domain": "x", "body": "t", "label": 1}]
    )

    with pytest.raises(
        DataError, match=r"lacks column\(s\) text \(found: id, domain, body, label\)"
    ):
        load_pairs_file(path)


def test_load_pairs_file_unknown_extension_raises(tmp_path):
    """An unsupported suffix names the accepted ones."""
    path = tmp_path / "pairs.xlsx"
    path.write_text("x")

    with pytest.raises(
        DataError, match=r"unknown file type '.xlsx'; use one of .jsonl"
    ):
        load_pairs_file(path)


def test_load_pairs_file_missing_file_raises(tmp_path):
    """A path that does not exist is named."""
    with pytest.raises(DataError, match=r"file not found: .*absent\.csv"):
        load_pairs_file(tmp_path / "absent.csv")


def test_load_pairs_file_corrupt_parquet_raises(tmp_path):
    """A file that is not what its suffix says is reported as unreadable."""
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")

    with pytest.raises(DataError, match=r"cannot read .*broken\.parquet as PARQUET"):
        load_pairs_file(path)


def test_load_pairs_file_json_not_array_raises(tmp_path):
    """A .json file must hold an array of objects."""
    path = tmp_path / "p.json"
    path.write_text('{"id": "a"}')

    with pytest.raises(DataError, match="must hold a JSON array of objects"):
        load_pairs_file(path)


def test_load_pairs_file_no_rows_raises(tmp_path):
    """A file with a header but no rows is refused."""
    path = tmp_path / "p.csv"
    path.write_text("id,domain,text,label\n")

    with pytest.raises(DataError, match="has no rows"):
        load_pairs_file(path)


def test_load_pairs_file_duplicate_pair_rows_raises(jsonl_writer):
    """The same (id, domain) twice is refused, naming both rows."""
    path = jsonl_writer("p.jsonl", [*ROWS, ROWS[0]])

    with pytest.raises(
        DataError,
        match=r"1 duplicate \(id, domain\).*'d1' with domain 'energy' in rows 1 and 5",
    ):
        load_pairs_file(path)


def test_load_pairs_file_same_id_two_texts_raises(jsonl_writer):
    """One id with two different texts is refused, naming the rows."""
    rows = [ROWS[0], dict(ROWS[1], text="Something else.")]

    with pytest.raises(
        DataError, match=r"id 'd1' has two different texts \(rows 1 and 2\)"
    ):
        load_pairs_file(jsonl_writer("p.jsonl", rows))


def test_load_pairs_file_unreadable_labels_raises(jsonl_writer):
    """Labels outside the accepted forms are listed with their rows."""
    rows = [dict(ROWS[0], label="maybe"), dict(ROWS[1], label=2)]

    with pytest.raises(
        DataError,
        match=r"2 value\(s\) of column 'label'.*row 1: 'maybe', row 2: 2\); use 0/1",
    ):
        load_pairs_file(jsonl_writer("p.jsonl", rows))


def test_load_pairs_file_negative_grade_raises(jsonl_writer):
    """A grade must be a whole number of at least 0."""
    rows = [dict(ROWS[0], grade=-1)]

    with pytest.raises(DataError, match="row 1 has grade -1; grades must be whole"):
        load_pairs_file(jsonl_writer("p.jsonl", rows))


def test_load_pairs_file_conflicting_descriptions_raises(jsonl_writer):
    """A domain described two ways is refused."""
    rows = [
        dict(ROWS[0], domain_description="One."),
        dict(ROWS[2], domain_description="Two."),
    ]

    with pytest.raises(
        DataError, match="domain 'energy' has two different domain_desc"
    ):
        load_pairs_file(jsonl_writer("p.jsonl", rows))


def test_load_pairs_file_empty_id_raises(jsonl_writer):
    """Every row needs an id."""
    rows = [dict(ROWS[0], id="")]

    with pytest.raises(DataError, match="column 'id' is empty in 1 row"):
        load_pairs_file(jsonl_writer("p.jsonl", rows))
