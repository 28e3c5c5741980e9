"""Celery tasks of the outbox: thin, ids in, a service call out (STYLE.md rule 5).

Every task is idempotent: ``deliver`` claims its row with a conditional
UPDATE, the relay only publishes, the digest's rows are keyed by day.
"""

from __future__ import annotations

from celery import shared_task

from .. import audit
from ..models import EntryPoint
from . import digest, outbox


@shared_task(name=outbox.DELIVER_TASK, ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    with audit.via(EntryPoint.TASK):
        return outbox.deliver(notification_id)


# ``expires``: after a broker outage, a backlog of beat messages for these
# sweeps is useless; one fresh run does all their work.
@shared_task(name="incidents.relay_notifications", ignore_result=True, expires=60)
def relay_notifications() -> int:
    with audit.via(EntryPoint.TASK):
        return outbox.relay()


@shared_task(name="incidents.send_digest", ignore_result=True, expires=3600)
def send_digest() -> int:
    with audit.via(EntryPoint.TASK):
        return len(digest.send_digest())
