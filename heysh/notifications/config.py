"""Build a notification channel from a domain's notification config."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from heysh.errors import ConfigError
from heysh.notifications.channel import LogChannel, NotificationChannel
from heysh.notifications.smtp import SmtpChannel
from heysh.notifications.webhook import WebhookChannel

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Per type: required fields, optional fields with their types.
_FIELDS: dict[str, tuple[dict[str, type | tuple[type, ...]], dict[str, Any]]] = {
    "webhook": (
        {"url": str, "secret_env_var": str},
        {"timeout_s": (int, float)},
    ),
    "email": (
        {"host": str, "sender": str},
        {
            "port": int,
            "use_starttls": bool,
            "username_env": str,
            "password_env": str,
            "timeout_s": (int, float),
            "ca_file": str,
        },
    ),
    "log": ({}, {}),
}


def build_channel(config: Mapping[str, Any]) -> NotificationChannel:
    """Return the channel a domain's notification config describes.

    Args:
        config: ``{"type": "webhook", "url": ..., "secret_env_var": ...}``,
            ``{"type": "email", "host": ..., "port": 587, "sender": ...,
            "use_starttls": true, "username_env": ..., "password_env": ...}``
            or ``{"type": "log"}``. Secrets are never in the config, only the
            names of the variables that hold them.

    Raises:
        ConfigError: Unknown type, missing or unknown field, wrong value type,
            a URL that is not http(s), or a variable name that is not one.

    >>> build_channel({"type": "log"}).kind
    'log'
    """
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"notification config must be a mapping, got {type(config).__name__}"
        )
    kind = config.get("type")
    if kind not in _FIELDS:
        raise ConfigError(
            f"notification type {kind!r} is unknown; use one of {sorted(_FIELDS)}"
        )
    values = _checked_fields(kind, config)
    builder: Callable[[dict[str, Any]], NotificationChannel] = _BUILDERS[kind]
    return builder(values)


def _checked_fields(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    required, optional = _FIELDS[kind]
    given = {k: v for k, v in config.items() if k != "type"}
    unknown = sorted(set(given) - set(required) - set(optional))
    if unknown:
        raise ConfigError(
            f"notification config of type {kind!r} has unknown field(s) {unknown}; "
            f"allowed: {sorted(required) + sorted(optional)}"
        )
    missing = sorted(set(required) - set(given))
    if missing:
        raise ConfigError(
            f"notification config of type {kind!r} is missing field(s) {missing}"
        )
    for name, value in given.items():
        expected = required.get(name) or optional[name]
        # bool is an int; a port or timeout given as true is a mistake.
        if isinstance(value, bool) and expected is not bool:
            ok = False
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise ConfigError(
                f"notification field {name!r} must be {_type_name(expected)}, got "
                f"{type(value).__name__}"
            )
    for name in ("secret_env_var", "username_env", "password_env"):
        if name in given and not _ENV_NAME.fullmatch(given[name]):
            # Do not echo the value: it may be the secret itself, pasted by mistake.
            raise ConfigError(
                f"notification field {name!r} must name an environment variable "
                "(letters, digits, underscores), not hold the secret"
            )
    return given


def _type_name(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def _build_webhook(values: dict[str, Any]) -> NotificationChannel:
    parts = urlsplit(values["url"])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"webhook url must be http(s)://host/...; got scheme {parts.scheme!r}"
        )
    return WebhookChannel(
        values["url"], values["secret_env_var"], timeout_s=values.get("timeout_s", 10.0)
    )


def _build_email(values: dict[str, Any]) -> NotificationChannel:
    port = values.get("port", 587)
    if not 0 < port < 65536:
        raise ConfigError(f"email port ({port}) must be between 1 and 65535")
    return SmtpChannel(
        values["host"],
        port,
        values["sender"],
        values.get("use_starttls", True),
        values.get("username_env"),
        values.get("password_env"),
        timeout_s=values.get("timeout_s", 10.0),
        ca_file=values.get("ca_file"),
    )


def _build_log(values: dict[str, Any]) -> NotificationChannel:
    return LogChannel()


_BUILDERS: dict[str, Callable[[dict[str, Any]], NotificationChannel]] = {
    "webhook": _build_webhook,
    "email": _build_email,
    "log": _build_log,
}
