"""Helpers for the SLA engine tests: people on call in the guide's seeded
schedules, a channel that receives everything, and short reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents.models import (
    Channel,
    ContactMethod,
    Deadline,
    DeadlineKind,
    Incident,
    Notification,
    Schedule,
    TimelineEvent,
)
from tests import factories

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
MIN = timedelta(minutes=1)

# Schedule slugs seeded by incidents.guide (one per level of the guide's paths).
TECHNICAL_SCHEDULES = {
    1: "on-call-engineer",
    2: "senior-engineer",
    3: "engineering-manager",
    4: "vp-engineering-cto",
}
BUSINESS_SCHEDULES = {
    1: "customer-support-lead",
    2: "customer-success-manager",
    3: "vp-customer-success",
    4: "ceo",
}
# Who is on call at each level in these tests.
TECHNICAL_PEOPLE = {1: "dana", 2: "sam", 3: "mia", 4: "victor"}
BUSINESS_PEOPLE = {1: "lena", 2: "carl", 3: "vera_cs", 4: "ceo_ann"}


def put_on_call(slug: str, username: str, *, since: datetime = T0 - timedelta(days=1)):
    """``username`` is on call in the schedule ``slug`` from ``since`` on (a
    weekly rotation with one member) and can be paged by email."""
    user = factories.responder(username)
    schedule = Schedule.objects.get(slug=slug)
    factories.rotation(schedule, [user], starts_at=since, name=f"{slug} week")

    ContactMethod.objects.get_or_create(user=user, kind="email", value=f"{username}@pager.test")
    return user


def staff_both_paths() -> None:
    for level, slug in TECHNICAL_SCHEDULES.items():
        put_on_call(slug, TECHNICAL_PEOPLE[level])
    for level, slug in BUSINESS_SCHEDULES.items():
        put_on_call(slug, BUSINESS_PEOPLE[level])


def everything_channel() -> Channel:
    return Channel.objects.create(
        name="#incidents",
        kind="slack",
        target="https://hooks.slack.test/services/T/B/x",
        severities=["P0", "P1", "P2", "P3"],
    )


def paged(incident, message_kind: str = "escalation") -> list[str]:
    """Usernames paged directly for ``incident``, in the order written."""
    rows = Notification.objects.filter(
        incident=incident, recipient__isnull=False, message_kind=message_kind
    ).order_by("id")
    return [n.recipient.get_username() for n in rows]


def channel_messages(incident, message_kind: str | None = None) -> list[str]:
    rows = Notification.objects.filter(incident=incident, channel__isnull=False).order_by("id")
    if message_kind:
        rows = rows.filter(message_kind=message_kind)
    return [n.message_kind for n in rows]


def events(incident, kind: str | None = None) -> list[TimelineEvent]:
    """The incident's timeline, oldest first; only events of ``kind`` if given."""
    rows = TimelineEvent.objects.filter(incident=incident).order_by("at", "id")
    return list(rows.filter(kind=kind) if kind else rows)


def fresh(incident: Incident) -> Incident:
    """``incident`` as stored now (the sweep and the services change their own copies)."""
    return Incident.objects.get(pk=incident.pk)


def pending_levels(incident: Incident, path: str = "technical") -> list[int]:
    """The escalation levels of ``path`` still to come: pending and not fired."""
    rows = Deadline.objects.pending().filter(
        incident=incident, kind=DeadlineKind.ESCALATION, path=path, fired_at=None
    )
    return sorted(rows.values_list("level", flat=True))
