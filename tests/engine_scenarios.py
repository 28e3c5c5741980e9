"""Scenario pieces shared by the real-worker engine tests: the guide's
channels pointed at the local receivers, people on call with contact
methods, "time passing" for an incident, and what each receiver got.

A worker process cannot be time-travelled, so ``age`` moves the incident's
own clock instead: its detection time and its pending deadlines move back
together, exactly as if that much time had passed since it was declared.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from incidents.models import (
    Channel,
    ContactMethod,
    Deadline,
    EventKind,
    Incident,
    Notification,
    NotificationStatus,
    Schedule,
)
from incidents.notify.channels import DEFAULT_SEVERITIES
from tests import factories
from tests.engine_support import events
from tests.fakes import HttpRecorder, SmtpSink

PD_KEY = "R0123456789abcdef0123456789ABCDE"
EMAIL_CHANNEL = "oncall@treebeard.test"
# The guide's ladder: L1..L3 people, by the slug of their schedule.
LADDER = {
    1: ("olive", "on-call-engineer"),
    2: ("sam", "senior-engineer"),
    3: ("emma", "engineering-manager"),
}


def guide_channels(recorder: HttpRecorder, *kinds: str) -> dict[str, Channel]:
    """Channels of ``kinds`` (all four if none) with the guide's default severities."""
    targets = {
        "slack": recorder.url("/slack"),
        "webhook": recorder.url("/webhook"),
        "pagerduty": PD_KEY,
        "email": EMAIL_CHANNEL,
    }
    return {
        kind: Channel.objects.create(
            name=kind, kind=kind, target=targets[kind], severities=list(DEFAULT_SEVERITIES[kind])
        )
        for kind in (kinds or ("pagerduty", "slack", "email", "webhook"))
    }


def person(username: str, *, email: str | None = None):
    """A responder with an email contact method (``<username>@pager.test``)."""
    user = factories.responder(username)
    ContactMethod.objects.create(user=user, kind="email", value=email or f"{username}@pager.test")
    return user


def put_on_call(user, schedule_slug: str) -> None:
    """A weekly rotation of one person, started yesterday, on the guide's schedule."""
    schedule = Schedule.objects.get(slug=schedule_slug)
    since = timezone.now() - timedelta(days=1)
    factories.rotation(schedule, [user], starts_at=since, name=f"{user.username} week")


def staff_the_ladder() -> dict[int, object]:
    """olive (L1), sam (L2) and emma (L3) on call, each reachable by email."""
    people = {}
    for level, (username, slug) in LADDER.items():
        people[level] = person(username)
        put_on_call(people[level], slug)
    return people


def age(*incidents: Incident, minutes: float) -> None:
    """Let ``minutes`` pass for these incidents: detection and declaration
    times and every still-pending deadline move that far into the past."""
    delta = timedelta(minutes=minutes)
    ids = [i.pk for i in incidents]
    Incident.objects.filter(pk__in=ids).update(
        detected_at=F("detected_at") - delta, declared_at=F("declared_at") - delta
    )
    Deadline.objects.pending().filter(incident_id__in=ids, fired_at__isnull=True).update(
        due_at=F("due_at") - delta, starts_at=F("starts_at") - delta
    )


def escalated_levels(incident: Incident) -> list[int]:
    return [
        e.detail["level"]
        for e in events(incident, EventKind.ESCALATED)
        if e.detail.get("path") == "technical"
    ]


def settled() -> bool:
    """No notification left to deliver (nothing pending or in flight)."""
    return not Notification.objects.filter(
        status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
    ).exists()


# --- what the receivers got -----------------------------------------------------


def pagerduty_events(recorder: HttpRecorder, ref: str | None = None) -> list[dict]:
    found = [r.json() for r in recorder.requests_to("/v2/enqueue")]
    return [e for e in found if ref is None or e.get("dedup_key") == ref]


def slack_messages(recorder: HttpRecorder, ref: str | None = None) -> list[dict]:
    found = [r.json() for r in recorder.requests_to("/slack")]
    return [m for m in found if ref is None or ref in m.get("text", "")]


def slack_headlines(recorder: HttpRecorder, ref: str) -> list[str]:
    return [m["blocks"][0]["text"]["text"] for m in slack_messages(recorder, ref)]


def webhook_bodies(recorder: HttpRecorder, ref: str | None = None) -> list[dict]:
    found = [r.json() for r in recorder.requests_to("/webhook")]
    return [b for b in found if ref is None or (b.get("incident") or {}).get("ref") == ref]


def mail_to(sink: SmtpSink, address: str, ref: str | None = None) -> list:
    """Messages whose envelope names ``address`` (and, if given, about ``ref``)."""
    return [
        e.message
        for e in sink.envelopes
        if address in e.rcpt_tos and (ref is None or e.message["X-TreeBeard-Incident"] == ref)
    ]


def plain_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def receivers_of(recorder: HttpRecorder, sink: SmtpSink, ref: str) -> set[str]:
    """Which of the four channels received something about ``ref``."""
    got = set()
    if pagerduty_events(recorder, ref):
        got.add("pagerduty")
    if slack_messages(recorder, ref):
        got.add("slack")
    if webhook_bodies(recorder, ref):
        got.add("webhook")
    if mail_to(sink, EMAIL_CHANNEL, ref):
        got.add("email")
    return got
