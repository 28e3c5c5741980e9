"""What time does to scheduled maintenance: the handlers of its deadline
rows (``subject`` "maintenance:<pk>", no incident), registered in the
sweep's registry from ``StatuspageConfig.ready``.

The sweep holds the row's lock when it calls a handler, and the services
lock the maintenance before they touch its rows, so a handler never waits
for the maintenance: a busy one is left for the next sweep (``Busy`` keeps
the row due, as any handler failure does), never a deadlock.
"""

from __future__ import annotations

import logging
from datetime import datetime

from incidents.engine.sla import register as register_handler
from incidents.models import Deadline

from .models import Maintenance
from .services.maintenance import (
    END,
    REMIND,
    START,
    maintenance_auto_complete,
    maintenance_auto_start,
    maintenance_remind,
)

log = logging.getLogger(__name__)
PREFIX = "maintenance"


class Busy(Exception):
    """The maintenance is being changed right now; the row stays due."""


def maintenance_of(deadline: Deadline) -> Maintenance | None:
    """The row's maintenance, locked; None when it is gone (its rows are
    cancelled when it is deleted, so this is a row left from before)."""
    prefix, _, pk = deadline.subject.partition(":")
    if prefix != PREFIX or not pk.isdigit():
        log.error("Deadline %s has no maintenance as subject: %r.", deadline.pk, deadline.subject)
        return None
    rows = Maintenance.objects.filter(pk=int(pk))
    found = rows.select_for_update(skip_locked=True).first()
    if found is None and rows.exists():
        raise Busy(f"Maintenance {pk} is being changed; its {deadline.kind} row stays due.")
    return found


def fire_start(*, deadline: Deadline, incident, now: datetime) -> None:
    if (maintenance := maintenance_of(deadline)) is not None:
        maintenance_auto_start(maintenance=maintenance, now=now)


def fire_end(*, deadline: Deadline, incident, now: datetime) -> None:
    if (maintenance := maintenance_of(deadline)) is not None:
        maintenance_auto_complete(maintenance=maintenance, now=now)


def fire_reminder(*, deadline: Deadline, incident, now: datetime) -> None:
    if (maintenance := maintenance_of(deadline)) is not None:
        maintenance_remind(maintenance=maintenance, now=now)


def register() -> None:
    register_handler(START, fire_start)
    register_handler(END, fire_end)
    register_handler(REMIND, fire_reminder)
