"""Helpers for the scheduled-maintenance tests (tests/test_statuspage_maintenance*.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from incidents.models import Deadline
from statuspage import services
from statuspage.models import Component, Maintenance
from statuspage.services import maintenance as maintenance_module
from statuspage.services.page import current

HOUR = timedelta(hours=1)


def component(actor, name: str, **fields) -> Component:
    return services.component_create(actor=actor, name=name, **fields)


def schedule(actor, start: datetime, *, hours: float = 2, components=(), **fields) -> Maintenance:
    """A maintenance from ``start`` lasting ``hours``."""
    fields.setdefault("name", "Database upgrade")
    fields.setdefault("message", "We are upgrading the primary database.")
    return services.maintenance_schedule(
        actor=actor,
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=hours),
        components=components,
        **fields,
    )


def rows(maintenance: Maintenance, *, pending: bool = True) -> dict[str, datetime]:
    """``{kind: due_at}`` of the maintenance's deadline rows still to fire."""
    found = Deadline.objects.filter(subject=f"maintenance:{maintenance.pk}", incident=None)
    if pending:
        found = found.pending().filter(fired_at__isnull=True)
    return {row.kind: row.due_at for row in found}


def version() -> int:
    return current().version


def statuses(*components: Component) -> list[str]:
    return [Component.objects.get(pk=c.pk).status for c in components]


class Events:
    """Records the calls of the subscriber interface (``maintenance_event``),
    passing each on to the real fan-out."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, str, str | None]] = []
        real = maintenance_module.maintenance_event

        def record(*, maintenance, update, event):
            self.calls.append((maintenance.name, event, update.status if update else None))
            return real(maintenance=maintenance, update=update, event=event)

        monkeypatch.setattr(maintenance_module, "maintenance_event", record)

    @property
    def kinds(self) -> list[str]:
        return [event for _, event, _ in self.calls]
