"""Each domain's notifications go through the channel its config names."""

from __future__ import annotations

import argparse

import pytest

from heysh.cli._domains import _notification_config
from heysh.domain import DomainConfig
from heysh.errors import ConfigError
from heysh.notifications import Notification
from heysh.stores.metadata_sql import SqlMetadataStore
from heysh.worker.notify import DomainChannelSender

SECRET_VAR = "HEYSH_TEST_DOMAIN_HOOK_SECRET"


def _notification(domain_id: str) -> Notification:
    return Notification(
        event="document_approved",
        domain_id=domain_id,
        doc_id="doc-1",
        recipients=["ann"],
        subject="Approved: doc-1",
        summary="A report on river ecology.",
        outcome="approved",
    )


@pytest.fixture
def metadata(tmp_path):
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'heysh.db'}")
    yield store
    store.close()


def test_domain_channel_sender_webhook_config_posts_to_the_receiver(
    metadata, webhook_receiver, monkeypatch
):
    """A domain whose config names a webhook gets its notification there, signed."""
    monkeypatch.setenv(SECRET_VAR, webhook_receiver.secret)
    hook = {
        "type": "webhook",
        "url": webhook_receiver.url,
        "secret_env_var": SECRET_VAR,
    }
    config = DomainConfig(controller_pool=("ann",), notifications=hook)
    metadata.upsert_domain(
        "rivers", "Rivers", "River ecology.", config.model_dump_json()
    )
    metadata.upsert_domain(
        "quiet",
        "Quiet",
        "Anything.",
        DomainConfig(use_ai_controller=True).model_dump_json(),
    )
    sender = DomainChannelSender()

    hooked = sender(metadata.get_domain("rivers"), _notification("rivers"))
    logged = sender(metadata.get_domain("quiet"), _notification("quiet"))

    assert (hooked, logged) == ("webhook", "log")
    [(_, payload)] = webhook_receiver.received
    assert (payload["domain_id"], payload["doc_id"]) == ("rivers", "doc-1")


def test_domain_channel_sender_stored_config_not_json_is_a_config_error():
    """A corrupt stored config is a ConfigError naming the domain, not a crash."""
    sender = DomainChannelSender()

    with pytest.raises(ConfigError, match="domain 'x' has a stored config that is not"):
        sender({"domain_id": "x", "config_json": "{oops"}, _notification("x"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ('{"type": "pigeon"}', "notification type 'pigeon' is unknown"),
        ('{"type": "webhook", "url": "ftp://h/x", "secret_env_var": "S"}', "http"),
        ("@/nonexistent/hook.json", "cannot read /nonexistent/hook.json"),
    ],
)
def test_notification_option_bad_value_is_refused_with_the_reason(text, message):
    """`--notifications` checks the whole channel config before anything is stored."""
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        _notification_config(text)


def test_notification_option_reads_a_file(tmp_path):
    """`--notifications @FILE` reads the channel config from the file."""
    path = tmp_path / "hook.json"
    path.write_text('{"type": "email", "host": "127.0.0.1", "sender": "h@example.org"}')

    assert _notification_config(f"@{path}") == {
        "type": "email",
        "host": "127.0.0.1",
        "sender": "h@example.org",
    }
