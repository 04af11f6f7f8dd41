"""Deliver review notifications through each domain's configured channel.

A domain's notification config (see ``heysh.notifications.build_channel``) is
its DomainConfig's ``notifications`` (set with ``heysh domain update
--notifications``); domains without one use the log channel, which logs ids
and counts only.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from heysh.errors import ConfigError
from heysh.notifications import (
    LogChannel,
    Notification,
    NotificationChannel,
    build_channel,
    send_notification,
)

_logger = logging.getLogger(__name__)


class DomainChannelSender:
    """A ``MessageSender`` that builds (and caches) one channel per config."""

    def __init__(self) -> None:
        self._channels: dict[str, NotificationChannel] = {}
        self._lock = threading.Lock()
        self._log = LogChannel()

    def __call__(self, domain: dict[str, Any], notification: Notification) -> str:
        """Send ``notification`` on the domain's channel; return the channel kind.

        Raises:
            ConfigError: the domain's notification config is invalid (or the
                receiver rejected the notification for good).
            NotificationDeliveryError: a transient failure; retry.
        """
        channel = self._channel_for(domain)
        send_notification(channel, notification)
        return channel.kind

    def _channel_for(self, domain: dict[str, Any]) -> NotificationChannel:
        raw = _notification_config(domain)
        if raw is None:
            return self._log
        key = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
        with self._lock:
            channel = self._channels.get(key)
        if channel is not None:
            return channel
        try:
            config = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as err:
            raise ConfigError(
                f"domain {domain.get('domain_id')!r} has a notification config that "
                f"is not JSON: {err}"
            ) from None
        channel = build_channel(config)
        with self._lock:
            self._channels[key] = channel
        return channel


def _notification_config(domain: dict[str, Any]) -> Any:
    """The domain's notification config (a mapping, or JSON text), or None.

    Raises:
        ConfigError: the domain's stored config is not JSON.
    """
    if domain.get("notifications"):
        return domain["notifications"]
    try:
        config = json.loads(domain.get("config_json") or "{}")
    except ValueError as err:
        raise ConfigError(
            f"domain {domain.get('domain_id')!r} has a stored config that is not "
            f"JSON: {err}"
        ) from None
    return config.get("notifications") if isinstance(config, dict) else None
