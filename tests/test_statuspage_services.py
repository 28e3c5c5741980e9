"""statuspage/services/components.py: components and groups, their checks,
the status history, the audit log and the page's version."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from incidents.errors import DomainError
from incidents.models import AuditEntry
from statuspage import services
from statuspage.models import Component, ComponentStatusChange
from tests import statuspage_support as sp
from tests.statuspage_support import make_component, make_group, publish, statuses, version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
api_component = sp.api_component


def test_create_records_the_first_status_and_bumps_the_page(alice):
    before = version()
    first = make_component(alice, "API", status="partial_outage")
    second = make_component(alice, "Web")
    assert (first.position, second.position) == (1, 2)  # appended by default
    change = ComponentStatusChange.objects.get(component=first)
    assert (change.old_status, change.new_status, change.actor) == ("", "partial_outage", alice)
    assert AuditEntry.objects.filter(action="component_create").count() == 2
    assert version() == before + 2


@pytest.mark.parametrize(
    ("fields", "field", "conflict"),
    [
        ({"name": "api"}, "name", True),
        ({"name": " "}, "name", False),
        ({"name": "x" * 101}, "name", False),
        ({"status": "on_fire"}, "status", False),
        ({"position": -1}, "position", False),
        ({"position": 1_000_001}, "position", False),
        ({"position": "3"}, "position", False),
        ({"showcase": "yes"}, "showcase", False),
        ({"only_show_if_degraded": 1}, "only_show_if_degraded", False),
        ({"start_date": "2026-01-01"}, "start_date", False),
        ({"group": "core"}, "group", False),
    ],
)
def test_create_refusals(alice, api_component, fields, field, conflict):
    before = version()
    with pytest.raises(DomainError) as refused:
        services.component_create(actor=alice, **{"name": "Web", **fields})
    assert (refused.value.field, refused.value.conflict) == (field, conflict)
    assert Component.objects.count() == 1 and version() == before


def test_only_managers_edit_components(bob, vera, api_component):
    for person in (bob, vera):
        with pytest.raises(PermissionDenied):
            services.component_create(actor=person, name="Web")
        with pytest.raises(PermissionDenied):
            services.component_update(actor=person, component=api_component, name="X")
        with pytest.raises(PermissionDenied):
            services.component_delete(actor=person, component=api_component)


def test_update_saves_what_differs_and_records_a_status_change(alice, api_component):
    group = make_group(alice, "Core")
    before = version()
    updated = services.component_update(
        actor=alice,
        component=api_component,
        group=group,
        status="degraded_performance",
        start_date=date(2026, 1, 1),
    )
    assert (updated.group, updated.status, updated.start_date) == (
        group,
        "degraded_performance",
        date(2026, 1, 1),
    )
    change = ComponentStatusChange.objects.filter(component=api_component).last()
    assert (change.old_status, change.new_status) == ("operational", "degraded_performance")
    assert version() == before + 1
    audits = AuditEntry.objects.filter(action="component_update").count()
    # The same values again: nothing saved, logged or bumped.
    services.component_update(actor=alice, component=updated, name="API", group=group)
    assert AuditEntry.objects.filter(action="component_update").count() == audits
    assert version() == before + 1
    # Renaming to its own name in another case is not a clash with itself.
    assert services.component_update(actor=alice, component=updated, name="api").name == "api"


def test_set_status_by_a_responder(bob, vera, api_component):
    before = version()
    services.component_set_status(actor=bob, component=api_component, status="major_outage")
    api_component.refresh_from_db()
    assert api_component.status == "major_outage"
    change = ComponentStatusChange.objects.filter(component=api_component).last()
    assert (change.actor, change.incident, change.new_status) == (bob, None, "major_outage")
    assert version() == before + 1
    # The status it has: no change, no history row, no rebuild of the page.
    count = ComponentStatusChange.objects.count()
    services.component_set_status(actor=bob, component=api_component, status="major_outage")
    assert ComponentStatusChange.objects.count() == count and version() == before + 1
    with pytest.raises(DomainError) as refused:
        services.component_set_status(actor=bob, component=api_component, status="gone")
    assert refused.value.field == "status"
    with pytest.raises(PermissionDenied):
        services.component_set_status(actor=vera, component=api_component, status="operational")


def test_delete_is_refused_while_an_unresolved_public_incident_affects_it(
    alice, incident, api_component
):
    public = publish(incident, alice, components=statuses((api_component, "partial_outage")))
    with pytest.raises(DomainError) as refused:
        services.component_delete(actor=alice, component=api_component)
    assert refused.value.conflict and refused.value.field == "component"
    services.public_update_post(
        actor=alice, public_incident=public, status="resolved", body="Fixed."
    )
    before = version()
    services.component_delete(actor=alice, component=api_component)
    assert not Component.objects.exists() and version() == before + 1
    assert AuditEntry.objects.filter(action="component_delete").exists()


@pytest.mark.parametrize(
    ("items", "says"),
    [
        ("all", "must be a list"),
        ([["id", "status"]], "Each of components"),
        ([{"id": 7, "status": "operational"}], "Each of components"),
        ([{"id": "nosuchthing1", "status": "operational"}], "no component"),
        ([{"id": "API", "status": "fine"}], "status must be one of"),
    ],
)
def test_parse_component_statuses_refusals(api_component, items, says):
    with pytest.raises(DomainError) as refused:
        services.parse_component_statuses(items)
    assert refused.value.field == "components" and says in refused.value.message


def test_parse_component_statuses(api_component, alice):
    web = make_component(alice, "Web")
    pairs = services.parse_component_statuses(
        statuses((api_component, "major_outage"), (web, "operational"))
    )
    assert [(c.name, s) for c, s in pairs] == [("API", "major_outage"), ("Web", "operational")]
    assert services.parse_component_statuses(None) == []


def test_groups(alice, bob, api_component):
    before = version()
    core = make_group(alice, "Core")
    assert make_group(alice, "Edge").position == 2
    with pytest.raises(DomainError) as clash:
        make_group(alice, "core")
    assert clash.value.conflict and clash.value.field == "name"
    with pytest.raises(PermissionDenied):
        services.group_create(actor=bob, name="Mine")
    services.component_update(actor=alice, component=api_component, group=core)
    services.group_update(actor=alice, group=core, name="Platform", position=9)
    core.refresh_from_db()
    assert (core.name, core.position) == ("Platform", 9)
    with pytest.raises(DomainError):
        services.group_update(actor=alice, group=core, name="edge")
    services.group_delete(actor=alice, group=core)
    api_component.refresh_from_db()
    assert api_component.group is None  # its components stay, ungrouped
    assert version() == before + 5
    assert AuditEntry.objects.filter(action__startswith="group_").count() == 4
