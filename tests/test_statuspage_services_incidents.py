"""statuspage/services/incidents.py: publishing an incident, its public
updates (stage times, components, resolving and reopening), renaming, the
post-mortem summary, and that nothing internal reaches a public row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from incidents import clock
from incidents import services as incident_services
from incidents.errors import DomainError
from incidents.models import EventKind, TimelineEvent
from statuspage import services
from statuspage.models import (
    ComponentStatusChange,
    PublicIncident,
    PublicUpdate,
)
from tests import factories
from tests import statuspage_support as sp
from tests.statuspage_support import make_component, publish, statuses, version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
api_component, web_component, published = sp.api_component, sp.web_component, sp.published

SECRET = "S3CRET-internal"


def post(public, actor, status, body="An update.", components=None):
    return services.public_update_post(
        actor=actor, public_incident=public, status=status, body=body, components=components
    )


def status_of(component) -> str:
    component.refresh_from_db()
    return component.status


# --- publishing --------------------------------------------------------------------------


def test_publish_makes_the_public_incident_and_its_first_update(alice, bob, api_component):
    incident = factories.declare(
        actor=bob,
        title=f"title {SECRET}",
        summary=f"summary {SECRET}",
        impact=f"impact {SECRET}",
    )
    before = version()
    public = publish(
        incident,
        alice,
        title="Checkout errors",
        impact="minor",
        components=statuses((api_component, "partial_outage")),
    )
    assert (public.name, public.impact, public.status) == (
        "Checkout errors",
        "minor",
        "investigating",
    )
    assert (public.started_at, public.published_by) == (incident.detected_at, alice)
    update = public.updates.get()
    assert (update.status, update.author, update.source_update_id) == ("investigating", alice, None)
    assert update.affected_components == [
        {
            "code": api_component.code,
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert list(public.components.all()) == [api_component]
    assert status_of(api_component) == "partial_outage"
    change = ComponentStatusChange.objects.filter(component=api_component).last()
    assert (change.incident, change.actor, change.new_status) == (public, alice, "partial_outage")
    event = TimelineEvent.objects.get(incident=incident, kind=EventKind.PUBLISHED)
    assert event.detail == {"public_incident": public.code, "public_update": update.code}
    assert version() > before
    # Nothing internal in any public row: not the title, summary, impact or ref.
    rows = [
        *PublicIncident.objects.values(),
        *PublicUpdate.objects.values(),
        *ComponentStatusChange.objects.values(),
    ]
    assert SECRET not in repr(rows) and incident.ref not in repr(rows)


def test_publish_starts_at_the_internal_incident_s_stage(alice, bob):
    incident = factories.declare(actor=bob)
    incident_services.incident_change_status(incident=incident, actor=bob, status="identified")
    assert publish(incident, alice).status == "identified"


def test_the_comms_lead_and_the_commander_publish(alice, bob, incident):
    carol = factories.responder("carol")
    with pytest.raises(PermissionDenied):
        publish(incident, carol)
    with pytest.raises(PermissionDenied):
        publish(incident, factories.viewer("val"))
    sp.make_comms_lead(incident, carol, by=alice)
    assert publish(incident, carol).published_by == carol
    other = factories.declare(actor=bob)
    incident_services.incident_assign_role(
        incident=other, actor=alice, role="commander", user=carol
    )
    assert publish(other, carol)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"impact": "huge"}, "impact"),
        ({"message": "  "}, "message"),
        ({"components": [{"id": "nosuchthing1", "status": "major_outage"}]}, "components"),
    ],
)
def test_publish_refusals_write_nothing(alice, incident, api_component, fields, field):
    before = version()
    with pytest.raises(DomainError) as refused:
        publish(incident, alice, **fields)
    assert refused.value.field == field
    assert not PublicIncident.objects.exists() and not PublicUpdate.objects.exists()
    assert not TimelineEvent.objects.filter(kind=EventKind.PUBLISHED).exists()
    assert version() == before


def test_drills_and_second_publications_are_conflicts(alice, bob, published):
    with pytest.raises(DomainError) as twice:
        publish(published.incident, alice)
    assert twice.value.conflict
    drill = factories.declare(actor=bob, is_drill=True)
    with pytest.raises(DomainError) as refused:
        publish(drill, alice)
    assert refused.value.conflict and refused.value.field == "is_drill"
    assert PublicIncident.objects.count() == 1


# --- public updates ----------------------------------------------------------------------


def test_stage_times(alice, published, later):
    later(minutes=10)
    post(published, alice, "identified")
    published.refresh_from_db()
    assert published.monitoring_at is None and published.resolved_at is None
    first = later(minutes=5)
    post(published, alice, "monitoring")
    later(minutes=5)
    post(published, alice, "monitoring", "Still watching.")
    published.refresh_from_db()
    assert published.monitoring_at == first  # the first time it was monitored
    done = later(minutes=5)
    post(published, alice, "resolved")
    published.refresh_from_db()
    assert (published.status, published.resolved_at, published.updated_at) == (
        "resolved",
        done,
        done,
    )
    assert [u.status for u in published.updates.all()] == [
        "resolved",
        "monitoring",
        "monitoring",
        "identified",
        "investigating",
    ]


@pytest.mark.parametrize("again", ["investigating", "identified", "monitoring"])
def test_a_resolved_incident_reopens(alice, published, again):
    post(published, alice, "resolved")
    post(published, alice, again, "It is back.")
    published.refresh_from_db()
    assert published.status == again and published.resolved_at is None
    assert published.is_open


def test_resolving_restores_what_this_incident_degraded(
    alice, bob, published, api_component, web_component
):
    # web is degraded by this incident, then by another open one too.
    post(published, alice, "identified", components=statuses((web_component, "partial_outage")))
    other = publish(
        factories.declare(actor=bob, title="Other"),
        alice,
        components=statuses((web_component, "degraded_performance")),
    )
    db = make_component(alice, "Database", status="major_outage")  # set by hand, not ours
    before = version()
    post(published, alice, "resolved", "All good.")
    assert status_of(api_component) == "operational"
    assert status_of(web_component) == "degraded_performance"  # the other still affects it
    assert status_of(db) == "major_outage"
    update = published.updates.first()
    assert update.affected_components == [
        {
            "code": api_component.code,
            "name": "API",
            "old_status": "major_outage",
            "new_status": "operational",
        }
    ]
    restore = ComponentStatusChange.objects.filter(component=api_component).last()
    assert (restore.incident, restore.new_status) == (published, "operational")
    assert version() == before + 1
    # When the other resolves, web goes back too.
    post(other, alice, "resolved")
    assert status_of(web_component) == "operational"


def test_resolving_keeps_what_the_update_sets_and_maintenance(
    alice, published, api_component, web_component
):
    post(published, alice, "identified", components=statuses((web_component, "partial_outage")))
    services.component_set_status(actor=alice, component=web_component, status="under_maintenance")
    post(
        published,
        alice,
        "resolved",
        components=statuses((api_component, "degraded_performance")),
    )
    assert status_of(api_component) == "degraded_performance"  # as the update said
    assert status_of(web_component) == "under_maintenance"  # not this incident's to end


def test_update_refusals(alice, bob, published, api_component):
    before = (version(), PublicUpdate.objects.count())
    for status, body, field in [
        ("postmortem", "x", "status"),
        ("fixed", "x", "status"),
        ("identified", "", "body"),
        ("identified", "x" * 10_001, "body"),
    ]:
        with pytest.raises(DomainError) as refused:
            post(published, alice, status, body)
        assert refused.value.field == field
    with pytest.raises(DomainError):
        post(published, alice, "identified", components=[{"id": api_component.code}])
    with pytest.raises(PermissionDenied):
        post(published, bob, "identified")  # a responder without a role on it
    assert (version(), PublicUpdate.objects.count()) == before
    published.refresh_from_db()
    assert published.status == "investigating"
    assert status_of(api_component) == "major_outage"


def test_every_update_bumps_the_page(alice, published):
    for status in ("identified", "monitoring", "resolved"):
        before = version()
        post(published, alice, status)
        assert version() == before + 1


def test_rename_and_impact(alice, bob, published):
    before = version()
    services.public_incident_update(
        actor=alice, public_incident=published, name="Payments", impact="critical"
    )
    published.refresh_from_db()
    assert (published.name, published.impact) == ("Payments", "critical")
    assert version() == before + 1
    with pytest.raises(DomainError) as refused:
        services.public_incident_update(actor=alice, public_incident=published, impact="big")
    assert refused.value.field == "impact"
    with pytest.raises(DomainError):
        services.public_incident_update(actor=alice, public_incident=published, name=" ")
    with pytest.raises(PermissionDenied):
        services.public_incident_update(actor=bob, public_incident=published, name="Mine")
    assert version() == before + 1


def test_postmortem_summary(alice, published, later):
    post(published, alice, "resolved")
    published.refresh_from_db()
    resolved_at = published.resolved_at
    later(days=2)
    update = services.public_postmortem_attach(
        public_incident=published, summary="A bad deploy; we now canary."
    )
    published.refresh_from_db()
    assert (published.status, published.resolved_at) == ("postmortem", resolved_at)
    assert (update.status, update.body) == ("postmortem", "A bad deploy; we now canary.")
    assert update.display_at == clock.now() == resolved_at + timedelta(days=2)
    with pytest.raises(DomainError):
        services.public_postmortem_attach(public_incident=published, summary="")


# --- through the internal incident (incidents/publication.py) -------------------------------


def test_a_public_internal_update_becomes_a_public_update(alice, published, api_component):
    update = incident_services.incident_post_update(
        incident=published.incident,
        actor=alice,
        message="Fix deployed.",
        status="monitoring",
        visibility="public",
        components=statuses((api_component, "degraded_performance")),
    )
    public = published.updates.first()
    assert (public.status, public.body, public.source_update_id) == (
        "monitoring",
        "Fix deployed.",
        update.pk,
    )
    published.refresh_from_db()
    assert published.status == "monitoring" and published.monitoring_at is not None
    assert status_of(api_component) == "degraded_performance"


def test_an_internal_update_stays_internal(alice, published):
    incident_services.incident_post_update(
        incident=published.incident, actor=alice, message=f"Note {SECRET}"
    )
    assert published.updates.count() == 1
    assert SECRET not in repr(list(PublicUpdate.objects.values()))


def test_components_before_publishing_are_a_conflict(alice, incident, api_component):
    with pytest.raises(DomainError) as refused:
        incident_services.incident_post_update(
            incident=incident,
            actor=alice,
            message="Down",
            visibility="public",
            components=statuses((api_component, "major_outage")),
        )
    assert refused.value.conflict and refused.value.field == "components"
    assert status_of(api_component) == "operational"
    assert not incident.updates.exists()
