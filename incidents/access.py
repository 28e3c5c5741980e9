"""Who may do what (STYLE.md: access checks live in a few functions).

Viewer reads, Responder acts on incidents, Manager edits policies and people.
Groups carry Django permissions (incidents/guide.py); these functions ask
for the permission, so a superuser or a hand-granted permission works too.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import RotationMember

VIEW = "incidents.view_incident"
RESPOND = "incidents.respond_incident"
MANAGE = "incidents.change_severitypolicy"


def can_view(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(VIEW))


def can_respond(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(RESPOND))


def can_manage(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(MANAGE))


def can_cover(actor, user) -> bool:
    """May ``actor`` put ``user`` on call with an override? Managers anyone,
    responders only themselves."""
    return can_manage(actor) or (can_respond(actor) and actor.pk == user.pk)


def can_take_shifts(actor, schedule) -> bool:
    """May ``actor`` add overrides on ``schedule`` at all? Managers on any;
    responders only on schedules whose rotations include them (a swap within
    their own team, not a takeover of someone else's pager). One query for a
    responder."""
    if can_manage(actor):
        return True
    mine = RotationMember.objects.filter(rotation__schedule=schedule, user=actor)
    return can_respond(actor) and mine.exists()


def schedules_taken_by(actor, schedules) -> set[int]:
    """The ids among ``schedules`` on which ``actor`` may add overrides, in one
    query (the on-call page asks for every schedule at once)."""
    ids = [schedule.pk for schedule in schedules]
    if can_manage(actor):
        return set(ids)
    if not can_respond(actor):
        return set()
    return set(
        RotationMember.objects.filter(rotation__schedule_id__in=ids, user=actor)
        .values_list("rotation__schedule_id", flat=True)
        .distinct()
    )


def can_remove_override(actor, override) -> bool:
    """Managers any override; responders those covering them or added by them."""
    if can_manage(actor):
        return True
    return can_respond(actor) and actor.pk in (override.user_id, override.created_by_id)


def require_respond(user) -> None:
    if not can_respond(user):
        raise PermissionDenied("Only responders can act on incidents.")
