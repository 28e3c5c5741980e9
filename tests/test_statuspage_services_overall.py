"""The page's overall indicator and description (statuspage/selectors.py
``overall``, Statuspage's ``status``), for every case, and as ``page_data``
derives it from the stored components, open incidents and maintenance."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations
from types import SimpleNamespace

import pytest

from incidents import clock
from statuspage import services
from statuspage.models import Maintenance
from statuspage.selectors import Indicator, overall, page_data
from tests import factories
from tests.statuspage_support import make_component, publish, statuses

OPERATIONAL = Indicator("none", "All Systems Operational")


def parts(*statuses):
    return [SimpleNamespace(status=s) for s in statuses]


def incidents(*impacts):
    return [SimpleNamespace(impact=i) for i in impacts]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("operational", OPERATIONAL),
        ("under_maintenance", Indicator("maintenance", "Service Under Maintenance")),
        ("degraded_performance", Indicator("minor", "Partially Degraded Service")),
        ("partial_outage", Indicator("minor", "Minor Service Outage")),
        ("major_outage", Indicator("major", "Partial System Outage")),
    ],
)
def test_each_component_status(status, expected):
    assert overall(parts("operational", status), []) == expected


def test_no_components_and_nothing_open():
    assert overall([], []) == OPERATIONAL


def test_every_component_in_a_major_outage_is_critical():
    assert overall(parts("major_outage", "major_outage"), []) == Indicator(
        "critical", "Major System Outage"
    )
    # One component alone is a major outage, not the whole system's.
    assert overall(parts("major_outage"), []).indicator == "major"
    assert overall(parts("major_outage", "partial_outage"), []).indicator == "major"


def test_the_worst_component_says_it_in_any_order():
    for order in permutations(["degraded_performance", "partial_outage", "operational"]):
        assert overall(parts(*order), []) == Indicator("minor", "Minor Service Outage")
    for order in permutations(["under_maintenance", "major_outage", "degraded_performance"]):
        assert overall(parts(*order), []).indicator == "major"


@pytest.mark.parametrize(
    ("impact", "expected"),
    [
        ("none", OPERATIONAL),
        ("minor", Indicator("minor", "Minor Service Outage")),
        ("major", Indicator("major", "Partial System Outage")),
        ("critical", Indicator("critical", "Major System Outage")),
    ],
)
def test_open_incident_impacts(impact, expected):
    assert overall(parts("operational"), incidents(impact)) == expected


def test_the_most_serious_wins():
    assert overall(parts("degraded_performance"), incidents("critical")).indicator == "critical"
    assert overall(parts("major_outage"), incidents("minor")).indicator == "major"
    assert overall(parts("operational"), incidents("minor", "major", "none")).indicator == "major"
    # An incident as serious as the components does not reword their description.
    assert overall(parts("degraded_performance"), incidents("minor")) == Indicator(
        "minor", "Partially Degraded Service"
    )


def test_maintenance_only_when_nothing_is_worse():
    maintenance = Indicator("maintenance", "Service Under Maintenance")
    assert overall(parts("operational"), [], maintenance_in_progress=True) == maintenance
    assert overall(parts("under_maintenance"), incidents("none")) == maintenance
    assert overall(parts("partial_outage"), [], maintenance_in_progress=True).indicator == "minor"
    assert overall(parts("under_maintenance"), incidents("minor")).indicator == "minor"
    assert overall([], incidents("major"), maintenance_in_progress=True).indicator == "major"


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_page_data_derives_it_from_the_stored_page(alice, bob):
    api = make_component(alice, "API")
    make_component(alice, "Web")
    assert page_data().status == OPERATIONAL
    now = clock.now()
    work = Maintenance.objects.create(
        name="Upgrade",
        status="in_progress",
        scheduled_for=now,
        scheduled_until=now + timedelta(hours=1),
        created_at=now,
        updated_at=now,
    )
    assert page_data().status.indicator == "maintenance"
    public = publish(
        factories.declare(actor=bob),
        alice,
        impact="minor",
        components=statuses((api, "major_outage")),
    )
    assert page_data().status == Indicator("major", "Partial System Outage")
    services.public_update_post(actor=alice, public_incident=public, status="resolved", body="ok")
    # Resolved: its impact no longer counts and API is back; the maintenance remains.
    assert page_data().status.indicator == "maintenance"
    work.status = "completed"
    work.save(update_fields=["status"])
    assert page_data().status == OPERATIONAL
