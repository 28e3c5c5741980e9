"""Scheduled maintenance moved on by the engine: the sweep fires its rows
(reminder, start, end) at their times, once each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents.engine import sla
from incidents.models import Deadline
from statuspage import services
from statuspage.engine import Busy, maintenance_of
from statuspage.models import ComponentStatus, ComponentStatusChange, Maintenance
from statuspage.services.maintenance import COMPLETED_BODY, END, REMIND, START, STARTED_BODY
from tests.engine_support import T0
from tests.sp_maint_support import HOUR, Events, component, rows, schedule, statuses, version

pytestmark = pytest.mark.django_db

UM = ComponentStatus.UNDER_MAINTENANCE
OK = ComponentStatus.OPERATIONAL
SECOND = timedelta(seconds=1)
START_AT = T0 + 24 * HOUR
END_AT = START_AT + 2 * HOUR


@pytest.fixture
def web(alice):
    return component(alice, "Website")


@pytest.fixture
def api_component(alice):
    return component(alice, "API", status=ComponentStatus.DEGRADED_PERFORMANCE)


@pytest.fixture
def events(monkeypatch):
    return Events(monkeypatch)


@pytest.fixture
def upcoming(frozen, bob, web, api_component):
    return schedule(bob, START_AT, components=[web, api_component])


def sweep_at(frozen, moment) -> int:
    frozen.move_to(moment, tick=False)
    return sla.sweep()


def test_the_handlers_are_registered():
    assert {START, END, REMIND} <= set(sla.HANDLERS)


def test_a_whole_maintenance_by_the_engine(upcoming, frozen, web, api_component, events):
    # Nothing is due before the reminder.
    assert sweep_at(frozen, START_AT - HOUR - SECOND) == 0

    # The reminder, an hour before: subscribers told, nothing public changes.
    before = version()
    assert sweep_at(frozen, START_AT - HOUR) == 1
    assert events.calls == [("Database upgrade", "reminder", "scheduled")]
    assert version() == before and upcoming.updates.count() == 1

    # The start: in progress, its components under maintenance.
    assert sweep_at(frozen, START_AT) == 1
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.started_at) == ("in_progress", START_AT)
    assert statuses(web, api_component) == [UM, UM]
    started = upcoming.updates.first()
    assert (started.status, started.body, started.author) == ("in_progress", STARTED_BODY, None)
    assert {(a["code"], a["old_status"], a["new_status"]) for a in started.affected_components} == {
        (web.code, OK, UM),
        (api_component.code, "degraded_performance", UM),
    }
    changes = ComponentStatusChange.objects.filter(maintenance=upcoming, new_status=UM)
    assert {c.component_id for c in changes} == {web.pk, api_component.pk}
    assert all(c.at == START_AT and c.actor is None for c in changes)
    assert version() == before + 1

    # The end: completed, each component back to what it was.
    assert sweep_at(frozen, END_AT) == 1
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.resolved_at) == ("completed", END_AT)
    assert statuses(web, api_component) == [OK, "degraded_performance"]
    assert upcoming.updates.first().body == COMPLETED_BODY
    restored = ComponentStatusChange.objects.filter(maintenance=upcoming, old_status=UM)
    assert {(c.component_id, c.new_status) for c in restored} == {
        (web.pk, OK),
        (api_component.pk, "degraded_performance"),
    }
    assert events.kinds == ["reminder", "started", "completed"]
    assert version() == before + 2
    assert rows(upcoming) == {}


def test_each_row_fires_once(upcoming, frozen):
    assert sweep_at(frozen, END_AT) == 3
    assert sla.sweep() == 0
    assert sweep_at(frozen, END_AT + HOUR) == 0
    subject = f"maintenance:{upcoming.pk}"
    assert Deadline.objects.filter(subject=subject, fired_at__isnull=False).count() == 3


def test_a_late_engine_skips_the_reminder_but_runs_the_maintenance(upcoming, frozen, web, events):
    assert sweep_at(frozen, END_AT + SECOND) == 3
    upcoming.refresh_from_db()
    assert upcoming.status == "completed" and statuses(web) == [OK]
    assert events.kinds == ["started", "completed"]


def test_an_outage_meanwhile_is_left_as_it_is(upcoming, frozen, bob, web, api_component):
    sweep_at(frozen, START_AT)
    frozen.move_to(START_AT + HOUR, tick=False)
    services.component_set_status(actor=bob, component=web, status="major_outage")
    sweep_at(frozen, END_AT)
    assert statuses(web, api_component) == ["major_outage", "degraded_performance"]


def test_set_under_maintenance_by_hand_meanwhile_stays(upcoming, frozen, bob, web):
    sweep_at(frozen, START_AT)
    services.component_set_status(actor=bob, component=web, status="major_outage")
    services.component_set_status(actor=bob, component=web, status=UM)
    sweep_at(frozen, END_AT)
    assert statuses(web) == [UM]


def test_overlapping_maintenances_hand_over(frozen, bob, web):
    first = schedule(bob, START_AT, hours=2, components=[web], name="First")
    second = schedule(bob, START_AT + HOUR, hours=2, components=[web], name="Second")
    sweep_at(frozen, START_AT + HOUR)
    assert statuses(web) == [UM]
    sweep_at(frozen, END_AT)  # the first ends; the second still runs
    first.refresh_from_db()
    assert first.status == "completed" and statuses(web) == [UM]
    sweep_at(frozen, START_AT + 3 * HOUR)
    second.refresh_from_db()
    assert second.status == "completed" and statuses(web) == [OK]


def test_started_by_hand_the_start_row_does_nothing(upcoming, frozen, bob, events):
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="in_progress", body="Early start."
    )
    assert sweep_at(frozen, START_AT) == 0  # reminder and start were cancelled
    assert sweep_at(frozen, END_AT) == 1
    upcoming.refresh_from_db()
    assert upcoming.status == "completed"
    assert events.kinds == ["started", "completed"]


def test_verifying_is_completed_at_the_end_too(upcoming, frozen, bob, web):
    sweep_at(frozen, START_AT)
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="verifying", body="Checking."
    )
    sweep_at(frozen, END_AT)
    upcoming.refresh_from_db()
    assert upcoming.status == "completed" and statuses(web) == [OK]


def test_completed_by_hand_nothing_fires(upcoming, frozen, bob):
    sweep_at(frozen, START_AT)
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="completed", body="Done."
    )
    assert sweep_at(frozen, END_AT) == 0
    assert upcoming.updates.count() == 3


def test_without_auto_transition_only_the_reminder_fires(frozen, bob, web, events):
    m = schedule(bob, START_AT, components=[web], auto_transition=False)
    assert sweep_at(frozen, END_AT + HOUR) == 1  # late: the reminder fires as nothing
    assert Deadline.objects.filter(subject=f"maintenance:{m.pk}", fired_at__isnull=False).exists()
    m.refresh_from_db()
    assert m.status == "scheduled" and statuses(web) == [OK]
    assert events.kinds == ["scheduled"]


def test_without_auto_transition_the_reminder_is_sent_in_time(frozen, bob, events):
    schedule(bob, START_AT, auto_transition=False)
    assert sweep_at(frozen, START_AT - HOUR) == 1
    assert events.kinds == ["scheduled", "reminder"]


def test_a_rescheduled_maintenance_runs_at_its_new_times(upcoming, frozen, bob, web):
    later = START_AT + 24 * HOUR
    services.maintenance_update(
        actor=bob, maintenance=upcoming, scheduled_for=later, scheduled_until=later + HOUR
    )
    assert sweep_at(frozen, END_AT) == 0
    upcoming.refresh_from_db()
    assert upcoming.status == "scheduled"
    assert sweep_at(frozen, later) == 2  # its reminder, then its start
    assert statuses(web) == [UM]
    assert sweep_at(frozen, later + HOUR) == 1
    assert statuses(web) == [OK]


def test_a_deleted_maintenance_fires_nothing(upcoming, frozen, bob):
    services.maintenance_delete(actor=bob, maintenance=upcoming)
    assert sweep_at(frozen, END_AT) == 0


def test_a_row_left_for_a_gone_maintenance_fires_as_nothing(frozen):
    row = Deadline.objects.create(
        subject="maintenance:999999",
        kind=START,
        starts_at=T0,
        due_at=T0,
        created_at=T0,
    )
    assert sla.sweep() == 1
    row.refresh_from_db()
    assert row.fired_at == T0


@pytest.mark.django_db(transaction=True)
def test_a_maintenance_being_changed_is_left_for_the_next_sweep(upcoming):
    """The handler never waits for a maintenance a service holds (the
    service waits for the row the sweep holds: that would deadlock)."""
    import threading

    from django.db import connection, transaction

    row = Deadline.objects.get(subject=f"maintenance:{upcoming.pk}", kind=START)
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Maintenance.objects.select_for_update().get(pk=upcoming.pk)
                held.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(Busy), transaction.atomic():
            maintenance_of(row)
    finally:
        release.set()
        done.wait(10)
        thread.join(10)
    with transaction.atomic():
        assert maintenance_of(row) == upcoming
