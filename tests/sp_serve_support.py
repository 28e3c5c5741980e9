"""The serving side of the status page (statuspage/cache.py, the v2 JSON):
a page with something of every kind on it, and the Statuspage samples."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from incidents import clock
from statuspage.models import Maintenance, MaintenanceStatus, PublicUpdate
from statuspage.services.components import component_create, group_create
from statuspage.services.incidents import incident_publish, public_update_post
from statuspage.services.page import page_changed
from tests import factories

STATUS = "status.treebeard.com"
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "statuspage"
ENDPOINTS = {
    "summary.json": "docs_example_summary.json",
    "status.json": "docs_example_status.json",
    "components.json": "docs_example_components.json",
    "incidents.json": "docs_example_incidents.json",
    "incidents/unresolved.json": "docs_example_incidents_unresolved.json",
    "scheduled-maintenances.json": "docs_example_scheduled_maintenances.json",
    "scheduled-maintenances/upcoming.json": "docs_example_scheduled_maintenances_upcoming.json",
    "scheduled-maintenances/active.json": "docs_example_scheduled_maintenances_active.json",
}
SECRET = "SECRET-internal-7f3a"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def maintenance(*, name: str, status: str, starts_in: timedelta, components=(), body: str):
    """A maintenance row and its first update, written directly (its
    services are another part's); then the page moves on."""
    now = clock.now()
    row = Maintenance.objects.create(
        name=name,
        status=status,
        scheduled_for=now + starts_in,
        scheduled_until=now + starts_in + timedelta(hours=2),
        created_at=now,
        updated_at=now,
        started_at=now if status != MaintenanceStatus.SCHEDULED else None,
    )
    row.components.add(*components)
    PublicUpdate.objects.create(
        maintenance=row,
        status=status,
        body=body,
        created_at=now,
        updated_at=now,
        display_at=now,
    )
    page_changed()
    return row


def full_page(manager, responder) -> dict:
    """Components (one group of two, one alone), an open incident that
    degraded one of them, a resolved one, an upcoming and an active
    maintenance. The internal incidents carry SECRET in every field."""
    api = group_create(actor=manager, name="API", description="The public API")
    web = component_create(actor=manager, name="Website", description="")
    rest = component_create(actor=manager, name="REST", group=api, description="JSON over HTTP")
    hooks = component_create(actor=manager, name="Webhooks", group=api)
    internal = {"title": SECRET, "summary": SECRET, "impact": SECRET, "services": [SECRET]}
    open_one = incident_publish(
        actor=manager,
        incident=factories.declare(actor=responder, **internal),
        title="Slow API responses",
        impact="minor",
        message="We are investigating slow responses.",
        components=[{"id": rest.code, "status": "degraded_performance"}],
    )
    old = incident_publish(
        actor=manager,
        incident=factories.declare(actor=responder, **internal),
        title="Webhooks delayed",
        impact="major",
        message="Webhooks are delayed.",
        components=[{"id": hooks.code, "status": "partial_outage"}],
    )
    public_update_post(actor=manager, public_incident=old, status="resolved", body="All caught up.")
    upcoming = maintenance(
        name="Database upgrade",
        status=MaintenanceStatus.SCHEDULED,
        starts_in=timedelta(days=2),
        components=[web],
        body="We will upgrade the database.",
    )
    active = maintenance(
        name="Network work",
        status=MaintenanceStatus.IN_PROGRESS,
        starts_in=timedelta(minutes=-10),
        components=[hooks],
        body="In progress.",
    )
    return {
        "group": api,
        "web": web,
        "rest": rest,
        "hooks": hooks,
        "open": open_one,
        "resolved": old,
        "upcoming": upcoming,
        "active": active,
    }
