"""Threshold proposals from an evaluation summary, applied only by a domain admin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from heysh.domain.config import DomainConfig
from heysh.errors import ConfigError, DataError, PermissionDeniedError
from heysh.research.proposals import (
    apply_threshold_proposal,
    domain_targets,
    propose_thresholds,
    proposed_fields,
    reject_threshold_proposal,
)
from heysh.stores.base import DecisionRow
from heysh.stores.metadata_sql import SqlMetadataStore
from tests.research_fixtures import run_heysh

NEWS_CONFIG = {
    "relevance_threshold": 7.0,
    "auto_approve_threshold": 8.5,
    "auto_reject_threshold": 4.0,
    "controller_pool": ["ann"],
}
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def domain_section(reject: float | None, approve: float | None) -> dict:
    """A domain entry shaped like heysh.research.report's summary."""
    return {
        "name": "News",
        "model": "embedding-classifier",
        "auto_reject_threshold": reject,
        "auto_approve_threshold": approve,
        "relevance_threshold": 5.0,
        "automation_rate": 0.61,
        "false_approve_rate": 0.012,
        "false_reject_rate": 0.02,
        "human_workload": 39,
        "test_documents": 100,
        "false_approve_bound": 0.048,
        "false_reject_bound": 0.047,
        "confidence": 0.95,
        "n_approve_side": 120,
        "n_reject_side": 210,
        "scope": "per-domain",
        "labels_needed": {"approve": 0, "reject": 0},
        "calibration_automation_rate": 0.6,
    }


def summary_of(run_id: str = "run-abc", **domains: dict) -> dict:
    return {
        "created_at": "2026-12-04T02:10:00Z",
        "dataset": {
            "name": "history",
            "source": "/tmp/history.jsonl",
            "content_hash": "f00d",
            "documents": 400,
        },
        "targets": {"false_approve": 0.05, "false_reject": 0.05, "confidence": 0.95},
        "domains": domains,
        "mlflow": {"tracking_uri": "sqlite:///x", "parent_run_id": run_id},
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    """A SQLite store with domains news and sport and their members."""
    metadata = SqlMetadataStore(f"sqlite:///{tmp_path / 'heysh.db'}")
    metadata.upsert_domain("news", "News", "news", json.dumps(NEWS_CONFIG))
    metadata.upsert_domain("sport", "Sport", "sport", json.dumps(NEWS_CONFIG))
    for user, role in (("ada", "admin"), ("ann", "controller"), ("uma", "contributor")):
        metadata.set_membership("news", user, role)
    metadata.set_membership("sport", "sam", "admin")
    yield metadata
    metadata.close()


def stored_config(store: SqlMetadataStore, domain_id: str) -> dict:
    return json.loads(store.get_domain(domain_id)["config_json"])


def test_propose_thresholds_records_changed_known_domains_only(store):
    """Only a known domain whose certified pair changed gets a proposal."""
    summary = summary_of(
        news=domain_section(3.5, 9.0),
        sport=domain_section(4.0, 8.5),
        nowhere=domain_section(1.0, 9.0),
    )

    report = propose_thresholds(store, summary, proposed_by="nightly", now=T0)

    assert [r.domain_id for r in report.proposed] == ["news"]
    assert report.skipped == {
        "nowhere": "not a domain of the metadata store",
        "sport": "certified thresholds equal the current ones",
    }
    row = store.get_threshold_proposal(report.proposed[0].proposal_id)
    assert dict(row.current) == {
        "auto_reject_threshold": 4.0,
        "auto_approve_threshold": 8.5,
        "relevance_threshold": 7.0,
    }
    assert dict(row.proposed) == {
        "auto_reject_threshold": 3.5,
        "auto_approve_threshold": 9.0,
        "relevance_threshold": 7.0,
    }
    assert (row.evidence_run_id, row.proposed_by, row.proposed_at, row.status) == (
        "run-abc",
        "nightly",
        T0,
        "proposed",
    )
    assert row.evidence["bounds"] == {
        "false_approve_bound": 0.048,
        "false_reject_bound": 0.047,
        "confidence": 0.95,
        "scope": "per-domain",
    }
    assert row.evidence["labels"] == {
        "approve_side": 120,
        "reject_side": 210,
        "needed": {"approve": 0, "reject": 0},
    }
    assert row.evidence["rates"]["false_approve_rate"] == pytest.approx(0.012)
    assert row.evidence["dataset"]["content_hash"] == "f00d"
    assert stored_config(store, "news") == NEWS_CONFIG


def test_propose_thresholds_rerun_on_same_summary_stores_nothing_new(store, tmp_path):
    """Proposing twice from the same summary file keeps one pending proposal."""
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary_of(news=domain_section(3.5, 9.0))))
    first = propose_thresholds(store, path)

    second = propose_thresholds(store, tmp_path)

    assert second.proposed == []
    assert second.existing == [first.proposed[0].proposal_id]
    assert [r.status for r in store.list_threshold_proposals("news")] == ["proposed"]


def test_propose_thresholds_without_run_id_is_refused(store):
    """A summary without an MLflow run needs an explicit evidence run."""
    summary = summary_of(news=domain_section(3.5, 9.0))
    summary["mlflow"] = {}

    with pytest.raises(DataError, match="give the evidence run with --run-id"):
        propose_thresholds(store, summary)

    assert store.list_threshold_proposals() == []


def test_propose_thresholds_newer_run_supersedes_pending(store):
    """A proposal from a newer evaluation supersedes the pending older one."""
    old = propose_thresholds(store, summary_of("run-1", news=domain_section(3.5, 9.0)))

    new = propose_thresholds(store, summary_of("run-2", news=domain_section(3.0, 9.0)))

    rows = {r.proposal_id: r for r in store.list_threshold_proposals("news")}
    old_row = rows[old.proposed[0].proposal_id]
    assert (old_row.status, old_row.note) == (
        "superseded",
        f"superseded by {new.proposed[0].proposal_id}",
    )
    assert rows[new.proposed[0].proposal_id].status == "proposed"
    with pytest.raises(ConfigError, match="is superseded"):
        apply_threshold_proposal(store, old_row.proposal_id, "ada")


@pytest.mark.parametrize("actor", ["ann", "uma", "sam", "eve"])
def test_apply_threshold_proposal_by_non_admin_is_refused_and_changes_nothing(
    store, actor
):
    """Controllers, contributors, other domains' admins and strangers cannot apply."""
    report = propose_thresholds(store, summary_of(news=domain_section(3.5, 9.0)))
    proposal_id = report.proposed[0].proposal_id

    with pytest.raises(PermissionDeniedError, match="only an admin of the domain"):
        apply_threshold_proposal(store, proposal_id, actor)

    assert stored_config(store, "news") == NEWS_CONFIG
    row = store.get_threshold_proposal(proposal_id)
    assert (row.status, row.decided_by, row.decided_at) == ("proposed", None, None)


def test_apply_threshold_proposal_by_admin_updates_config_and_records(store):
    """An admin's apply changes only the thresholds and records who, when, what."""
    report = propose_thresholds(store, summary_of(news=domain_section(3.5, 9.25)))
    proposal_id = report.proposed[0].proposal_id
    before = datetime.now(UTC)

    applied = apply_threshold_proposal(store, proposal_id, "ada", note="looks right")

    assert stored_config(store, "news") == {
        **DomainConfig.model_validate(NEWS_CONFIG).model_dump(mode="json"),
        "auto_reject_threshold": 3.5,
        "auto_approve_threshold": 9.25,
    }
    assert (applied.status, applied.decided_by, applied.note) == (
        "applied",
        "ada",
        "looks right",
    )
    assert before <= applied.decided_at <= datetime.now(UTC)
    assert applied.current["auto_approve_threshold"] == 8.5
    assert applied.proposed["auto_approve_threshold"] == 9.25
    assert applied.evidence_run_id == "run-abc"
    assert store.get_threshold_proposal(proposal_id) == applied


def test_apply_threshold_proposal_twice_is_refused(store):
    """An applied proposal cannot be applied again."""
    report = propose_thresholds(store, summary_of(news=domain_section(3.5, 9.0)))
    proposal_id = report.proposed[0].proposal_id
    apply_threshold_proposal(store, proposal_id, "ada")

    with pytest.raises(ConfigError, match=r"is applied \(by ada"):
        apply_threshold_proposal(store, proposal_id, "ada")


def test_apply_threshold_proposal_after_manual_change_is_refused(store):
    """A proposal made against thresholds changed since is not applied."""
    report = propose_thresholds(store, summary_of(news=domain_section(3.5, 9.0)))
    changed = {**NEWS_CONFIG, "auto_approve_threshold": 9.5}
    store.upsert_domain("news", "News", "news", json.dumps(changed))

    with pytest.raises(ConfigError, match="changed since proposal"):
        apply_threshold_proposal(store, report.proposed[0].proposal_id, "ada")

    assert stored_config(store, "news") == changed


def test_reject_threshold_proposal_records_note_and_keeps_config(store):
    """An admin's rejection is recorded with its reason; the config stays."""
    report = propose_thresholds(store, summary_of(news=domain_section(3.5, 9.0)))
    proposal_id = report.proposed[0].proposal_id

    with pytest.raises(ConfigError, match="say why"):
        reject_threshold_proposal(store, proposal_id, "ada", " ")
    with pytest.raises(PermissionDeniedError, match="ann is a controller"):
        reject_threshold_proposal(store, proposal_id, "ann", "no")
    rejected = reject_threshold_proposal(store, proposal_id, "ada", "too few labels")

    assert (rejected.status, rejected.decided_by, rejected.note) == (
        "rejected",
        "ada",
        "too few labels",
    )
    assert stored_config(store, "news") == NEWS_CONFIG


def test_proposed_fields_moves_relevance_only_when_the_pair_excludes_it():
    """The relevance line is kept unless the new pair leaves it outside."""
    current = DomainConfig.model_validate(NEWS_CONFIG)

    kept = proposed_fields(current, domain_section(3.0, 8.0))
    moved = proposed_fields(current, domain_section(3.0, 6.5))
    unchanged = proposed_fields(current, domain_section(4.0, 8.5))

    assert kept == {
        "auto_reject_threshold": 3.0,
        "auto_approve_threshold": 8.0,
        "relevance_threshold": 7.0,
    }
    assert moved == {
        "auto_reject_threshold": 3.0,
        "auto_approve_threshold": 6.5,
        "relevance_threshold": 5.0,
    }
    assert unchanged is None


def test_thresholds_cli_propose_list_reject(tmp_path):
    """heysh thresholds propose, list and reject work on the configured store."""
    home = tmp_path / "home"
    metadata = SqlMetadataStore(f"sqlite:///{home / 'heysh.db'}")
    metadata.upsert_domain("news", "News", "news", json.dumps(NEWS_CONFIG))
    metadata.set_membership("news", "ada", "admin")
    metadata.close()
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(summary_of(news=domain_section(3.5, 9.0))))
    env = {"HEYSH_HOME": str(home), "HEYSH_METADATA_URL": ""}

    proposed = run_heysh(
        "thresholds", "propose", "--summary", str(summary), "--run-id", "run-cli",
        env=env, timeout_s=120,
    )  # fmt: skip
    proposal_id = proposed.stdout.split()[1]
    rejected = run_heysh(
        "thresholds", "reject", proposal_id, "--as", "ada", "--note", "wait a week",
        env=env, timeout_s=120,
    )  # fmt: skip
    listed = run_heysh("thresholds", "list", "--json", env=env, timeout_s=120)

    assert proposed.returncode == 0, proposed.stderr
    assert proposed.stdout.splitlines() == [
        f"proposed {proposal_id} for news: reject <= 4 | relevance 7 | approve >= "
        "8.5 -> reject <= 3.5 | relevance 7 | approve >= 9 (evidence run run-cli)"
    ]
    assert rejected.returncode == 0, rejected.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["proposal_id"], row["status"], row["decided_by"], row["note"]) == (
        proposal_id,
        "rejected",
        "ada",
        "wait a week",
    )
    assert row["evidence_run_id"] == "run-cli"


def test_domain_targets_with_stricter_domain_are_the_strictest(store):
    """The evaluation certifies at each side's smallest target among the domains."""
    store.upsert_domain(
        "legal",
        "Legal",
        "legal",
        json.dumps(
            {**NEWS_CONFIG, "false_approve_target": 0.01, "false_reject_target": 0.2}
        ),
    )

    assert domain_targets(store) == {"false_approve": 0.01, "false_reject": 0.05}
    assert domain_targets(store, domain_id="legal") == {
        "false_approve": 0.01,
        "false_reject": 0.2,
    }
    assert domain_targets(store, domain_id="news", false_reject=0.1) == {
        "false_approve": 0.05,
        "false_reject": 0.1,
    }


def test_propose_thresholds_records_models_scoring_production(store):
    """The evidence names the models that scored the domain's decisions."""
    for i, model in enumerate(("zero-shot", "zero-shot", "classifier")):
        store.record_decision(
            DecisionRow(
                f"doc-{i}", "news", "rejected", "thresholds", 1.0, model, "1",
                NEWS_CONFIG, decided_at=T0,
            )
        )  # fmt: skip
    store.record_decision(
        DecisionRow("doc-9", "news", "approved", "ann", None, "", "", NEWS_CONFIG)
    )

    report = propose_thresholds(store, summary_of(news=domain_section(3.5, 9.0)))

    evidence = report.proposed[0].evidence
    assert (evidence["model"], evidence["production_models"]) == (
        "embedding-classifier",
        ["zero-shot 1", "classifier 1"],
    )


def _scored_decision(
    store: SqlMetadataStore, doc_id: str, model: str, version: str, minute: int
):
    store.record_decision(
        DecisionRow(
            doc_id, "news", "rejected", "thresholds", 1.0, model, version,
            NEWS_CONFIG, decided_at=T0 + timedelta(minutes=minute),
        )
    )  # fmt: skip


def test_apply_threshold_proposal_tuned_for_another_model_is_refused(store):
    """Thresholds of a model production does not serve are refused, saying why."""
    _scored_decision(store, "doc-1", "heysh-default-minilm-zero-shot", "builtin-1", 0)
    summary = summary_of(news=domain_section(3.5, 9.0))
    summary["registered"] = {"model": "heysh-relevance", "version": "4"}
    proposal_id = propose_thresholds(store, summary).proposed[0].proposal_id

    with pytest.raises(
        ConfigError,
        match=r"tuned for heysh-relevance 4 but domain news is scored by "
        r"heysh-default-minilm-zero-shot builtin-1.*promote heysh-relevance 4",
    ):
        apply_threshold_proposal(store, proposal_id, "ada")

    assert stored_config(store, "news") == NEWS_CONFIG
    applied = apply_threshold_proposal(
        store, proposal_id, "ada", accept_model_mismatch=True
    )
    assert applied.status == "applied"


def test_apply_threshold_proposal_for_the_serving_model_is_applied(store):
    """Once the evaluated version scores the domain, its thresholds apply."""
    _scored_decision(store, "doc-2", "heysh-relevance", "4", 1)
    _scored_decision(store, "doc-1", "heysh-default-minilm-zero-shot", "builtin-1", 0)
    summary = summary_of(news=domain_section(3.5, 9.0))
    summary["registered"] = {"model": "heysh-relevance", "version": "4"}
    proposal_id = propose_thresholds(store, summary).proposed[0].proposal_id

    applied = apply_threshold_proposal(store, proposal_id, "ada")

    assert applied.evidence["registered_model"] == "heysh-relevance 4"
    assert stored_config(store, "news")["auto_reject_threshold"] == 3.5


def test_apply_threshold_proposal_switching_a_side_off_needs_confirmation(store):
    """A proposal that stops auto-approving is refused unless accepted knowingly."""
    section = domain_section(3.5, None)
    section["labels_needed"] = {"approve": 3080, "reject": 0}
    proposal_id = (
        propose_thresholds(store, summary_of(news=section)).proposed[0].proposal_id
    )

    with pytest.raises(ConfigError) as refused:
        apply_threshold_proposal(store, proposal_id, "ada")
    unchanged = stored_config(store, "news")
    applied = apply_threshold_proposal(
        store, proposal_id, "ada", accept_less_automation=True
    )

    assert str(refused.value) == (
        f"proposal {proposal_id} switches off auto-approve (now 8.5) for domain "
        "news: the documents that side decides would all go to controllers, "
        "because the evaluation could not certify it (about 3080 more labels for "
        "the auto-approve side). Pass --accept-less-automation to apply it "
        "anyway, or reject it"
    )
    assert unchanged == NEWS_CONFIG
    assert applied.status == "applied"
    assert stored_config(store, "news")["auto_approve_threshold"] is None
    assert stored_config(store, "news")["auto_reject_threshold"] == 3.5


@pytest.mark.parametrize(
    ("needed", "explained"),
    [
        ({"approve": 3080, "reject": None}, "(about 3080 more labels for the "
         "auto-approve side; no number of labels would certify the auto-reject side)"),
        ([3080, 59], "because the evaluation could not certify them. Pass"),
        ("lots", "because the evaluation could not certify them. Pass"),
        ({"approve": -1, "reject": 2.5}, "because the evaluation could not certify "
         "them. Pass"),
    ],
)  # fmt: skip
def test_apply_refusal_for_both_sides_explains_what_the_evidence_says(
    store, needed, explained
):
    """Switching both sides off is refused; odd label counts are not echoed."""
    section = domain_section(None, None)
    section["labels_needed"] = needed
    report = propose_thresholds(store, summary_of(news=section))

    with pytest.raises(ConfigError) as refused:
        apply_threshold_proposal(store, report.proposed[0].proposal_id, "ada")

    message = str(refused.value)
    assert "switches off auto-approve (now 8.5) and auto-reject (now 4.0)" in message
    assert "the documents those sides decide would all go to controllers" in message
    assert explained in message


def test_apply_of_a_stale_proposal_names_the_change_before_the_lost_side(store):
    """Thresholds changed since the proposal: that is the reason given."""
    proposal_id = (
        propose_thresholds(store, summary_of(news=domain_section(3.5, None)))
        .proposed[0]
        .proposal_id
    )
    store.upsert_domain(
        "news",
        "News",
        "news",
        json.dumps({**NEWS_CONFIG, "auto_approve_threshold": None}),
    )

    with pytest.raises(ConfigError, match="changed since proposal"):
        apply_threshold_proposal(store, proposal_id, "ada")
