"""The guide's P3 "Email digest": one email per channel per day.

P3 notifications for email channels are written with status ``digest``.
Once a day the digest task gathers them per channel into one ``digest``
notification and marks them ``digested`` in the same transaction. The
digest row's key names the day and channel, so two beats (or a re-run) make
one digest; a P3 arriving after the digest went out waits for the next one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from .. import clock
from ..models import MessageKind, Notification, NotificationStatus
from .outbox import dispatch_on_commit, write_row


@transaction.atomic
def send_digest(*, now: datetime | None = None) -> list[Notification]:
    """1. Lock the waiting rows (SKIP LOCKED: a concurrent digest takes none twice).
    2. Group them by channel, oldest first.
    3. Write one digest notification per channel for today's date.
    4. Mark the gathered rows digested; deliver after commit."""
    now = now or clock.now()
    zone = ZoneInfo(getattr(settings, "BUSINESS_TIME_ZONE", "UTC"))
    day = now.astimezone(zone).date().isoformat()
    waiting = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(status=NotificationStatus.DIGEST, channel__isnull=False)
        .select_related("channel")
        .order_by("created_at", "id")
    )
    by_channel: dict[int, list[Notification]] = defaultdict(list)
    for row in waiting:
        by_channel[row.channel_id].append(row)
    digests: list[Notification] = []
    for rows in by_channel.values():
        channel = rows[0].channel
        context = {
            "date": day,
            "incidents": [r.context for r in rows],
            "count": len(rows),
        }
        # A second digest the same day (rows that came after the first) gets
        # its own key from the first row it carries.
        digest = write_row(
            key=f"digest:{day}:channel:{channel.pk}:from:{rows[0].pk}",
            incident=None,
            event=None,
            channel=channel,
            message_kind=MessageKind.DIGEST,
            context=context,
            status=NotificationStatus.PENDING,
            now=now,
        )
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=NotificationStatus.DIGESTED, delivered_at=now
        )
        if digest is not None:
            digests.append(digest)
    dispatch_on_commit(digests)
    return digests
