"""Test messages: "does this channel / contact method reach anyone?".

A test is sent now, through the real transport, outside the outbox: there
is no incident, nothing to retry, and the person asking waits for the
answer. It reads as a drill, and a PagerDuty test resolves itself.
"""

from __future__ import annotations

import uuid

from django.conf import settings

from .. import clock
from ..models import Channel, ChannelKind, MessageKind, Notification
from . import transports


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


def send_test(
    *, transport: str, target: str, about: str, sender: str, channel: Channel | None = None
) -> dict:
    """Send a test to ``target`` by ``transport``; ``{"ref", "results"}``.

    PagerDuty gets a trigger and then a resolve with the same ``dedup_key``,
    so the test alert closes itself. Raises ``TransportError``.
    """
    ctx = test_context(about, sender)
    kinds = [MessageKind.INITIAL]
    if transport == ChannelKind.PAGERDUTY:
        kinds.append(MessageKind.RESOLVED)
    results = []
    for kind in kinds:
        message = Notification(
            idempotency_key=f"test-{uuid.uuid4().hex}",
            channel=channel,
            transport=transport,
            target=target,
            message_kind=kind,
            context=ctx,
        )
        results.append(transports.send(message))
    return {"ref": ctx["ref"], "results": results}
