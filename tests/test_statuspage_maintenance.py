"""Scheduled maintenance, the services' rules: scheduling, rescheduling
(its deadline rows move), manual transitions, deleting, who may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from incidents.errors import DomainError
from incidents.models import AuditEntry, Deadline
from statuspage import services
from statuspage.models import (
    ComponentStatus,
    ComponentStatusChange,
    Maintenance,
    PublicUpdate,
)
from statuspage.services.maintenance import COMPLETED_BODY, END, REMIND, START
from tests.engine_support import T0
from tests.sp_maint_support import HOUR, Events, component, rows, schedule, statuses, version

pytestmark = pytest.mark.django_db

UM = ComponentStatus.UNDER_MAINTENANCE
OK = ComponentStatus.OPERATIONAL


@pytest.fixture
def web(alice):
    return component(alice, "Website")


@pytest.fixture
def api_component(alice):
    return component(alice, "API")


@pytest.fixture
def events(monkeypatch):
    return Events(monkeypatch)


@pytest.fixture
def upcoming(frozen, bob, web, api_component):
    """Tomorrow 10:00 to 12:00, on the website and the API."""
    return schedule(bob, T0 + 24 * HOUR, components=[web, api_component])


# --- scheduling ----------------------------------------------------------------------------


def test_schedule_posts_the_first_update_and_its_rows(frozen, bob, web, events):
    before = version()
    start = T0 + 24 * HOUR
    m = schedule(bob, start, components=[web], counts_as_downtime=True)
    assert m.status == "scheduled" and m.auto_transition and m.counts_as_downtime
    assert list(m.components.all()) == [web]
    (update,) = m.updates.all()
    assert (update.status, update.body) == ("scheduled", "We are upgrading the primary database.")
    assert update.author == bob
    assert rows(m) == {REMIND: start - HOUR, START: start, END: start + 2 * HOUR}
    assert version() == before + 1
    assert events.calls == [("Database upgrade", "scheduled", "scheduled")]
    entry = AuditEntry.objects.get(action="maintenance_schedule")
    assert entry.actor == bob and entry.object_id == str(m.pk)
    assert statuses(web) == [OK]  # nothing changes before it starts


def test_without_auto_transition_only_the_reminder_is_scheduled(frozen, bob):
    m = schedule(bob, T0 + 24 * HOUR, auto_transition=False)
    assert set(rows(m)) == {REMIND}


def test_no_reminder_when_it_starts_sooner_than_the_reminder_time(frozen, bob):
    m = schedule(bob, T0 + timedelta(minutes=30))
    assert set(rows(m)) == {START, END}


def test_the_reminder_time_is_a_setting(frozen, bob, settings):
    settings.STATUS_PAGE_MAINTENANCE_REMINDER_MINUTES = 15
    m = schedule(bob, T0 + 24 * HOUR)
    assert rows(m)[REMIND] == T0 + 24 * HOUR - timedelta(minutes=15)
    settings.STATUS_PAGE_MAINTENANCE_REMINDER_MINUTES = 0
    assert REMIND not in rows(schedule(bob, T0 + 24 * HOUR, name="Other"))


def test_a_maintenance_that_began_already_may_be_recorded(frozen, bob):
    m = schedule(bob, T0 - HOUR, hours=2)
    assert rows(m) == {START: T0 - HOUR, END: T0 + HOUR}  # the next sweep starts it


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"message": ""}, "message"),
        ({"message": None}, "message"),
        ({"scheduled_until": T0 + 24 * HOUR}, "scheduled_until"),  # not after the start
        ({"scheduled_for": T0 - 3 * HOUR, "scheduled_until": T0 - HOUR}, "scheduled_until"),
        ({"scheduled_for": "tomorrow"}, "scheduled_for"),
        ({"scheduled_for": (T0 + HOUR).replace(tzinfo=None)}, "scheduled_for"),
        ({"components": ["web"]}, "components"),
        ({"components": "web"}, "components"),
        ({"auto_transition": "yes"}, "auto_transition"),
        ({"counts_as_downtime": None}, "counts_as_downtime"),
    ],
)
def test_schedule_refuses_bad_input_and_writes_nothing(frozen, bob, fields, field):
    args = {
        "name": "Upgrade",
        "scheduled_for": T0 + 24 * HOUR,
        "scheduled_until": T0 + 26 * HOUR,
        "message": "Upgrading.",
        **fields,
    }
    before = version()
    with pytest.raises(DomainError) as refused:
        services.maintenance_schedule(actor=bob, **args)
    assert refused.value.field == field and not refused.value.conflict
    assert not Maintenance.objects.exists() and not PublicUpdate.objects.exists()
    assert version() == before


def test_a_deleted_component_is_refused(frozen, alice, bob, web):
    services.component_delete(actor=alice, component=web)
    with pytest.raises(DomainError) as refused:
        schedule(bob, T0 + 24 * HOUR, components=[web])
    assert refused.value.field == "components"


def test_components_by_code(alice, web, api_component):
    assert services.components_by_code([api_component.code, web.code]) == [api_component, web]
    assert services.components_by_code(None) == []
    for bad in (["nope"], "abc", [1], 7):
        with pytest.raises(DomainError) as refused:
            services.components_by_code(bad)
        assert refused.value.field == "components"


@pytest.mark.parametrize("who", ["vera", "charlie"])
def test_only_responders_schedule(frozen, request, who):
    with pytest.raises(PermissionDenied):
        schedule(request.getfixturevalue(who), T0 + 24 * HOUR)
    assert not Maintenance.objects.exists()


def test_managers_schedule_too(frozen, alice):
    assert schedule(alice, T0 + 24 * HOUR).created_by == alice


# --- rescheduling and editing -----------------------------------------------------------


def test_rescheduling_moves_the_rows_and_tells_subscribers(upcoming, bob, events):
    later = T0 + 48 * HOUR
    before = version()
    services.maintenance_update(
        actor=bob, maintenance=upcoming, scheduled_for=later, scheduled_until=later + HOUR
    )
    assert rows(upcoming) == {REMIND: later - HOUR, START: later, END: later + HOUR}
    latest = upcoming.updates.first()
    assert latest.status == "scheduled"
    assert latest.body == "Rescheduled: 2026-11-27 10:00 to 2026-11-27 11:00 UTC."
    assert events.kinds == ["updated"]
    assert version() == before + 1
    entry = AuditEntry.objects.get(action="maintenance_update")
    assert set(entry.after) == {"scheduled_for", "scheduled_until"}


def test_rescheduling_cancels_the_old_rows(upcoming, bob):
    services.maintenance_update(actor=bob, maintenance=upcoming, scheduled_until=T0 + 30 * HOUR)
    subject = f"maintenance:{upcoming.pk}"
    assert Deadline.objects.filter(subject=subject, cancelled_at=T0).count() == 3
    assert Deadline.objects.filter(subject=subject, cancelled_at__isnull=True).count() == 3


def test_a_message_with_the_new_times_is_the_update(upcoming, bob):
    services.maintenance_update(
        actor=bob,
        maintenance=upcoming,
        scheduled_until=T0 + 27 * HOUR,
        message="We need an extra hour.",
    )
    assert upcoming.updates.first().body == "We need an extra hour."


def test_renaming_posts_no_update(upcoming, bob, events):
    before = version()
    services.maintenance_update(actor=bob, maintenance=upcoming, name="Primary DB upgrade")
    upcoming.refresh_from_db()
    assert upcoming.name == "Primary DB upgrade"
    assert upcoming.updates.count() == 1 and events.calls == []
    assert version() == before + 1


def test_an_update_that_changes_nothing_writes_nothing(upcoming, bob, web, api_component):
    before = version()
    services.maintenance_update(
        actor=bob, maintenance=upcoming, name=upcoming.name, components=[api_component, web]
    )
    assert version() == before
    assert not AuditEntry.objects.filter(action="maintenance_update").exists()


def test_turning_auto_transition_off_cancels_the_transition_rows(upcoming, bob):
    services.maintenance_update(actor=bob, maintenance=upcoming, auto_transition=False)
    assert set(rows(upcoming)) == {REMIND}
    services.maintenance_update(actor=bob, maintenance=upcoming, auto_transition=True)
    assert set(rows(upcoming)) == {REMIND, START, END}


def test_components_change_before_it_starts(upcoming, bob, web):
    services.maintenance_update(actor=bob, maintenance=upcoming, components=[web])
    assert list(upcoming.components.all()) == [web]


def test_once_started_its_start_and_components_stay(upcoming, bob, web):
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="in_progress", body="Started early."
    )
    for fields, field in [
        ({"scheduled_for": T0 + HOUR}, "scheduled_for"),
        ({"components": [web]}, "components"),
    ]:
        with pytest.raises(DomainError) as refused:
            services.maintenance_update(actor=bob, maintenance=upcoming, **fields)
        assert (refused.value.field, refused.value.conflict) == (field, True)
    # Its end may still move (it overruns): the end row moves with it.
    services.maintenance_update(actor=bob, maintenance=upcoming, scheduled_until=T0 + 30 * HOUR)
    assert rows(upcoming) == {END: T0 + 30 * HOUR}


def test_a_completed_maintenance_changes_only_its_name_and_downtime(upcoming, bob):
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="completed", body="Done."
    )
    with pytest.raises(DomainError) as refused:
        services.maintenance_update(actor=bob, maintenance=upcoming, scheduled_until=T0 + 40 * HOUR)
    assert (refused.value.field, refused.value.conflict) == ("scheduled_until", True)
    services.maintenance_update(
        actor=bob, maintenance=upcoming, name="Upgrade (done)", counts_as_downtime=True
    )
    upcoming.refresh_from_db()
    assert upcoming.counts_as_downtime and upcoming.name == "Upgrade (done)"


# --- manual transitions --------------------------------------------------------------------


def test_manual_start_puts_the_components_under_maintenance(upcoming, bob, web, api_component):
    update = services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="in_progress", body="Starting now."
    )
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.started_at) == ("in_progress", T0)
    assert statuses(web, api_component) == [UM, UM]
    changes = ComponentStatusChange.objects.filter(maintenance=upcoming)
    assert {(c.component_id, c.old_status, c.new_status) for c in changes} == {
        (web.pk, OK, UM),
        (api_component.pk, OK, UM),
    }
    assert all(c.actor == bob for c in changes)
    assert {a["code"] for a in update.affected_components} == {web.code, api_component.code}
    assert set(rows(upcoming)) == {END}  # the reminder and the start are moot


def test_the_guide_order_by_hand(upcoming, bob, web, events):
    services.component_set_status(actor=bob, component=web, status="degraded_performance")
    for status in ["in_progress", "verifying", "in_progress", "verifying", "completed"]:
        services.maintenance_post_update(
            actor=bob, maintenance=upcoming, status=status, body=f"Now {status}."
        )
    upcoming.refresh_from_db()
    assert upcoming.status == "completed" and upcoming.resolved_at == T0
    assert statuses(web) == ["degraded_performance"]  # as it was before
    assert rows(upcoming) == {}
    assert events.kinds == ["started", "updated", "updated", "updated", "completed"]
    assert [u.status for u in upcoming.updates.order_by("id")] == [
        "scheduled",
        "in_progress",
        "verifying",
        "in_progress",
        "verifying",
        "completed",
    ]


def test_straight_to_completed_changes_no_component(upcoming, bob, web):
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="completed", body=COMPLETED_BODY
    )
    assert statuses(web) == [OK]
    assert not ComponentStatusChange.objects.filter(maintenance=upcoming).exists()
    assert rows(upcoming) == {}


def test_a_note_in_the_same_status(upcoming, bob, events):
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="scheduled", body="Still on for tomorrow."
    )
    assert upcoming.updates.count() == 2 and events.kinds == ["updated"]


@pytest.mark.parametrize(
    ("path", "status", "field", "conflict"),
    [
        ([], "verifying", "status", True),  # scheduled cannot be verified
        (["completed"], "in_progress", "status", True),
        (["completed"], "completed", "status", True),
        (["in_progress"], "scheduled", "status", True),
        ([], "resolved", "status", False),
        ([], "", "status", False),
    ],
)
def test_impossible_transitions_are_refused(upcoming, bob, path, status, field, conflict):
    for step in path:
        services.maintenance_post_update(actor=bob, maintenance=upcoming, status=step, body="x")
    count = upcoming.updates.count()
    with pytest.raises(DomainError) as refused:
        services.maintenance_post_update(actor=bob, maintenance=upcoming, status=status, body="y")
    assert (refused.value.field, refused.value.conflict) == (field, conflict)
    assert upcoming.updates.count() == count


def test_an_update_needs_a_body(upcoming, bob):
    with pytest.raises(DomainError) as refused:
        services.maintenance_post_update(
            actor=bob, maintenance=upcoming, status="in_progress", body=" "
        )
    assert refused.value.field == "body"
    upcoming.refresh_from_db()
    assert upcoming.status == "scheduled"


def test_viewers_post_no_update(upcoming, vera):
    with pytest.raises(PermissionDenied):
        services.maintenance_post_update(
            actor=vera, maintenance=upcoming, status="in_progress", body="x"
        )


# --- deleting -------------------------------------------------------------------------------


def test_deleting_an_upcoming_maintenance_cancels_its_rows(upcoming, bob):
    subject = f"maintenance:{upcoming.pk}"
    before = version()
    services.maintenance_delete(actor=bob, maintenance=upcoming)
    assert not Maintenance.objects.exists() and not PublicUpdate.objects.exists()
    assert not Deadline.objects.filter(subject=subject, cancelled_at__isnull=True).exists()
    assert version() == before + 1
    entry = AuditEntry.objects.get(action="maintenance_delete")
    assert entry.object_id == subject.split(":")[1] and entry.before["name"] == "Database upgrade"


def test_a_started_maintenance_is_not_deleted(upcoming, bob):
    services.maintenance_post_update(
        actor=bob, maintenance=upcoming, status="in_progress", body="x"
    )
    with pytest.raises(DomainError) as refused:
        services.maintenance_delete(actor=bob, maintenance=upcoming)
    assert (refused.value.field, refused.value.conflict) == ("status", True)
    assert Maintenance.objects.exists()
