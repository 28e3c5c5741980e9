"""Who may do what with post-mortems (one place, like incidents/access.py).

- Viewers read post-mortems and the follow-up backlog.
- Responders write a draft or an in-review document, mark key moments and
  add action items (a post-mortem is written together, blamelessly).
- The owner (the incident commander) or a manager submits, names the
  reviewers, publishes and reopens; a named reviewer signs off.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from incidents.access import can_manage, can_respond, can_view

__all__ = ["can_lead", "can_manage", "can_respond", "can_view", "require_lead", "require_write"]


def can_lead(user, postmortem) -> bool:
    if can_manage(user):
        return True
    return can_respond(user) and postmortem.owner_id == user.pk


def require_lead(user, postmortem, action: str) -> None:
    if not can_lead(user, postmortem):
        raise PermissionDenied(f"Only the post-mortem's owner or a manager may {action}.")


def require_write(user) -> None:
    if not can_respond(user):
        raise PermissionDenied("Only responders may change post-mortems.")


def require_view(user) -> None:
    if not can_view(user):
        raise PermissionDenied("Sign in as a viewer or above to read post-mortems.")
