"""Building a channel from a domain's notification config."""

from __future__ import annotations

import pytest

from heysh.errors import ConfigError
from heysh.notifications import LogChannel, SmtpChannel, WebhookChannel, build_channel


def test_build_channel_webhook_keeps_url_and_secret_variable():
    """Check a webhook config becomes a WebhookChannel with its settings."""
    channel = build_channel(
        {
            "type": "webhook",
            "url": "https://hooks.example.org/h",
            "secret_env_var": "ECOLOGY_HOOK_SECRET",
            "timeout_s": 3,
        }
    )

    assert isinstance(channel, WebhookChannel)
    assert (channel.url, channel.secret_env_var, channel.timeout_s) == (
        "https://hooks.example.org/h",
        "ECOLOGY_HOOK_SECRET",
        3,
    )


def test_build_channel_email_fills_defaults():
    """Check an e-mail config gets port 587 and STARTTLS unless told otherwise."""
    channel = build_channel(
        {"type": "email", "host": "smtp.example.org", "sender": "heysh@example.org"}
    )

    assert isinstance(channel, SmtpChannel)
    assert (
        channel.host,
        channel.port,
        channel.sender,
        channel.use_starttls,
        channel.username_env,
        channel.password_env,
    ) == ("smtp.example.org", 587, "heysh@example.org", True, None, None)


def test_build_channel_log_needs_nothing():
    """Check a log config becomes a LogChannel."""
    assert isinstance(build_channel({"type": "log"}), LogChannel)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"type": "sms"},
            r"notification type 'sms' is unknown; use one of "
            r"\['email', 'log', 'webhook'\]",
        ),
        ({}, "notification type None is unknown"),
        (
            {"type": "webhook", "url": "https://h/x"},
            r"missing field\(s\) \['secret_env_var'\]",
        ),
        ({"type": "log", "url": "https://h/x"}, r"unknown field\(s\) \['url'\]"),
        (
            {"type": "email", "host": "h", "sender": "a@b", "port": "587"},
            "field 'port' must be int, got str",
        ),
        (
            {"type": "email", "host": "h", "sender": "a@b", "port": True},
            "field 'port' must be int, got bool",
        ),
        (
            {"type": "email", "host": "h", "sender": "a@b", "port": 70000},
            r"email port \(70000\) must be between 1 and 65535",
        ),
        (
            {"type": "webhook", "url": "ftp://h/x", "secret_env_var": "S"},
            "webhook url must be http",
        ),
        (
            {"type": "webhook", "url": "https:///x", "secret_env_var": "S"},
            "webhook url must be http",
        ),
        (
            {
                "type": "email",
                "host": "h",
                "sender": "a@b",
                "use_starttls": False,
                "username_env": "U",
                "password_env": "P",
            },
            "would be sent in clear text",
        ),
        ("webhook", "notification config must be a mapping, got str"),
    ],
)
def test_build_channel_bad_config_raises_config_error(config, message):
    """Check each kind of bad config is a ConfigError naming the problem."""
    with pytest.raises(ConfigError, match=message):
        build_channel(config)


def test_build_channel_secret_pasted_as_variable_name_is_not_echoed():
    """Check a secret given as the variable name is refused without quoting it."""
    pasted = "sk-live-8f3a/+=="

    with pytest.raises(ConfigError, match="must name an environment variable") as info:
        build_channel(
            {"type": "webhook", "url": "https://h/x", "secret_env_var": pasted}
        )

    assert pasted not in str(info.value)
