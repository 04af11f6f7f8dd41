"""Exporting the decision history as labelled data the evaluation reads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from heysh.activities.contracts import text_blob_key
from heysh.data.loading import load_labelled_corpus
from heysh.documents import normalise_text
from heysh.errors import DataError
from heysh.feedback.export import (
    EXPORT_COLUMNS,
    decision_history_dataset,
    export_decision_history,
)
from heysh.research.evaluate import prepare_data
from heysh.research.experiment import ExperimentSpec
from heysh.stores.base import AuditRow, DecisionRow, DocumentRow, VoteRow

DOMAIN = "bbc-news:business"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
THRESHOLDS = {
    "relevance_threshold": 5.0,
    "auto_approve_threshold": 8.0,
    "auto_reject_threshold": 2.0,
}


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def store_document(metadata, blobs, text: str) -> str:
    """Store a document's row and normalised text as the review would."""
    body = text.encode("utf-8")
    doc_id = hashlib.sha256(body).hexdigest()
    blobs.put(text_blob_key(doc_id), normalise_text(text).encode("utf-8"))
    metadata.upsert_document(
        DocumentRow(doc_id, DOMAIN, "uma", f"{doc_id[:8]}.txt", doc_id, len(body), "x")
    )
    return doc_id


@pytest.fixture
def history(metadata, blobs, bbc_news):
    """120 bbc-news documents decided by controllers, audits, votes and thresholds.

    Returns the expected human label per document id, and the automatic ids.
    """
    domain = read_jsonl(bbc_news / "domains.jsonl")[0]
    metadata.upsert_domain(DOMAIN, domain["name"], domain["description"], "{}")
    documents = read_jsonl(bbc_news / "documents.jsonl")[::18][:124]
    expected, automatic = {}, []
    for i, doc in enumerate(documents):
        doc_id = store_document(metadata, blobs, doc["text"])
        relevant = "business" in doc["labels"]
        at = T0 + timedelta(hours=i)
        score = 7.0 if relevant else 3.0
        outcome = "approved" if relevant else "rejected"
        kind = i % 4
        if kind == 0:
            metadata.record_decision(
                DecisionRow(
                    doc_id,
                    DOMAIN,
                    outcome,
                    "ann",
                    score,
                    "lexical",
                    "3",
                    THRESHOLDS,
                    decided_at=at,
                )
            )
            expected[doc_id] = (int(relevant), "controller")
        elif kind == 1:
            auto = "approved" if i % 8 == 1 else "rejected"
            metadata.record_decision(
                DecisionRow(
                    doc_id,
                    DOMAIN,
                    auto,
                    "thresholds",
                    score,
                    "lexical",
                    "3",
                    THRESHOLDS,
                    decided_at=at,
                )
            )
            metadata.record_audit_request(
                AuditRow(
                    doc_id,
                    DOMAIN,
                    auto,
                    score,
                    "lexical",
                    "3",
                    THRESHOLDS,
                    "bob",
                    requested_at=at,
                )
            )
            metadata.record_audit_label(DOMAIN, doc_id, outcome, "bob", at)
            expected[doc_id] = (int(relevant), "audit")
        elif kind == 2:
            for voter, approve in (
                ("ann", relevant),
                ("bob", relevant),
                ("uma", False),
            ):
                metadata.record_vote(
                    VoteRow(doc_id, DOMAIN, voter, "controller", approve, voted_at=at)
                )
            expected[doc_id] = (int(relevant), "vote")
        else:
            metadata.record_decision(
                DecisionRow(
                    doc_id,
                    DOMAIN,
                    "approved",
                    "thresholds",
                    9.0,
                    "lexical",
                    "3",
                    THRESHOLDS,
                    decided_at=at,
                )
            )
            automatic.append(doc_id)
    return expected, automatic


def test_export_jsonl_loads_as_labelled_corpus_and_prepares_for_evaluation(
    metadata, blobs, history, tmp_path
):
    """The exported file loads with load_labelled_corpus and passes prepare_data."""
    expected, automatic = history
    out = tmp_path / "export" / "decisions.jsonl"

    summary = export_decision_history(metadata, blobs, out)
    corpus = load_labelled_corpus(str(out))
    prepared = prepare_data(ExperimentSpec(data=str(out), register_winner=False))

    rows = read_jsonl(out)
    assert summary.rows == len(expected) == corpus.n_docs == 93
    assert summary.by_source == {"controller": 31, "audit": 31, "vote": 31}
    assert {r["id"]: (r["label"], r["source"]) for r in rows} == expected
    assert not set(automatic) & {r["id"] for r in rows}
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0]["domain_description"].startswith("Business and economy news")
    assert int(corpus.pair_label.sum()) == sum(label for label, _ in expected.values())
    assert prepared.corpus.n_docs == 93


def test_export_parquet_dataset_filters_by_time_window(
    metadata, blobs, history, tmp_path
):
    """A window keeps only labels given inside it; Parquet loads like JSONL."""
    expected, _ = history
    since, until = T0 + timedelta(hours=40), T0 + timedelta(hours=80)

    dataset = decision_history_dataset(metadata, blobs, since=since, until=until)
    summary = export_decision_history(
        metadata, blobs, tmp_path / "window.parquet", since=since, until=until
    )
    corpus = load_labelled_corpus(str(tmp_path / "window.parquet"))

    stamps = [datetime.fromisoformat(s) for s in dataset["decided_at"]]
    assert dataset.num_rows == summary.rows == corpus.n_docs == 30
    assert all(since <= s < until for s in stamps)
    assert set(dataset.column_names) == set(EXPORT_COLUMNS)
    assert set(dataset["id"]) <= set(expected)


def test_export_include_automatic_marks_them_ai_and_unknown_suffix_is_refused(
    metadata, blobs, history, tmp_path
):
    """Automatic decisions appear only on request, as source ai; .csv is refused."""
    _, automatic = history

    dataset = decision_history_dataset(metadata, blobs, include_automatic=True)

    sources = dict(zip(dataset["id"], dataset["source"], strict=True))
    assert {sources[d] for d in automatic} == {"ai"}
    with pytest.raises(DataError, match=r"use a \.jsonl or \.parquet file"):
        export_decision_history(metadata, blobs, tmp_path / "x.csv")


def test_export_vote_tie_and_decided_document_votes_give_no_vote_row(
    metadata, blobs, tmp_path
):
    """A tied vote is no label; votes on a decided document defer to the decision."""
    metadata.upsert_domain(DOMAIN, "Business", "Business news.", "{}")
    tied = store_document(metadata, blobs, "A tied document about trade.")
    decided = store_document(metadata, blobs, "A decided document about banks.")
    for doc_id in (tied, decided):
        metadata.record_vote(VoteRow(doc_id, DOMAIN, "ann", "controller", True))
        metadata.record_vote(VoteRow(doc_id, DOMAIN, "bob", "controller", False))
    metadata.record_vote(VoteRow(decided, DOMAIN, "cy", "controller", True))
    metadata.record_decision(
        DecisionRow(decided, DOMAIN, "rejected", "ann", 5.0, "m", "1", THRESHOLDS)
    )

    dataset = decision_history_dataset(metadata, blobs)

    assert dataset["id"] == [decided]
    assert (dataset["label"], dataset["source"]) == ([0], ["controller"])
