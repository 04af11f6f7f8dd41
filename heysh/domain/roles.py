"""Roles and what each may do in a domain."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role in one domain; Admin > Controller > Contributor."""

    ADMIN = "admin"
    CONTROLLER = "controller"
    CONTRIBUTOR = "contributor"


_RANK = {Role.CONTRIBUTOR: 1, Role.CONTROLLER: 2, Role.ADMIN: 3}


def outranks_or_equals(role: Role, other: Role) -> bool:
    """Return whether ``role`` has at least the rights of ``other``.

    >>> outranks_or_equals(Role.ADMIN, Role.CONTROLLER)
    True
    """
    return _RANK[role] >= _RANK[other]


def can_decide(
    actor: str, role: Role | None, assigned_controller: str | None
) -> tuple[bool, str]:
    """Return whether ``actor`` may approve or reject a gray-zone document.

    Only the controller the document is assigned to, or an admin of the domain,
    may decide.

    Args:
        actor: User id of whoever is deciding.
        role: The actor's role in the document's domain, ``None`` if not a member.
        assigned_controller: The controller the document currently waits for.

    Returns:
        ``(allowed, reason)``; the reason explains a refusal and is empty
        otherwise.

    >>> can_decide("bo", Role.CONTRIBUTOR, "ann")[0]
    False
    >>> can_decide("ann", Role.CONTROLLER, "ann")
    (True, '')
    """
    if role == Role.ADMIN:
        return True, ""
    if role is None:
        return False, f"{actor} is not a member of this domain"
    if actor == assigned_controller and role == Role.CONTROLLER:
        return True, ""
    return False, (
        f"{actor} is a {role.value} in this domain; only the assigned controller "
        f"({assigned_controller}) or an admin may decide"
    )


def can_vote(actor: str, role: Role | None) -> tuple[bool, str]:
    """Return whether ``actor`` may vote on a document of the domain.

    Every member may vote: contributors, controllers and admins.

    >>> can_vote("eve", None)
    (False, 'eve is not a member of this domain and cannot vote')
    """
    if role is None:
        return False, f"{actor} is not a member of this domain and cannot vote"
    return True, ""
