"""The notification record: payload, delivery id, subject line."""

from __future__ import annotations

import logging

from heysh.notifications import LogChannel, Notification, send_notification


def test_notification_delivery_id_is_stable_per_event_and_document():
    """Check retries share a delivery id and other events or documents do not."""
    base = Notification("document_approved", "d", "doc", recipients=["a"], summary="x")

    same = Notification("document_approved", "d", "doc", recipients=["b"], summary="y")
    others = {
        Notification("document_rejected", "d", "doc").delivery_id,
        Notification("document_approved", "e", "doc").delivery_id,
        Notification("document_approved", "d", "doc2").delivery_id,
    }

    assert base.delivery_id == same.delivery_id
    assert base.delivery_id not in others
    assert len(others) == 3


def test_notification_recipients_become_a_tuple():
    """Check a list of recipients is frozen into a tuple."""
    assert Notification("e", "d", "x", recipients=["a", "b"]).recipients == ("a", "b")


def test_notification_default_subject_names_event_and_document():
    """Check an empty subject is replaced by the event and document id."""
    assert Notification("document_approved", "d", "doc-7").one_line_subject() == (
        "heysh: document_approved (doc-7)"
    )


def test_log_channel_logs_ids_and_counts_but_not_text(caplog):
    """Check the log channel and send_notification log ids, never summary or subject."""
    caplog.set_level(logging.INFO)
    note = Notification(
        "document_approved",
        "d",
        "doc-7",
        ["ann", "bo"],
        subject="Secret project",
        summary="confidential findings",
        outcome="approved",
    )

    send_notification(LogChannel(), note)

    events = [(r.getMessage(), r.doc_id, r.recipients) for r in caplog.records]
    assert events == [
        ("notification_logged", "doc-7", 2),
        ("notification_sent", "doc-7", 2),
    ]
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert "confidential" not in logged
    assert "Secret project" not in logged
