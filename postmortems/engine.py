"""What time does to post-mortems: the reminder 24 hours before the 48-hour
limit and the breach after it; and to their action items: the reminder
before the due date and the overdue notice after it (deadline rows fired by
incidents' sweep, registered in ``PostmortemsConfig.ready``)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from incidents.engine import sla
from incidents.models import Deadline, EventKind, Incident, TimelineEvent

from .models import ActionItem, Postmortem, PostmortemStatus
from .notices import link, notify_person


def _postmortem(deadline: Deadline) -> Postmortem | None:
    pk = deadline.subject.partition(":")[2]
    if not pk.isdigit():
        return None
    return Postmortem.objects.select_related("owner").filter(pk=int(pk)).first()


def fire_reminder(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """24 hours left: remind the owner, unless it is published already."""
    postmortem = _postmortem(deadline)
    if postmortem is None or postmortem.status == PostmortemStatus.PUBLISHED:
        return
    url = link(reverse("postmortems:detail", args=[postmortem.pk]))
    notify_person(
        key=f"reminder:{deadline.pk}",
        person=postmortem.owner,
        incident=incident,
        subject=f"[{incident.ref}] Post-mortem due in 24 hours",
        text=(
            f"The post-mortem of {incident.ref} ({incident.title}) is due at "
            f"{postmortem.due_at:%Y-%m-%d %H:%M} UTC, 48 hours after the resolution.\n\n{url}\n"
        ),
    )


def fire_breach(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """48 hours passed without publishing: a breach the metrics count, a line
    on the incident's timeline, and a notice to the owner."""
    postmortem = _postmortem(deadline)
    if postmortem is None or postmortem.status == PostmortemStatus.PUBLISHED:
        return
    sla.record_breach(deadline, incident, now)
    TimelineEvent.record(
        incident,
        EventKind.SLA_BREACHED,
        None,
        at=now,
        message="The post-mortem was not published within 48 hours of the resolution.",
        detail={"sla": deadline.kind, "due_at": deadline.due_at.isoformat()},
    )
    url = link(reverse("postmortems:detail", args=[postmortem.pk]))
    notify_person(
        key=f"breach:{deadline.pk}",
        person=postmortem.owner,
        incident=incident,
        subject=f"[{incident.ref}] Post-mortem overdue",
        text=(
            f"The post-mortem of {incident.ref} ({incident.title}) was due at "
            f"{postmortem.due_at:%Y-%m-%d %H:%M} UTC and is not published.\n\n{url}\n"
        ),
    )


# --- action items ------------------------------------------------------------------


def _action_item(deadline: Deadline) -> ActionItem | None:
    pk = deadline.subject.partition(":")[2]
    if not pk.isdigit():
        return None
    return (
        ActionItem.objects.select_related("owner", "postmortem__owner", "postmortem__incident")
        .filter(pk=int(pk))
        .first()
    )


def _item_text(item: ActionItem, incident: Incident, opening: str) -> str:
    url = link(reverse("postmortems:detail", args=[item.postmortem_id]))
    return (
        f"{opening}\n\n{item.title}\nPriority: {item.get_priority_display()}\n"
        f"Post-mortem of {incident.ref} ({incident.title}): {url}\n"
    )


def fire_item_reminder(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """A few days before the due date: remind the owner of an open item."""
    item = _action_item(deadline)
    if item is None or not item.is_open:
        return
    notify_person(
        key=f"ai_reminder:{deadline.pk}",
        person=item.owner,
        incident=incident,
        subject=f"[{incident.ref}] Action item due {item.due_date:%Y-%m-%d}: {item.title}"[:200],
        text=_item_text(item, incident, f"Your action item is due on {item.due_date:%Y-%m-%d}."),
    )


def fire_item_overdue(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """The due date ended with the item open: a breach the metrics count, and
    a notice to its owner and to the post-mortem's owner."""
    item = _action_item(deadline)
    if item is None or not item.is_open:
        return
    sla.record_breach(deadline, incident, now)
    subject = f"[{incident.ref}] Action item overdue: {item.title}"[:200]
    text = _item_text(
        item, incident, f"This action item was due on {item.due_date:%Y-%m-%d} and is still open."
    )
    people = {p.pk: p for p in (item.owner, item.postmortem.owner) if p is not None}
    for person in people.values():
        notify_person(
            key=f"ai_overdue:{deadline.pk}",
            person=person,
            incident=incident,
            subject=subject,
            text=text,
        )
