"""A status page with a history, for the public pages' tests and screenshots:
components in a group and on their own, an open incident, resolved ones in
the past weeks, maintenance done and maintenance ahead.

Everything goes through the status page's services (at past moments with
``clock.frozen``), except maintenance rows, whose services are another
part's: they are written directly, with the status changes they make.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents import clock
from statuspage import services
from statuspage.models import ComponentStatusChange, Maintenance, MaintenanceStatus, PublicUpdate
from tests import factories

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
STATUS = "status.treebeard.com"
# Planted in every internal field: none of it may reach a public page.
SECRET = "s3cr3t-internal-9f2"


def declare(actor, title: str):
    return factories.declare(
        actor=actor,
        title=f"{title} {SECRET}",
        summary=f"summary {SECRET}",
        impact=f"impact {SECRET}",
    )


def publish(actor, *, title: str, impact: str, message: str, components=None, internal=None):
    internal = internal or declare(actor, title)
    return services.incident_publish(
        actor=actor,
        incident=internal,
        title=title,
        impact=impact,
        message=message,
        components=components,
    )


def maintenance(
    *,
    name: str,
    start: datetime,
    end: datetime,
    components=(),
    status: str = MaintenanceStatus.SCHEDULED,
    counts_as_downtime: bool = False,
    message: str = "",
    announced: datetime | None = None,
) -> Maintenance:
    work = Maintenance.objects.create(
        name=name,
        status=status,
        scheduled_for=start,
        scheduled_until=end,
        counts_as_downtime=counts_as_downtime,
        created_at=announced or start - timedelta(days=2),
        updated_at=announced or start - timedelta(days=2),
        started_at=start if status != MaintenanceStatus.SCHEDULED else None,
        resolved_at=end if status == MaintenanceStatus.COMPLETED else None,
    )
    work.components.set(components)
    if message:
        at = work.resolved_at or work.created_at
        PublicUpdate.objects.create(
            maintenance=work,
            status=status,
            body=message,
            created_at=at,
            updated_at=at,
            display_at=at,
        )
    return work


def maintenance_window(work: Maintenance, component, *, status_after: str = "operational") -> None:
    """The status changes a maintenance makes while it runs."""
    ComponentStatusChange.objects.create(
        component=component,
        old_status=component.status,
        new_status="under_maintenance",
        at=work.scheduled_for,
        maintenance=work,
    )
    ComponentStatusChange.objects.create(
        component=component,
        old_status="under_maintenance",
        new_status=status_after,
        at=work.scheduled_until,
        maintenance=work,
    )


def seed(alice, *, now: datetime = T0) -> dict:
    """The demo status page at ``now``: returns its objects by name."""
    created = now - timedelta(days=120)
    with clock.frozen(created):
        platform = services.group_create(actor=alice, name="Platform")
        api = services.component_create(
            actor=alice, name="API", group=platform, description="REST API and webhooks"
        )
        dashboard = services.component_create(actor=alice, name="Dashboard", group=platform)
        website = services.component_create(actor=alice, name="Website")
    with clock.frozen(now - timedelta(days=40)):
        search = services.component_create(actor=alice, name="Search", group=platform)

    # Resolved incidents in the past weeks.
    with clock.frozen(now - timedelta(days=3, hours=4)):
        old = publish(
            alice,
            title="Slow dashboard loading",
            impact="minor",
            message="Pages take several seconds to load; we are looking into it.",
            components=[{"id": dashboard.code, "status": "degraded_performance"}],
        )
    with clock.frozen(now - timedelta(days=3, hours=3)):
        services.public_update_post(
            actor=alice,
            public_incident=old,
            status="resolved",
            body="A database index was rebuilt; pages load normally again.",
        )
    with clock.frozen(now - timedelta(days=20, hours=2)):
        outage = publish(
            alice,
            title="API unavailable",
            impact="critical",
            message="Every API request fails with 503.",
            components=[{"id": api.code, "status": "major_outage"}],
        )
    with clock.frozen(now - timedelta(days=20, hours=1)):
        services.public_update_post(
            actor=alice,
            public_incident=outage,
            status="resolved",
            body="A failed deploy was rolled back.",
        )

    # Maintenance: one done (counted as downtime), one ahead.
    done = maintenance(
        name="Database upgrade",
        start=now - timedelta(days=8, hours=2),
        end=now - timedelta(days=8),
        components=[api],
        status=MaintenanceStatus.COMPLETED,
        counts_as_downtime=True,
        message="The upgrade is complete; the API is back in service.",
    )
    maintenance_window(done, api)
    ahead = maintenance(
        name="Search cluster migration",
        start=now + timedelta(days=2),
        end=now + timedelta(days=2, hours=2),
        components=[search],
        message="Search may return partial results for up to two hours.",
        announced=now - timedelta(days=1),
    )

    # The open incident, now.
    with clock.frozen(now - timedelta(minutes=50)):
        current = publish(
            alice,
            title="Elevated API error rates",
            impact="major",
            message="Some API requests fail with 502 errors. We are investigating.",
            components=[{"id": api.code, "status": "partial_outage"}],
        )
    with clock.frozen(now - timedelta(minutes=20)):
        services.public_update_post(
            actor=alice,
            public_incident=current,
            status="identified",
            body="A faulty load balancer node was identified and is being replaced.",
        )
    return {
        "platform": platform,
        "api": api,
        "dashboard": dashboard,
        "website": website,
        "search": search,
        "old": old,
        "outage": outage,
        "current": current,
        "done": done,
        "ahead": ahead,
    }
