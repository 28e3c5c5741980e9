"""Celery tasks of the incidents app: thin, ids in, a service call out
(STYLE.md rule 5). ``celery -A treebeard_ir`` finds them by autodiscovery of
this module; the beat schedule is ``CELERY_BEAT_SCHEDULE`` in settings.

Every task is idempotent and short; none uses an ETA or countdown longer than
a minute (Redis redelivers long-delayed tasks after its visibility timeout,
celery #2599): deadlines are rows that the sweep claims, not delayed tasks.
"""

from __future__ import annotations

from celery import shared_task

from . import audit
from .engine import sla
from .models import EntryPoint

# The outbox's tasks live beside it; imported here so autodiscovery registers them.
from .notify.tasks import deliver_notification, relay_notifications, send_digest

__all__ = ["deliver_notification", "relay_notifications", "send_digest", "sweep_deadlines"]


# ``expires``: beat keeps publishing while no worker runs; after an outage
# those stale sweeps are dropped instead of piling up, since one fresh sweep
# does all their work.
@shared_task(name="incidents.sweep_deadlines", ignore_result=True, expires=30)
def sweep_deadlines() -> int:
    with audit.via(EntryPoint.TASK):
        return sla.sweep()
