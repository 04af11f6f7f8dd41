"""Why a notification was not delivered: worth retrying, or not."""

from heysh.errors import ConfigError, HeyshError


class NotificationDeliveryError(HeyshError):
    """A transient failure (server error, refused connection, timeout): retry."""


class NotificationRejectedError(ConfigError):
    """The receiver refused the notification (4xx, bad credentials, bad
    address) or the channel is misconfigured; retrying will not help until
    someone fixes the configuration."""
