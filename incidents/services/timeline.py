"""Marking key moments on an incident's timeline (detection, diagnosis,
repair, decision), for the post-mortem's narrative."""

from __future__ import annotations

from django.db import transaction

from .. import access, clock
from ..errors import DomainError
from ..models import MomentKind, TimelineEvent, TimelineMark
from .checks import check_choice


@transaction.atomic
def timeline_mark(*, actor, event: TimelineEvent, kind: str) -> TimelineMark:
    """Mark ``event`` as a key moment of ``kind``; marking it again changes the kind."""
    access.require_respond(actor)
    kind = check_choice(kind, MomentKind, "kind", error=DomainError)
    mark, created = TimelineMark.objects.select_for_update().get_or_create(
        event=event, defaults={"kind": kind, "marked_by": actor, "marked_at": clock.now()}
    )
    if not created and mark.kind != kind:
        mark.kind, mark.marked_by, mark.marked_at = kind, actor, clock.now()
        mark.save(update_fields=["kind", "marked_by", "marked_at"])
    return mark


@transaction.atomic
def timeline_unmark(*, actor, event: TimelineEvent) -> None:
    access.require_respond(actor)
    TimelineMark.objects.filter(event=event).delete()
