"""The notification outbox (DESIGN.md "Time-driven rules", STYLE.md rules 3-5).

Writing: ``notify_incident`` and ``page_people`` run inside the transaction of
the change that causes the message and write one ``Notification`` row per
destination; the rows are handed to Celery only after commit. A change that
rolls back therefore sends nothing, and a process that dies between commit
and publish leaves rows the relay picks up.

Delivering: ``deliver`` claims a row with a conditional UPDATE (a lease), sends
it through ``transports.send`` and records the outcome. Running it twice, or
in two workers at once, sends at most once unless the lease lapsed mid-send,
in which case the repeat carries the same idempotency key.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from .. import ack_links, clock
from ..access import can_respond
from ..models import (
    Channel,
    ChannelKind,
    ContactKind,
    ContactMethod,
    EventKind,
    Incident,
    MessageKind,
    Notification,
    NotificationStatus,
    Severity,
    SeverityPolicy,
    TimelineEvent,
)
from .context import incident_snapshot
from .errors import TransportError
from .transports import send

log = logging.getLogger(__name__)
# The Celery task that delivers one row (``tasks.deliver_notification``).
DELIVER_TASK = "incidents.deliver_notification"

# Which messages each kind of channel carries. PagerDuty follows the incident
# itself (trigger, acknowledge, resolve under dedup_key = reference), so it does
# not need updates, reminders or breaches; email skips the chatty ones.
CARRIES: dict[str, frozenset[str]] = {
    ChannelKind.SLACK: frozenset(MessageKind.values) - {MessageKind.DIGEST},
    ChannelKind.WEBHOOK: frozenset(MessageKind.values) - {MessageKind.DIGEST},
    ChannelKind.EMAIL: frozenset(
        {
            MessageKind.INITIAL,
            MessageKind.UPDATE,
            MessageKind.RESOLVED,
            MessageKind.REOPENED,
            MessageKind.ESCALATION,
            MessageKind.SLA_BREACH,
            MessageKind.DIGEST,
        }
    ),
    ChannelKind.PAGERDUTY: frozenset(
        {
            MessageKind.INITIAL,
            MessageKind.ACKNOWLEDGED,
            MessageKind.RESOLVED,
            MessageKind.REOPENED,
            MessageKind.ESCALATION,
        }
    ),
}

# A person paged directly: through which contact methods, by which transport.
CONTACT_TRANSPORT = {
    ContactKind.EMAIL: ChannelKind.EMAIL,
    ContactKind.PAGERDUTY: ChannelKind.PAGERDUTY,
}


def _channels_for(severity: str) -> list[Channel]:
    # Few rows: filter the JSON list in Python (works on SQLite and PostgreSQL).
    return [
        c
        for c in Channel.objects.filter(enabled=True).order_by("id")
        if severity in (c.severities or [])
    ]


def _email_cap_reached(incident: Incident) -> bool:
    sent = (
        Notification.objects.filter(incident=incident, transport=ChannelKind.EMAIL)
        .exclude(
            status__in=[
                NotificationStatus.SUPPRESSED,
                NotificationStatus.DIGEST,
                NotificationStatus.DIGESTED,
            ]
        )
        .count()
    )
    return sent >= settings.NOTIFY_EMAIL_MAX_PER_INCIDENT


def write_row(
    *,
    key: str,
    incident: Incident | None,
    event,
    channel: Channel | None = None,
    recipient=None,
    recipient_id: int | None = None,
    transport: str = "",
    target: str = "",
    message_kind: str,
    context: dict,
    status: str,
    now: datetime,
    last_error: str = "",
) -> Notification | None:
    """Insert one row unless its key exists (the same event seen twice). A
    channel's row goes by the channel's kind to the channel's target; any
    other row names its ``transport`` and ``target``."""
    if channel is not None:
        transport, target = channel.kind, channel.target
    try:
        with transaction.atomic():
            return Notification.objects.create(
                idempotency_key=key[:200],
                incident=incident,
                event=event,
                channel=channel,
                recipient_id=recipient.pk if recipient is not None else recipient_id,
                transport=transport,
                target=target,
                message_kind=message_kind,
                context=context,
                status=status,
                created_at=now,
                next_attempt_at=now,
                last_error=last_error,
            )
    except IntegrityError:
        return None


@dataclass
class _Message:
    """One message about an incident on its way to its destinations, and the
    rows written for it so far."""

    incident: Incident
    event: TimelineEvent | None
    kind: str
    context: dict
    now: datetime
    rows: list[Notification] = field(default_factory=list)

    def write(
        self,
        destination: str,
        *,
        status: str = NotificationStatus.PENDING,
        context: dict | None = None,
        **fields,
    ) -> None:
        """Write its row for ``destination`` (``channel:3``, ``contact:7``, …):
        keyed by the event and the destination, so the same event seen twice
        writes nothing new. ``fields``: the rest of ``write_row``'s."""
        row = write_row(
            key=f"{self._about}:{destination}",
            incident=self.incident,
            event=self.event,
            message_kind=self.kind,
            context=self.context if context is None else context,
            status=status,
            now=self.now,
            **fields,
        )
        if row is not None:
            self.rows.append(row)

    @property
    def _about(self) -> str:
        if self.event is not None:
            return f"event:{self.event.pk}"
        # Without an event the message is one per incident and kind (e.g. a test
        # or a caller that has nothing to point at).
        return f"incident:{self.incident.pk}:{self.kind}"


def _status_for_email(incident: Incident) -> tuple[str, str]:
    if _email_cap_reached(incident):
        cap = settings.NOTIFY_EMAIL_MAX_PER_INCIDENT
        message = f"Email cap of {cap} per incident reached."
        first = not Notification.objects.filter(
            incident=incident, status=NotificationStatus.SUPPRESSED
        ).exists()
        if first:
            # Once on the timeline, so responders know why mail went quiet.
            # Written here, through the one public timeline writer, because
            # only the outbox knows the cap was just reached: handing it back
            # would make each of the nine services and engine steps that
            # notify (declare, acknowledge, update, resolve, reopen,
            # escalate, the sweep's breaches and pages) repeat this check.
            # It is the only event the outbox writes.
            TimelineEvent.record(
                incident,
                EventKind.NOTIFICATION,
                None,
                at=clock.now(),
                message=f"{message} Later emails are kept in the outbox, not sent; "
                "Slack, PagerDuty and webhooks are not capped.",
                detail={"email_cap": cap},
            )
        return NotificationStatus.SUPPRESSED, message
    return NotificationStatus.PENDING, ""


def notify_incident(
    *,
    incident: Incident,
    event: TimelineEvent | None,
    message_kind: str,
    extra: dict | None = None,
) -> list[Notification]:
    """Write the notifications the guide's routing asks for.

    1. Pick the enabled channels whose severities include the incident's.
    2. Skip channels that do not carry this kind of message.
    3. P3 on an email channel waits for the daily digest (the guide: "Email
       digest"); only the initial alert goes there.
    4. Email beyond the per-incident cap is kept as "suppressed", not sent.
    5. Hand the new rows to Celery once the transaction commits.
    """
    now = clock.now()
    policy = SeverityPolicy.objects.filter(severity=incident.severity).first()
    context = {**incident_snapshot(incident, policy=policy), **(extra or {})}
    message = _Message(incident, event, message_kind, context, now)
    for channel in _channels_for(incident.severity):
        if message_kind not in CARRIES.get(channel.kind, ()):
            continue
        status, error = NotificationStatus.PENDING, ""
        if channel.kind == ChannelKind.EMAIL:
            if incident.severity == Severity.P3:
                if message_kind != MessageKind.INITIAL:
                    continue
                status = NotificationStatus.DIGEST
            else:
                status, error = _status_for_email(incident)
        message.write(f"channel:{channel.pk}", channel=channel, status=status, last_error=error)
    if message_kind in PAGER_FOLLOW_UPS:
        covered = {
            c.target for c in _channels_for(incident.severity) if c.kind == ChannelKind.PAGERDUTY
        }
        _pager_follow_ups(message, skip=covered)
    dispatch_on_commit(message.rows)
    return message.rows


# PagerDuty alerts raised on a person's own service (a contact method) are
# acknowledged and resolved with the incident, like the channel's.
PAGER_FOLLOW_UPS = frozenset({MessageKind.ACKNOWLEDGED, MessageKind.RESOLVED})
PAGER_TRIGGERS = (MessageKind.INITIAL, MessageKind.ESCALATION, MessageKind.REOPENED)


def _pager_follow_ups(message: _Message, *, skip: set[str]) -> None:
    """One acknowledge/resolve per routing key this incident paged a person
    on (same ``dedup_key``, so PagerDuty closes that person's alert too)."""
    paged = (
        Notification.objects.filter(
            incident=message.incident,
            transport=ChannelKind.PAGERDUTY,
            recipient__isnull=False,
            message_kind__in=PAGER_TRIGGERS,
        )
        .exclude(status=NotificationStatus.FAILED)
        .order_by("id")
        .values_list("target", "recipient_id")
    )
    seen = set(skip)
    for target, recipient_id in paged:
        if target in seen:
            continue
        seen.add(target)
        digest = hashlib.sha256(target.encode()).hexdigest()[:16]
        message.write(
            f"pager:{digest}",
            recipient_id=recipient_id,
            transport=ChannelKind.PAGERDUTY,
            target=target,
        )


def page_people(
    *,
    incident: Incident,
    event: TimelineEvent | None,
    users: Iterable,
    message_kind: str = MessageKind.ESCALATION,
    extra: dict | None = None,
) -> list[Notification]:
    """Page people directly through their enabled email and PagerDuty contact
    methods (one row per person and method). Slack handles are mentioned in
    the channel messages instead; see ``slack_mentions``."""
    now = clock.now()
    users = [u for u in users if u is not None]
    if not users:
        return []
    context = {**incident_snapshot(incident), **(extra or {})}
    message = _Message(incident, event, message_kind, context, now)
    methods = (
        ContactMethod.objects.filter(user__in=users, enabled=True, kind__in=list(CONTACT_TRANSPORT))
        .select_related("user")
        .order_by("user_id", "id")
    )
    for method in methods:
        transport = CONTACT_TRANSPORT[method.kind]
        status, error = NotificationStatus.PENDING, ""
        extra_ctx = {}
        if transport == ChannelKind.EMAIL:
            status, error = _status_for_email(incident)
            if incident.acknowledged_at is None and can_respond(method.user):
                # PagerDuty has its own acknowledge; an email gets a link.
                extra_ctx["ack_url"] = ack_links.url_for(incident, method.user)
        message.write(
            f"contact:{method.pk}",
            recipient=method.user,
            transport=transport,
            target=method.value,
            context={**context, "recipient": method.user.get_username(), **extra_ctx},
            status=status,
            last_error=error,
        )
    dispatch_on_commit(message.rows)
    return message.rows


def email_capped(incident: Incident) -> bool:
    """Past the per-incident cap an email is kept, not sent (``incidents.engine.paging``
    counts such a page as reaching nobody)."""
    return _email_cap_reached(incident)


def slack_carries(incident: Incident, message_kind: str) -> bool:
    """Does a Slack channel get this message (so its mentions reach people)?"""
    return any(
        c.kind == ChannelKind.SLACK and message_kind in CARRIES[ChannelKind.SLACK]
        for c in _channels_for(incident.severity)
    )


def slack_mentions(users: Iterable) -> list[str]:
    """Slack member IDs / handles of these people, for ``<@U123>`` mentions."""
    return list(
        ContactMethod.objects.filter(user__in=list(users), enabled=True, kind=ContactKind.SLACK)
        .order_by("user_id", "id")
        .values_list("value", flat=True)
    )


# --- dispatch ------------------------------------------------------------------


def dispatch_on_commit(rows: Iterable[Notification]) -> None:
    ids = [r.pk for r in rows if r.status == NotificationStatus.PENDING]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))


def enqueue(ids: Iterable[int], *, countdown: float | None = None) -> int:
    """Publish delivery tasks; a broker outage is logged, not raised: the
    rows stay in the outbox and the relay publishes them later."""
    sent = 0
    for pk in ids:
        try:
            # Published by name: ``tasks.py`` calls this module, not the reverse.
            current_app.send_task(DELIVER_TASK, (pk,), countdown=countdown, retry=False)
            sent += 1
        except Exception as exc:  # the broker is down: the relay will catch up
            log.warning("Could not enqueue notification %s: %s; the relay will retry.", pk, exc)
            break
    return sent


# --- delivery ------------------------------------------------------------------


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with ±10 % jitter so retries of a burst spread out."""
    base = settings.NOTIFY_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    delay = min(base, settings.NOTIFY_RETRY_MAX_SECONDS)
    return delay * random.uniform(0.9, 1.1)


def claim(pk: int, now: datetime) -> bool:
    """Take the row for one delivery attempt: pending and due, or sending with a
    lapsed lease (its worker died). The conditional UPDATE is the lock."""
    lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    claimable = Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, lease_until__lt=now
    )
    return (
        Notification.objects.filter(claimable, pk=pk).update(
            status=NotificationStatus.SENDING,
            attempts=F("attempts") + 1,
            lease_until=lease,
        )
        == 1
    )


def email_rate_exceeded(now: datetime) -> bool:
    """Email delivered in the last minute (tests included) reached the cap."""
    recent = Notification.objects.filter(
        transport=ChannelKind.EMAIL,
        status=NotificationStatus.DELIVERED,
        delivered_at__gte=now - timedelta(minutes=1),
    ).count()
    return recent >= settings.NOTIFY_EMAIL_MAX_PER_MINUTE


def deliver(notification_id: int) -> str:
    """Deliver one outbox row; returns what happened.

    1. Claim it (conditional UPDATE with a lease); if another worker holds
       it or it is done, stop: "skipped".
    2. Over the per-minute email cap, put it back for a little later.
    3. Send it through its transport.
    4. Record the outcome: delivered; permanently failed (4xx other than 429,
       a refused address; the channel shows the error); or pending again
       after a backoff (or the receiver's Retry-After) until the attempts run out.
    """
    now = clock.now()
    if not claim(notification_id, now):
        return "skipped"
    row = Notification.objects.select_related("channel", "incident").get(pk=notification_id)
    if row.transport == ChannelKind.EMAIL and email_rate_exceeded(now):
        later = now + timedelta(seconds=15)
        Notification.objects.filter(pk=row.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=later,
            lease_until=None,
            last_error="Waiting: email rate cap per minute reached.",
        )
        return "deferred"
    try:
        response = send(row) or {}
    except TransportError as exc:
        return _record_failure(row, exc)
    except Exception as exc:  # a bug or an unexpected library error: retry, keep the text
        log.exception("Delivery of notification %s crashed", row.pk)
        return _record_failure(row, TransportError(f"{exc.__class__.__name__}: {exc}"))
    Notification.objects.filter(pk=row.pk).update(
        status=NotificationStatus.DELIVERED,
        delivered_at=clock.now(),
        lease_until=None,
        response=response,
        last_error="",
        last_status_code=response.get("status_code") if isinstance(response, dict) else None,
    )
    return "delivered"


def _record_failure(row: Notification, exc) -> str:
    now = clock.now()
    message = str(exc)[:2000]
    attempts = row.attempts  # fetched after the claim, so it counts this attempt
    if exc.permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        with transaction.atomic():
            Notification.objects.filter(pk=row.pk).update(
                status=NotificationStatus.FAILED,
                lease_until=None,
                last_error=message,
                last_status_code=exc.status_code,
            )
            if row.channel_id:
                Channel.objects.filter(pk=row.channel_id).update(
                    last_error=message, last_error_at=now
                )
        return "failed"
    delay = exc.retry_after if exc.retry_after is not None else backoff_seconds(attempts)
    Notification.objects.filter(pk=row.pk).update(
        status=NotificationStatus.PENDING,
        lease_until=None,
        last_error=message,
        last_status_code=exc.status_code,
        next_attempt_at=now + timedelta(seconds=delay),
    )
    # Short waits go back to the broker as a countdown; long ones (never more
    # than a minute as an ETA: celery #2599) are left to the relay.
    if delay <= 60:
        enqueue([row.pk], countdown=delay)
    return "retry"


def relay(limit: int = 500, *, now: datetime | None = None) -> int:
    """Re-publish rows left behind: due pending rows no task picked up (the
    broker was down, or the process died between commit and publish) and
    rows whose sender died mid-delivery (lease lapsed)."""
    now = now or clock.now()
    grace = now - timedelta(seconds=settings.NOTIFY_RELAY_GRACE_SECONDS)
    stuck = Q(status=NotificationStatus.PENDING, next_attempt_at__lte=grace) | Q(
        status=NotificationStatus.SENDING, lease_until__lt=now
    )
    ids = list(
        Notification.objects.filter(stuck)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return enqueue(ids)
