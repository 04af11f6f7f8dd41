"""``heysh decisions export`` and ``heysh feedback report`` on embedded stores."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from heysh.activities.contracts import text_blob_key
from heysh.cli.main import main
from heysh.data.loading import load_labelled_corpus
from heysh.stores.base import AuditRow, DecisionRow
from heysh.stores.blob_folder import FolderBlobStore
from heysh.stores.metadata_sql import SqlMetadataStore

NOW = datetime.now(UTC)
THRESHOLDS = {
    "relevance_threshold": 5.0,
    "auto_approve_threshold": 8.0,
    "auto_reject_threshold": 2.0,
    "false_approve_target": 0.05,
    "false_reject_target": 0.05,
    "audit_fraction": 0.5,
    "decided_by": "thresholds",
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A HEYSH_HOME whose stores hold 80 old and 80 recent, shifted decisions."""
    home = tmp_path / "home"
    monkeypatch.setenv("HEYSH_HOME", str(home))
    for name in ("HEYSH_METADATA_URL", "HEYSH_BLOB_URL"):
        monkeypatch.delenv(name, raising=False)
    metadata = SqlMetadataStore(f"sqlite:///{home / 'heysh.db'}")
    blobs = FolderBlobStore(home / "blobs")
    metadata.upsert_domain("news", "News", "Business news.", "{}")
    rng = np.random.default_rng(0)
    for i in range(160):
        recent = i >= 80
        at = NOW - timedelta(days=1 if recent else 30, minutes=i)
        score = float(np.clip(rng.normal(7.5 if recent else 4.0, 1.0), 0, 10))
        text = f"Document {i} on markets, {'recent' if recent else 'old'}."
        doc_id = hashlib.sha256(text.encode()).hexdigest()
        blobs.put(text_blob_key(doc_id), text.encode())
        outcome = "approved" if score >= 8.0 else "rejected"
        automatic = score >= 8.0 or score <= 2.0
        metadata.record_decision(
            DecisionRow(
                doc_id,
                "news",
                outcome,
                "thresholds" if automatic else "ann",
                score,
                "lexical",
                "1",
                THRESHOLDS,
                decided_at=at,
            )
        )
        if automatic and recent:
            metadata.record_audit_request(
                AuditRow(
                    doc_id,
                    "news",
                    outcome,
                    score,
                    "lexical",
                    "1",
                    THRESHOLDS,
                    "bob",
                    requested_at=at,
                )
            )
            # Controllers find a third of the auto-approvals irrelevant.
            label = "rejected" if i % 3 == 0 else outcome
            metadata.record_audit_label("news", doc_id, label, "bob", at)
    metadata.close()
    return home


def test_cli_decisions_export_writes_file_evaluation_loads(home, tmp_path, capsys):
    """The exported file holds human labels only and loads as a corpus."""
    out = tmp_path / "history.jsonl"

    status = main(["decisions", "export", "--out", str(out), "--domain", "news"])
    printed = capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    corpus = load_labelled_corpus(str(out))

    assert status == 0
    assert f"{len(rows)} labelled rows" in printed
    assert {r["source"] for r in rows} == {"controller", "audit"}
    assert all(r["decided_by"] in ("ann", "bob") for r in rows)
    assert corpus.n_docs == len(rows)


def test_cli_feedback_report_json_shows_audit_and_drift_alarms(home, capsys):
    """The JSON report flags the audited false approvals and the score shift."""
    status = main(
        [
            "feedback",
            "report",
            "--domain",
            "news",
            "--since",
            (NOW - timedelta(days=7)).isoformat(),
            "--json",
        ]
    )
    [report] = json.loads(capsys.readouterr().out)

    assert status == 0
    assert report["audits"]["false_approve"]["alarm"]
    assert report["drift"]["alarm"]
    assert report["alarm"]
    assert report["agreement"]["model_vs_humans"][0]["first"] == "lexical 1"

    assert main(["feedback", "report", "--domain", "news"]) == 0
    text = capsys.readouterr().out
    assert "ALARM" in text
    assert "false-approve" in text and "drift: DRIFT" in text


def test_cli_bad_since_is_a_one_line_error(home, capsys):
    """An unparsable --since names the option and the expected form."""
    status = main(["decisions", "export", "--out", "x.jsonl", "--since", "yesterday"])

    assert status == 1
    assert "--since 'yesterday' is not an ISO date" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["feedback", "report"], ["decisions", "export"]])
def test_cli_unknown_domain_is_a_one_line_error(home, tmp_path, capsys, command):
    """A mistyped --domain is refused, naming the domains there are."""
    out = ["--out", str(tmp_path / "x.jsonl")] if command[0] == "decisions" else []

    status = main([*command, *out, "--domain", "newz"])

    assert status == 1
    assert "there is no domain 'newz'; domains: news" in capsys.readouterr().err
