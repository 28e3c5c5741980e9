"""Telling subscribers: one outbox row per subscriber and event, written in
the change's transaction (incidents/notify/outbox.py) and sent after commit
by the senders registered in ``StatuspageConfig.ready`` (statuspage/delivery.py).

Who is told: every confirmed subscriber whose choice matches the change.
A subscriber with no components and no groups gets everything; one with a
group gets its components as they are when the change happens (a component
added to the group later is included). An incident or maintenance that names
no component concerns everyone.

What a row holds: a snapshot of **public** data only, in Statuspage's shapes
(the v2 JSON's incident, update and component; the page's indicator), taken
when the row is written — never the internal incident's. The row is not
linked to the internal incident either (``incident=None``): the incident's
own notification list and its email cap are about responders, not customers.

Idempotency: a row's key is the event and the subscriber, so the same event
seen twice (a public update posted through two paths) tells each once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import sha256

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from incidents import clock
from incidents.models import NotificationStatus
from incidents.notify.outbox import dispatch_on_commit, write_row

from ..models import (
    UNRESOLVED,
    Component,
    ComponentStatusChange,
    Maintenance,
    MaintenanceStatus,
    PublicIncident,
    PublicUpdate,
    Subscriber,
    SubscriberDelivery,
)
from ..selectors import overall
from .subscribers import MESSAGE_KIND, page_path, public_url, unsubscribe_url

# The statuses' words in mail subjects.
STATUS_LABEL = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "postmortem": "Postmortem",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "verifying": "Verifying",
    "completed": "Completed",
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}


# --- the public shapes (Statuspage's v2 JSON) -----------------------------------------


def page_id() -> str:
    """The page's id in the JSON (Statuspage's ``page.id``): stable for a host."""
    configured = getattr(settings, "STATUS_PAGE_ID", "")
    if configured:
        return configured
    return sha256(settings.STATUS_PAGE_HOST.encode()).hexdigest()[:12]


def page_name() -> str:
    return getattr(settings, "STATUS_PAGE_NAME", "") or "TreeBeard"


def stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def component_json(component: Component) -> dict:
    return {
        "id": component.code,
        "page_id": page_id(),
        "group_id": component.group.code if component.group_id else None,
        "name": component.name,
        "description": component.description or None,
        "position": component.position,
        "status": component.status,
        "showcase": component.showcase,
        "only_show_if_degraded": component.only_show_if_degraded,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "created_at": stamp(component.created_at),
        "updated_at": stamp(component.updated_at),
        "group": False,
    }


def update_json(update: PublicUpdate, parent_code: str) -> dict:
    return {
        "id": update.code,
        "incident_id": parent_code,
        "status": update.status,
        "body": update.body,
        "created_at": stamp(update.created_at),
        "updated_at": stamp(update.updated_at),
        "display_at": stamp(update.display_at),
        "affected_components": [
            {key: item.get(key) for key in ("code", "name", "old_status", "new_status")}
            for item in update.affected_components or []
        ],
    }


def _components_of(row) -> list[Component]:
    return list(row.components.select_related("group").order_by("position", "name"))


def incident_json(public: PublicIncident) -> dict:
    """A public incident as Statuspage's v2 JSON shows it."""
    return {
        "id": public.code,
        "name": public.name,
        "status": public.status,
        "impact": public.impact,
        "created_at": stamp(public.created_at),
        "updated_at": stamp(public.updated_at),
        "started_at": stamp(public.started_at),
        "monitoring_at": stamp(public.monitoring_at),
        "resolved_at": stamp(public.resolved_at),
        "shortlink": public_url(page_path("incident", code=public.code)),
        "page_id": page_id(),
        "incident_updates": [
            update_json(u, public.code) for u in public.updates.order_by("-display_at", "-id")
        ],
        "components": [component_json(c) for c in _components_of(public)],
    }


def maintenance_json(maintenance: Maintenance) -> dict:
    """A maintenance as Statuspage's v2 JSON shows it (an incident with
    ``scheduled_for`` / ``scheduled_until``)."""
    return {
        "id": maintenance.code,
        "name": maintenance.name,
        "status": maintenance.status,
        "impact": maintenance.impact,
        "created_at": stamp(maintenance.created_at),
        "updated_at": stamp(maintenance.updated_at),
        "started_at": stamp(maintenance.started_at or maintenance.scheduled_for),
        "monitoring_at": None,
        "resolved_at": stamp(maintenance.resolved_at),
        "shortlink": public_url(page_path("incident", code=maintenance.code)),
        "page_id": page_id(),
        "scheduled_for": stamp(maintenance.scheduled_for),
        "scheduled_until": stamp(maintenance.scheduled_until),
        "incident_updates": [
            update_json(u, maintenance.code)
            for u in maintenance.updates.order_by("-display_at", "-id")
        ],
        "components": [component_json(c) for c in _components_of(maintenance)],
    }


def page_json() -> dict:
    """The page's indicator now (after the change, in its transaction)."""
    components = list(Component.objects.only("status"))
    open_incidents = list(PublicIncident.objects.filter(status__in=UNRESOLVED).only("impact"))
    in_progress = Maintenance.objects.filter(
        status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]
    ).exists()
    status = overall(components, open_incidents, maintenance_in_progress=in_progress)
    return {
        "id": page_id(),
        "name": page_name(),
        "url": public_url("/"),
        "status_indicator": status.indicator,
        "status_description": status.description,
    }


# --- who is told -----------------------------------------------------------------------


def subscribers_for(component_ids: set[int] | None):
    """Confirmed subscribers whose choice matches a change of these
    components (None or empty: a change that names none, told to everyone)."""
    subscribers = Subscriber.objects.filter(confirmed_at__isnull=False).order_by("id")
    if not component_ids:
        return subscribers
    chosen = Subscriber.components.through.objects.filter(subscriber=OuterRef("pk"))
    grouped = Subscriber.groups.through.objects.filter(subscriber=OuterRef("pk"))
    group_ids = set(
        Component.objects.filter(pk__in=component_ids, group__isnull=False).values_list(
            "group_id", flat=True
        )
    )
    everything = ~Exists(chosen) & ~Exists(grouped)
    by_component = Exists(chosen.filter(component_id__in=component_ids))
    by_group = Exists(grouped.filter(componentgroup_id__in=group_ids))
    return subscribers.filter(Q(everything) | Q(by_component) | Q(by_group))


def _fan_out(*, about: str, event: str, component_ids: set[int] | None, context: dict) -> int:
    """One row per matching subscriber (key: ``about`` and the subscriber),
    its delivery log entry, and the rows handed to Celery after commit."""
    now = clock.now()
    rows = []
    for subscriber in subscribers_for(component_ids):
        row = write_row(
            key=f"status:{about}:{subscriber.code}",
            incident=None,
            event=None,
            transport=subscriber.kind,
            target=subscriber.destination,
            message_kind=MESSAGE_KIND[subscriber.kind],
            context={
                **context,
                "subscriber": subscriber.code,
                "unsubscribe_url": unsubscribe_url(subscriber),
                "manage_url": public_url(page_path("subscribe")),
            },
            status=NotificationStatus.PENDING,
            now=now,
        )
        if row is None:  # this event was told to this subscriber already
            continue
        SubscriberDelivery.objects.create(subscriber=subscriber, notification=row, event=event)
        rows.append(row)
    dispatch_on_commit(rows)
    return len(rows)


def _label(status: str) -> str:
    return STATUS_LABEL.get(status, status.replace("_", " ").capitalize())


def _affected_ids(update: PublicUpdate, parent) -> set[int]:
    ids = set(parent.components.values_list("pk", flat=True))
    codes = [a.get("code") for a in update.affected_components or [] if isinstance(a, dict)]
    if codes:
        ids |= set(Component.objects.filter(code__in=codes).values_list("pk", flat=True))
    return ids


# --- the three events ------------------------------------------------------------------


def incident_updated(*, update: PublicUpdate) -> int:
    """A public incident update was posted (or a post-mortem summary): tell
    the subscribers of its components. Returns how many rows were written."""
    if update.incident_id is None:
        if update.maintenance_id is not None:
            return maintenance_event(maintenance=update.maintenance, update=update, event="updated")
        return 0
    public = update.incident
    incident = incident_json(public)
    context = {
        "template": "incident",
        "event": "incident.update",
        "page": page_json(),
        "incident": incident,
        "subject": f"{public.name}: {_label(update.status)}",
        "status_label": _label(update.status),
        "body": update.body,
        "url": incident["shortlink"],
    }
    return _fan_out(
        about=f"update:{update.code}",
        event="incident.update",
        component_ids=_affected_ids(update, public),
        context=context,
    )


def component_changed(*, component: Component, old_status: str) -> int:
    """A component's status changed (by hand, or by a maintenance): tell the
    subscribers of the component or its group."""
    change = (
        ComponentStatusChange.objects.filter(component=component).order_by("-at", "-id").first()
    )
    at = change.at if change else clock.now()
    change_id = str(change.pk) if change else f"{component.code}-{at.timestamp():.0f}"
    component = Component.objects.select_related("group").get(pk=component.pk)
    context = {
        "template": "component",
        "event": "component.update",
        "page": page_json(),
        "component": component_json(component),
        "component_update": {
            "created_at": stamp(at),
            "new_status": component.status,
            "old_status": old_status,
            "id": change_id,
            "component_id": component.code,
            "component_type": "Component",
        },
        "subject": f"{component.name}: {_label(component.status)}",
        "old_label": _label(old_status) if old_status else "",
        "new_label": _label(component.status),
        "url": public_url(page_path("home")),
    }
    return _fan_out(
        about=f"component:{change_id}",
        event="component.update",
        component_ids={component.pk},
        context=context,
    )


def maintenance_event(*, maintenance: Maintenance, update: PublicUpdate | None, event: str) -> int:
    """A maintenance was scheduled, started, completed, or a reminder is due
    (``event``): tell the subscribers of its components."""
    data = maintenance_json(maintenance)
    body = update.body if update is not None else ""
    context = {
        "template": "maintenance",
        "event": f"maintenance.{event}",
        "page": page_json(),
        "incident": data,
        "subject": f"{maintenance.name}: {_label(maintenance.status)}",
        "status_label": _label(maintenance.status),
        "maintenance_event": event,
        "body": body,
        "url": data["shortlink"],
    }
    # Keyed by the update when there is one: the same update announced by
    # two paths (this and ``incident_updated``) is told once.
    if update is not None:
        about = f"update:{update.code}"
    else:
        about = f"maintenance:{maintenance.code}:{event}"
    component_ids = set(maintenance.components.values_list("pk", flat=True))
    return _fan_out(
        about=about,
        event=f"maintenance.{event}"[:40],
        component_ids=component_ids,
        context=context,
    )
