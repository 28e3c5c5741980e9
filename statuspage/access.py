"""Who may do what on the status page (one place, like incidents/access.py).

- Anyone may read the public page; nothing here is asked for it.
- An incident is published, and its public updates posted, by its
  communications lead, its commander or a manager.
- Responders set component statuses and schedule maintenance (the
  communications lead of the day is a responder).
- Managers edit components, groups and subscribers.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from incidents.access import can_manage, can_respond, can_view
from incidents.models import Role, RoleAssignment

__all__ = ["can_manage", "can_publish", "can_respond", "can_view", "require_publish"]


def can_publish(user, incident) -> bool:
    if can_manage(user):
        return True
    if not can_respond(user):
        return False
    return RoleAssignment.objects.filter(
        incident=incident,
        user=user,
        relieved_at__isnull=True,
        role__in=[Role.COMMANDER, Role.COMMUNICATIONS_LEAD],
    ).exists()


def require_publish(user, incident) -> None:
    if not can_publish(user, incident):
        raise PermissionDenied(
            "Only the incident's communications lead, its commander or a manager "
            "may speak for it on the status page."
        )


def require_respond(user) -> None:
    if not can_respond(user):
        raise PermissionDenied("Only responders may change the status page.")


def require_manage(user) -> None:
    if not can_manage(user):
        raise PermissionDenied("Only managers may change this.")
