"""Test messages: "does this channel / contact method reach anyone?".

A test is sent now, through the real transport, not queued: there is no
incident, nothing to retry, and the person asking waits for the answer. It
reads as a drill, and a PagerDuty test resolves itself.

Each test is still a ``Notification`` row (delivered or failed, key
``test:<person>:…``), so it counts against the email cap per minute like any
mail, and a person can send only ``NOTIFY_TEST_MAX_PER_PERSON`` tests per
``NOTIFY_TEST_WINDOW_SECONDS``: a "send test" button is otherwise a way to
mail-bomb an address or burn the mail provider's quota.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings

from .. import clock
from ..errors import RateLimited
from ..models import Channel, ChannelKind, MessageKind, Notification, NotificationStatus
from . import transports
from .errors import TransportError


def test_context(about: str, sender: str) -> dict:
    """A drill incident that exists only in the test message."""
    now = clock.now()
    return {
        "ref": f"TEST-{now:%Y%m%d-%H%M%S}",
        "title": f"Test notification for {about}",
        "severity": "P3",
        "severity_name": "Low",
        "status": "investigating",
        "status_display": "Investigating",
        "summary": (
            f"{sender} sent this test from TreeBeard IR to check that {about} "
            "receives notifications. No incident is open and no action is needed."
        ),
        "impact": "None: this is a test.",
        "services": [],
        "source": "test",
        "is_drill": True,
        "customer_impacting": False,
        "detected_at": now.isoformat(),
        "declared_at": now.isoformat(),
        "resolved_at": now.isoformat(),
        "resolution": "Test finished.",
        "commander": sender,
        "responders": [],
        "url": settings.SITE_URL + "/",
    }


def _check_limits(*, transport: str, requested_by, now) -> None:
    """Refuse a test over the sender's allowance or the email cap per minute."""
    if requested_by is not None and getattr(requested_by, "pk", None):
        window = timedelta(seconds=settings.NOTIFY_TEST_WINDOW_SECONDS)
        recent = list(
            Notification.objects.filter(
                idempotency_key__startswith=f"test:{requested_by.pk}:",
                message_kind=MessageKind.INITIAL,  # one per test (PagerDuty adds a resolve)
                created_at__gte=now - window,
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)[: settings.NOTIFY_TEST_MAX_PER_PERSON]
        )
        if len(recent) >= settings.NOTIFY_TEST_MAX_PER_PERSON:
            wait = (recent[0] + window - now).total_seconds()
            raise RateLimited(
                f"You sent {settings.NOTIFY_TEST_MAX_PER_PERSON} tests in the last "
                f"{window.seconds // 60 or 1} minutes; try again in {int(wait // 60) + 1} min.",
                retry_after=wait,
            )
    if transport == ChannelKind.EMAIL:
        from .outbox import email_rate_exceeded

        if email_rate_exceeded(now):
            raise RateLimited(
                f"Email is at its cap of {settings.NOTIFY_EMAIL_MAX_PER_MINUTE} messages a "
                "minute (NOTIFY_EMAIL_MAX_PER_MINUTE); try the test again in a minute.",
                retry_after=60,
            )


def send_test(
    *,
    transport: str,
    target: str,
    about: str,
    sender: str,
    channel: Channel | None = None,
    requested_by=None,
    recipient=None,
) -> dict:
    """Send a test to ``target`` by ``transport``; ``{"ref", "results"}``.

    1. Refuse (``RateLimited``) past the sender's allowance or the email cap.
    2. Send each message now; PagerDuty gets a trigger and then a resolve with
       the same ``dedup_key``, so the test alert closes itself.
    3. Keep each message as a delivered or failed row; a failure raises
       ``TransportError`` after it is kept.
    """
    now = clock.now()
    _check_limits(transport=transport, requested_by=requested_by, now=now)
    ctx = test_context(about, sender)
    kinds = [MessageKind.INITIAL]
    if transport == ChannelKind.PAGERDUTY:
        kinds.append(MessageKind.RESOLVED)
    who = getattr(requested_by, "pk", None) or "system"
    results = []
    for kind in kinds:
        message = Notification(
            idempotency_key=f"test:{who}:{uuid.uuid4().hex}",
            channel=channel,
            recipient=recipient,
            transport=transport,
            target=target,
            message_kind=kind,
            context=ctx,
            created_at=now,
            next_attempt_at=now,
            attempts=1,
        )
        try:
            results.append(transports.send(message))
        except TransportError as exc:
            message.status, message.last_error = NotificationStatus.FAILED, exc.message
            message.last_status_code = exc.status_code
            message.save()
            raise
        message.status, message.delivered_at = NotificationStatus.DELIVERED, clock.now()
        message.save()
    return {"ref": ctx["ref"], "results": results}
