"""Agreement of models and controllers: kappa, confusion matrix, disagreements."""

from __future__ import annotations

import pytest
from sklearn.metrics import cohen_kappa_score

from heysh.feedback.agreement import agreement_report, compare_raters
from heysh.stores.base import AuditRow, DecisionRow, VoteRow

THRESHOLDS = {"relevance_threshold": 5.0}


def test_compare_raters_counts_common_documents_only():
    """Documents only one rater labelled are left out of every number."""
    first = {"a": 1, "b": 1, "c": 0, "d": 0, "only-first": 1}
    second = {"a": 1, "b": 0, "c": 0, "d": 0, "only-second": 0}

    result = compare_raters(first, second, names=("m", "c"), scores={"b": 6.5})

    assert result.n == 4
    assert result.confusion == [[2, 0], [1, 1]]
    assert [
        (d.doc_id, d.first_label, d.second_label, d.score) for d in result.disagreements
    ] == [("b", 1, 0, 6.5)]
    assert result.kappa == pytest.approx(cohen_kappa_score([1, 1, 0, 0], [1, 0, 0, 0]))
    assert result.observed_agreement == 0.75


def test_compare_raters_single_class_gives_undefined_kappa():
    """Both raters always approving: agreement is total but kappa is undefined."""
    result = compare_raters({"a": 1, "b": 1}, {"a": 1, "b": 1}, names=("x", "y"))

    assert (result.kappa, result.observed_agreement) == (None, 1.0)


def test_agreement_report_per_model_and_between_controllers(metadata):
    """Each model is compared with human labels; voting controllers pairwise."""
    # Model v1 scored four controller decisions; model v2 two audits.
    for doc, score, outcome in (
        ("a", 7.0, "approved"),
        ("b", 6.0, "rejected"),
        ("c", 2.0, "rejected"),
        ("d", 4.0, "approved"),
    ):
        metadata.record_decision(
            DecisionRow(doc, "news", outcome, "ann", score, "lexical", "1", THRESHOLDS)
        )
    for doc, score, label in (("e", 9.0, "approved"), ("f", 8.5, "rejected")):
        metadata.record_decision(
            DecisionRow(
                doc, "news", "approved", "thresholds", score, "judge", "2", THRESHOLDS
            )
        )
        metadata.record_audit_request(
            AuditRow(doc, "news", "approved", score, "judge", "2", THRESHOLDS, "bob")
        )
        metadata.record_audit_label("news", doc, label, "bob")
    for doc, approve in (("a", True), ("b", True), ("c", False)):
        metadata.record_vote(VoteRow(doc, "news", "bob", "controller", approve))
    metadata.record_vote(VoteRow("a", "news", "uma", "contributor", False))

    report = agreement_report(metadata, "news")

    models = {a.first: a for a in report.model_vs_humans}
    assert set(models) == {"lexical 1", "judge 2"}
    assert models["lexical 1"].confusion == [[1, 1], [1, 1]]
    assert {d.doc_id for d in models["lexical 1"].disagreements} == {"b", "d"}
    assert models["judge 2"].confusion == [[0, 0], [1, 1]]
    [pair] = report.between_controllers
    assert (pair.first, pair.second, pair.n) == ("ann", "bob", 3)
    assert [d.doc_id for d in pair.disagreements] == ["b"]
