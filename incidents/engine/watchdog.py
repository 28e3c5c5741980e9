"""The engine's watchdog: is time-driven work being done?

Two ages tell an operator the engine stalled (DESIGN.md: "a watchdog on the
age of the oldest overdue row"): the oldest deadline that is due but has not
fired (the sweep is not running, or a row keeps failing) and the oldest
notification that should have gone out but has not (no worker, broker down,
a worker died mid-delivery). Either older than ``ENGINE_STALL_SECONDS``
means stalled; ``/readyz`` then answers 503.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from .. import clock
from ..models import Deadline, Notification, NotificationStatus
from .sla import HEARTBEAT_KEY


def _overdue_notifications(now: datetime):
    """Undelivered rows that should be on their way: pending and due, or
    sending with a lapsed lease (the sender died). A row being sent right now
    under a valid lease is not overdue. Served by ``notification_undelivered``."""
    return Notification.objects.filter(
        status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING],
        next_attempt_at__lte=now,
    ).filter(
        Q(status=NotificationStatus.PENDING) | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def _age(now: datetime, moment: datetime | None) -> int:
    return max(int((now - moment).total_seconds()), 0) if moment else 0


def _last_sweep() -> datetime | None:
    try:
        raw = cache.get(HEARTBEAT_KEY)
    except Exception:  # the cache being down must not break the health page
        return None
    try:
        return datetime.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def _threshold() -> int:
    return int(getattr(settings, "ENGINE_STALL_SECONDS", 120))


def _oldest_ages(now: datetime) -> tuple[int, int]:
    """Seconds since the oldest due-but-unfired deadline and the oldest
    overdue notification fell due (0 when there is none). Two queries."""
    oldest_due = (
        Deadline.objects.due(now).order_by("due_at").values_list("due_at", flat=True).first()
    )
    oldest_undelivered = (
        _overdue_notifications(now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return _age(now, oldest_due), _age(now, oldest_undelivered)


def engine_health(now: datetime | None = None) -> dict:
    """The engine's figures (JSON-safe), 4 queries and one cache read.

    1. The oldest due-but-unfired deadline and how many there are.
    2. The oldest overdue notification and how many there are.
    3. When the sweep last ran (its heartbeat in the cache).
    4. Stalled when either age passes ``ENGINE_STALL_SECONDS``.
    """
    now = now or clock.now()
    threshold = _threshold()
    deadline_age, notification_age = _oldest_ages(now)
    last_sweep = _last_sweep()
    stalled = deadline_age > threshold or notification_age > threshold
    return {
        "status": "stalled" if stalled else "ok",
        "stalled": stalled,
        "stall_threshold_seconds": threshold,
        "checked_at": now.isoformat(),
        "oldest_due_deadline_age_seconds": deadline_age,
        "due_deadlines": Deadline.objects.due(now).count(),
        "oldest_undelivered_notification_age_seconds": notification_age,
        "undelivered_notifications": _overdue_notifications(now).count(),
        "last_sweep_at": last_sweep.isoformat() if last_sweep else None,
        "last_sweep_age_seconds": _age(now, last_sweep) if last_sweep else None,
    }


def behind_seconds(now: datetime | None = None) -> int | None:
    """How far behind the engine is, when past ``ENGINE_STALL_SECONDS``;
    None when it keeps up. Two queries: the board asks on every render."""
    age = max(_oldest_ages(now or clock.now()))
    return age if age > _threshold() else None
