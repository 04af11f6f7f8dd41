"""Activities of the general queue: controller assignment and notifications.

``get_next_controller`` takes the next controller of a domain's pool from the
metadata store's durable round-robin counter, so the order is fair across
concurrent workflows and survives worker restarts. ``notify_stakeholders``
tells the uploader, the controllers and the domain's admins what happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from heysh.activities import contracts as c
from heysh.domain import Role
from heysh.errors import ConfigError, DataError
from heysh.notifications.message import Notification
from heysh.stores.base import MetadataStore


class MessageSender(Protocol):
    """Delivers a notification through the domain's configured channel.

    Returns the channel's name. Raises on a transient delivery failure (the
    activity is retried); returns normally when the message was delivered.
    ``notification.summary`` quotes the document: senders must not log it.
    """

    def __call__(self, domain: dict[str, Any], notification: Notification) -> str: ...


class GeneralActivities:
    """The general activities, holding the metadata store and a message sender.

    Args:
        metadata: Domains, memberships and the round-robin counter.
        send: Delivers a message; see :class:`MessageSender`.
    """

    def __init__(self, *, metadata: MetadataStore, send: MessageSender) -> None:
        self._metadata = metadata
        self._send = send

    def activities(self) -> list[Callable[..., Any]]:
        """Every activity of the general queue, for a Worker."""
        return [self.get_next_controller, self.notify_stakeholders]

    @activity.defn(name=c.GET_NEXT_CONTROLLER)
    def get_next_controller(
        self, request: c.GetNextControllerInput
    ) -> c.GetNextControllerResult:
        """Assign the domain's next controller and report every member's role.

        The pool is the stored domain config's ``controller_pool`` (so a
        controller removed since submission gets no new documents), or the
        submission-time pool if the stored one is empty.
        """
        domain = self._metadata.get_domain(request.domain_id)
        if domain is None:
            raise _invalid(f"domain {request.domain_id!r} does not exist")
        pool = _stored_pool(domain) or list(request.fallback_pool)
        if not pool:
            raise _invalid(
                f"domain {request.domain_id!r} has no controller_pool; add a "
                "controller or set use_ai_controller"
            )
        try:
            index = self._metadata.next_round_robin_index(
                request.domain_id, len(pool), request.claim_key
            )
        except DataError as err:
            raise _invalid(str(err)) from err
        if pool[index] == request.exclude and len(pool) > 1:
            index = (index + 1) % len(pool)
        members = dict(self._metadata.list_members(request.domain_id))
        for user in pool:
            if members.get(user) not in (Role.ADMIN.value, Role.CONTROLLER.value):
                members[user] = Role.CONTROLLER.value
        activity.logger.info(
            "controller_claimed",
            extra={
                "domain_id": request.domain_id,
                "claim_key": request.claim_key,
                "controller": pool[index],
                "pool_index": index,
            },
        )
        return c.GetNextControllerResult(
            controller=pool[index],
            pool_index=index,
            pool_size=len(pool),
            members=members,
        )

    @activity.defn(name=c.NOTIFY_STAKEHOLDERS)
    def notify_stakeholders(
        self, request: c.NotifyStakeholdersInput
    ) -> c.NotifyStakeholdersResult:
        """Notify the people involved in a review event.

        ``assigned`` goes to the assigned controller; ``decided`` goes to the
        uploader, the deciding or assigned controller and the domain admins.
        """
        if request.event not in ("assigned", "decided"):
            raise _invalid(f"event {request.event!r} is not 'assigned' or 'decided'")
        domain = self._metadata.get_domain(request.domain_id) or {
            "domain_id": request.domain_id
        }
        recipients = self._recipients(request)
        notification = _compose(request, domain, recipients)
        try:
            channel = self._send(domain, notification)
        except ConfigError as err:
            # A bad channel config or a receiver's permanent refusal: retrying
            # cannot help, and the review must not wait on it forever.
            raise _invalid(f"notification not delivered: {err}") from err
        activity.logger.info(
            "stakeholders_notified",
            extra={
                "doc_id": request.doc_id,
                "event": request.event,
                "recipients": len(recipients),
                "channel": channel,
            },
        )
        return c.NotifyStakeholdersResult(recipients=recipients, channel=channel)

    def _recipients(self, request: c.NotifyStakeholdersInput) -> list[str]:
        if request.event == "assigned":
            return [request.assigned_controller] if request.assigned_controller else []
        admins = [
            user
            for user, role in self._metadata.list_members(request.domain_id)
            if role == Role.ADMIN.value
        ]
        people = [request.uploader, request.assigned_controller, *admins]
        if request.decided_by and request.decided_by not in _MACHINE_DECIDERS:
            people.append(request.decided_by)
        return sorted({p for p in people if p})


_MACHINE_DECIDERS = ("thresholds", "ai-controller", "input-check")


def _stored_pool(domain: dict[str, Any]) -> list[str]:
    try:
        config = json.loads(domain.get("config_json") or "{}")
    except ValueError:
        return []
    pool = config.get("controller_pool") or []
    return [str(user) for user in pool]


def _compose(
    request: c.NotifyStakeholdersInput, domain: dict[str, Any], recipients: list[str]
) -> Notification:
    name = str(domain.get("name") or request.domain_id)
    score = f"{request.score:.1f}" if request.score is not None else "n/a"
    if request.event == "assigned":
        event, outcome = "review_requested", "pending"
        subject = f"[heysh] {request.filename} awaits your review in {name}"
        text = (
            f"Document {request.filename} ({request.doc_id[:12]}) uploaded by "
            f"{request.uploader} to {name} scored {score} and needs a decision."
        )
    else:
        event, outcome = f"document_{request.outcome}", request.outcome
        subject = f"[heysh] {request.filename} {request.outcome} in {name}"
        text = (
            f"Document {request.filename} ({request.doc_id[:12]}) uploaded by "
            f"{request.uploader} to {name}: {request.outcome} by "
            f"{request.decided_by} (score {score}). {request.reason}"
        ).strip()
    return Notification(
        event=event,
        domain_id=request.domain_id,
        doc_id=request.doc_id,
        recipients=tuple(recipients),
        subject=subject,
        summary=request.summary,
        outcome=outcome,
        extra={
            "message": text,
            "filename": request.filename,
            "uploader": request.uploader,
            "decided_by": request.decided_by,
            "score": request.score,
            "assigned_controller": request.assigned_controller,
            "domain_name": name,
        },
    )


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=c.INVALID_INPUT_ERROR, non_retryable=True)
