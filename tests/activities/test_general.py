"""General activities: durable round-robin assignment and stakeholder notifications."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from heysh.activities import contracts as c
from heysh.activities.general import GeneralActivities
from heysh.errors import ConfigError
from heysh.notifications import Notification
from heysh.stores.factory import Stores


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def __call__(self, domain: dict[str, Any], notification: Notification) -> str:
        self.sent.append(notification)
        return "recorder"


def claim(activities: GeneralActivities, key: str, exclude: str = "") -> Any:
    return ActivityEnvironment().run(
        activities.get_next_controller,
        c.GetNextControllerInput(
            domain_id="news", claim_key=key, fallback_pool=["zed"], exclude=exclude
        ),
    )


def test_get_next_controller_rotates_and_repeats_a_claim(
    stores: Stores, domain: str
) -> None:
    """Distinct claims rotate through the pool; a retried claim gets the same one."""
    activities = GeneralActivities(metadata=stores.metadata, send=Recorder())

    picks = [claim(activities, f"wf-{i}#0").controller for i in range(4)]
    retried = claim(activities, "wf-1#0")

    assert picks == ["ann", "bob", "ann", "bob"]
    assert retried.controller == "bob"
    assert (retried.pool_index, retried.pool_size) == (1, 2)
    assert retried.members == {
        "ann": "controller",
        "bob": "controller",
        "ada": "admin",
        "uma": "contributor",
    }


def test_get_next_controller_on_escalation_skips_the_controller_who_timed_out(
    stores: Stores, domain: str
) -> None:
    """When the next claim lands on the excluded controller, the next one is taken."""
    activities = GeneralActivities(metadata=stores.metadata, send=Recorder())
    claim(activities, "other#0")

    escalated = claim(activities, "wf#1", exclude="bob")

    assert escalated.controller == "ann"


def test_get_next_controller_survives_a_new_activity_object(
    stores: Stores, domain: str
) -> None:
    """The rotation lives in the metadata store, not in the worker process."""
    claim(GeneralActivities(metadata=stores.metadata, send=Recorder()), "a#0")

    restarted = claim(
        GeneralActivities(metadata=stores.metadata, send=Recorder()), "b#0"
    )

    assert restarted.controller == "bob"


def test_get_next_controller_unknown_domain_is_non_retryable(stores: Stores) -> None:
    """Assignment in a missing domain fails without retries."""
    activities = GeneralActivities(metadata=stores.metadata, send=Recorder())

    with pytest.raises(ApplicationError, match="domain 'news' does not exist"):
        claim(activities, "wf#0")


def test_notify_stakeholders_decided_goes_to_uploader_deciders_and_admins(
    stores: Stores, domain: str
) -> None:
    """A decision reaches uploader, controller, decider and admins once each."""
    recorder = Recorder()
    activities = GeneralActivities(metadata=stores.metadata, send=recorder)
    request = c.NotifyStakeholdersInput(
        doc_id="d" * 64,
        domain_id=domain,
        event="decided",
        filename="a.txt",
        uploader="uma",
        outcome="rejected",
        decided_by="ada",
        score=5.5,
        summary="Lead sentence.",
        assigned_controller="ann",
        reason="off topic",
    )

    result = ActivityEnvironment().run(activities.notify_stakeholders, request)

    assert result.recipients == ["ada", "ann", "uma"]
    assert result.channel == "recorder"
    (sent,) = recorder.sent
    assert (sent.event, sent.outcome, sent.summary) == (
        "document_rejected",
        "rejected",
        "Lead sentence.",
    )
    assert sent.subject == "[heysh] a.txt rejected in News"
    assert sent.extra["message"] == (
        f"Document a.txt ({'d' * 12}) uploaded by uma to News: rejected by ada "
        "(score 5.5). off topic"
    )


def test_notify_stakeholders_bad_channel_config_is_non_retryable(
    stores: Stores, domain: str
) -> None:
    """A channel refusing for good ends the activity without retries."""

    def refuse(domain: dict[str, Any], notification: Notification) -> str:
        raise ConfigError("webhook url must be http(s)")

    activities = GeneralActivities(metadata=stores.metadata, send=refuse)
    request = c.NotifyStakeholdersInput(
        doc_id="d",
        domain_id=domain,
        event="assigned",
        filename="a.txt",
        uploader="uma",
        assigned_controller="ann",
    )

    with pytest.raises(ApplicationError, match="notification not delivered") as info:
        ActivityEnvironment().run(activities.notify_stakeholders, request)

    assert info.value.non_retryable
