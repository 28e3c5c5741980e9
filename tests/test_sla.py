"""The SLA sweep: due deadline rows fire exactly once, breaches are recorded
with how late the promise was kept, update reminders repeat, and the sweep
stays correct and cheap with concurrent sweeps and busy incidents."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.engine import sla
from incidents.models import (
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    Notification,
    SeverityPolicy,
    SlaBreach,
    TimelineEvent,
)
from tests import factories
from tests.engine_support import MIN, T0, channel_messages, events, everything_channel, paged


def breaches(incident: Incident, kind: str) -> list[SlaBreach]:
    return list(SlaBreach.objects.filter(incident=incident, kind=kind).order_by("due_at"))


# --- what a breach records -------------------------------------------------------------


@pytest.mark.django_db
def test_a_missed_acknowledgement_is_recorded_and_how_late_once_acknowledged(bob, frozen, at):
    everything_channel()
    incident = factories.declare(actor=bob, severity="P1")

    assert at(14.9) == 0
    assert at(15.5) >= 1

    [breach] = breaches(incident, "acknowledge")
    assert (breach.severity, breach.target_seconds, breach.due_at) == ("P1", 900, T0 + 15 * MIN)
    assert (breach.detected_at, breach.met_at) == (T0 + 15.5 * MIN, None)
    [event] = events(incident, EventKind.SLA_BREACHED)
    assert (event.actor, event.message) == (None, "Acknowledge target of 15 min missed")
    assert event.detail == {
        "sla": "acknowledge",
        "due_at": (T0 + 15 * MIN).isoformat(),
        "target_seconds": 900,
    }
    [note] = Notification.objects.filter(incident=incident, message_kind="sla_breach")
    assert note.context["sla"] == "acknowledge" and note.context["late_seconds"] == 30

    frozen.move_to(T0 + 22 * MIN, tick=False)
    services.incident_acknowledge(incident=incident, actor=bob)

    breach.refresh_from_db()
    assert breach.met_at == T0 + 22 * MIN
    assert breach.late_by_seconds == 7 * 60


@pytest.mark.django_db
def test_a_deadline_fires_once_however_often_the_sweep_runs(bob, at):
    incident = factories.declare(actor=bob, severity="P1")

    first = at(16)
    again = at(16)

    assert first >= 1 and again == 0
    assert len(breaches(incident, "acknowledge")) == 1
    assert len(events(incident, EventKind.SLA_BREACHED)) == 1


@pytest.mark.django_db
def test_an_acknowledgement_in_time_leaves_nothing_to_fire(bob, frozen, at):
    incident = factories.declare(actor=bob, severity="P1")
    frozen.move_to(T0 + 10 * MIN, tick=False)
    services.incident_acknowledge(incident=incident, actor=bob)

    at(16)

    assert breaches(incident, "acknowledge") == []


@pytest.mark.django_db
def test_update_reminders_repeat_every_cadence_until_an_update_is_posted(bob, alice, frozen, at):
    everything_channel()
    from incidents.models import ContactMethod

    ContactMethod.objects.create(user=alice, kind="email", value="alice@pager.test")
    incident = factories.declare(actor=bob, severity="P0", commander=alice)
    services.incident_acknowledge(incident=incident, actor=bob)

    at(15)
    at(30)

    first, second = breaches(incident, "update")
    assert (first.due_at, second.due_at) == (T0 + 15 * MIN, T0 + 30 * MIN)
    assert [
        e.message for e in events(incident, EventKind.SLA_BREACHED) if e.detail["sla"] == "update"
    ] == ["No status update for 15 min: an update is due"] * 2
    assert channel_messages(incident, "update_due") == ["update_due", "update_due"]
    assert paged(incident, "update_due") == ["alice", "alice"]  # the commander is reminded
    upcoming = Deadline.objects.get(incident=incident, kind="update", fired_at=None, met_at=None)
    assert (upcoming.starts_at, upcoming.due_at) == (T0 + 30 * MIN, T0 + 45 * MIN)

    frozen.move_to(T0 + 35 * MIN, tick=False)
    services.incident_post_update(incident=incident, actor=alice, message="Rolled back")

    assert [b.met_at for b in breaches(incident, "update")] == [T0 + 35 * MIN] * 2
    assert at(45) == 0  # the cadence restarted at the update: next due at 50
    assert at(50) == 1
    assert len(breaches(incident, "update")) == 3


@pytest.mark.django_db
def test_after_an_outage_the_next_reminder_is_the_next_boundary_ahead(bob, at):
    incident = factories.declare(actor=bob, severity="P0")
    services.incident_acknowledge(incident=incident, actor=bob)

    at(52)  # the engine was down; the update owed at 15 is noticed at 52

    assert len(breaches(incident, "update")) == 1
    upcoming = Deadline.objects.get(incident=incident, kind="update", fired_at=None)
    assert upcoming.due_at == T0 + 60 * MIN


@pytest.mark.django_db
def test_the_next_reminder_follows_the_cadence_in_force_as_after_a_posted_update(bob, at):
    incident = factories.declare(actor=bob, severity="P0")
    services.incident_acknowledge(incident=incident, actor=bob)
    SeverityPolicy.objects.filter(severity="P0").update(update_cadence_seconds=600)

    at(16)

    upcoming = Deadline.objects.get(incident=incident, kind="update", fired_at=None)
    assert (upcoming.starts_at, upcoming.due_at) == (T0 + 15 * MIN, T0 + 25 * MIN)
    assert (upcoming.target_seconds, upcoming.severity) == (600, "P0")


@pytest.mark.django_db
def test_a_missed_resolve_target_is_a_breach(bob, at):
    everything_channel()
    incident = factories.declare(actor=bob, severity="P0")
    services.incident_acknowledge(incident=incident, actor=bob)

    at(61)

    [breach] = breaches(incident, "resolve")
    assert (breach.target_seconds, breach.due_at) == (3600, T0 + 60 * MIN)
    assert "Resolve target of 1 h missed" in [
        e.message for e in events(incident, EventKind.SLA_BREACHED)
    ]
    assert "sla_breach" in channel_messages(incident)


@pytest.mark.django_db
def test_p3_next_business_day_follows_business_hours_time_zone_and_holidays(
    bob, settings, time_machine
):
    settings.BUSINESS_TIME_ZONE = "Europe/Berlin"
    settings.BUSINESS_HOURS_END = "18:00"
    settings.BUSINESS_HOLIDAYS = ["2026-11-30"]  # Monday
    friday_evening = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)
    time_machine.move_to(friday_evening, tick=False)
    incident = factories.declare(actor=bob, severity="P3")
    tuesday_close = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    assert Deadline.objects.get(incident=incident, kind="acknowledge").due_at == tuesday_close

    time_machine.move_to(tuesday_close - timedelta(seconds=1), tick=False)
    assert sla.sweep() == 0
    time_machine.move_to(tuesday_close + timedelta(seconds=1), tick=False)
    assert sla.sweep() == 1

    [breach] = breaches(incident, "acknowledge")
    assert breach.target_seconds is None
    [event] = events(incident, EventKind.SLA_BREACHED)
    assert event.message == "Acknowledge target (next business day) missed"


# --- robustness --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failing_handler_leaves_its_row_due_and_does_not_stop_the_others(
    bob, at, caplog, monkeypatch
):
    incident = factories.declare(actor=bob, severity="P3")
    other = factories.declare(actor=bob, severity="P1", title="Other")
    poison = Deadline.objects.create(
        incident=incident,
        kind=BULK,
        severity="P3",
        starts_at=T0,
        due_at=T0 + MIN,
        created_at=T0,
    )

    def broken(**_kwargs):
        raise RuntimeError("post-mortem service is broken")

    monkeypatch.setitem(sla.HANDLERS, BULK, broken)
    assert at(16) >= 1  # the other incident's deadlines fired
    monkeypatch.setitem(sla.HANDLERS, BULK, sla.fire_record_only)

    poison.refresh_from_db()
    assert poison.fired_at is None
    assert not SlaBreach.objects.filter(deadline=poison).exists()
    assert len(breaches(other, "acknowledge")) == 1
    assert "could not be fired" in caplog.text

    assert at(17) == 1  # fixed: it fires on the next sweep
    poison.refresh_from_db()
    assert poison.fired_at == T0 + 17 * MIN


# A deadline kind of these tests' own, fired by a handler that only records
# the breach (the real kinds' handlers look for rows these tests do not make).
BULK = "sla_test"


@pytest.fixture(autouse=True)
def _bulk_kind(monkeypatch):
    monkeypatch.setitem(sla.HANDLERS, BULK, sla.fire_record_only)


def action_items(incident: Incident, count: int, *, first_due: datetime) -> None:
    """``count`` pending deadlines of a record-only kind, one second apart from ``first_due``."""
    Deadline.objects.bulk_create(
        Deadline(
            incident=incident,
            kind=BULK,
            severity="P3",
            starts_at=T0,
            due_at=first_due + n * timedelta(seconds=1),
            created_at=T0,
        )
        for n in range(count)
    )


@pytest.mark.django_db
def test_a_backlog_larger_than_a_batch_is_fired_in_one_sweep(bob, frozen):
    incident = factories.declare(actor=bob, severity="P3")
    action_items(incident, 120, first_due=T0)
    frozen.move_to(T0 + 10 * MIN, tick=False)

    # No time budget: batches follow each other until one comes back short.
    assert sla.sweep(batch=50, budget_seconds=math.inf) == 120
    assert SlaBreach.objects.filter(incident=incident, kind=BULK).count() == 120


@pytest.mark.django_db
def test_a_sweep_out_of_time_starts_no_new_batch_and_the_next_one_carries_on(bob, frozen):
    incident = factories.declare(actor=bob, severity="P3")
    action_items(incident, 120, first_due=T0)
    frozen.move_to(T0 + 10 * MIN, tick=False)

    # A spent budget (0 s) lets each sweep finish the batch it claimed, no more.
    assert [sla.sweep(batch=50, budget_seconds=0) for _ in range(4)] == [50, 50, 20, 0]
    assert SlaBreach.objects.filter(incident=incident, kind=BULK).count() == 120


@pytest.mark.django_db
def test_the_sweep_costs_the_same_with_no_due_rows_however_many_are_pending(bob, frozen):
    with CaptureQueriesContext(connection) as empty:
        assert sla.sweep() == 0
    incident = factories.declare(actor=bob, severity="P3")
    action_items(incident, 500, first_due=T0 + timedelta(days=1))

    with CaptureQueriesContext(connection) as busy:
        assert sla.sweep() == 0

    assert len(busy) == len(empty) <= 3
    claim = next(q["sql"] for q in busy.captured_queries if "FOR UPDATE" in q["sql"])
    assert "SKIP LOCKED" in claim and "LIMIT 200" in claim


@pytest.mark.django_db
def test_a_fired_target_still_runs_but_a_fired_step_or_reminder_does_not(bob, frozen):
    incident = factories.declare(actor=bob, severity="P3")
    incident.deadlines.all().delete()
    rows = {}
    for kind in DeadlineKind:
        for state in ("open", "fired", "met", "cancelled"):
            rows[kind, state] = Deadline.objects.create(
                incident=incident,
                kind=kind,
                severity="P3",
                starts_at=T0,
                due_at=T0 + MIN,
                created_at=T0,
                **({f"{state}_at": T0 + 2 * MIN} if state != "open" else {}),
            )

    def states(rows_qs) -> set[tuple[str, str]]:
        ids = set(rows_qs.values_list("pk", flat=True))
        return {key for key, row in rows.items() if row.pk in ids}

    pending = {(k, s) for k in DeadlineKind for s in ("open", "fired")}
    assert states(incident.deadlines.pending()) == pending
    assert states(incident.deadlines.running()) == pending - {
        (DeadlineKind.ESCALATION, "fired"),
        (DeadlineKind.UPDATE, "fired"),
    }
    assert states(Deadline.objects.due(T0 + MIN)) == {(k, "open") for k in DeadlineKind}
    assert states(Deadline.objects.due(T0 + MIN - timedelta(seconds=1))) == set()


def _due_rows(count: int) -> list[int]:
    """``count`` incidents (written directly: the sweep is under test, not
    declaration), each with one resolve deadline due at T0."""
    incidents = Incident.objects.bulk_create(
        Incident(
            ref=f"INC-TEST-{n:04d}",
            title=f"Load {n}",
            severity="P2",
            detected_at=T0,
            declared_at=T0,
        )
        for n in range(count)
    )
    rows = Deadline.objects.bulk_create(
        Deadline(
            incident=i,
            kind=DeadlineKind.RESOLVE,
            severity="P2",
            target_seconds=60,
            starts_at=T0 - MIN,
            due_at=T0,
            created_at=T0,
        )
        for i in incidents
    )
    return [row.pk for row in rows]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_never_fire_a_row_twice(time_machine):
    time_machine.move_to(T0 + MIN, tick=False)
    ids = _due_rows(200)
    barrier = threading.Barrier(2)
    fired: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        # Each beat's sweep has a time budget; a worker under load needs a
        # few of them for 200 rows, so each thread sweeps until nothing is left.
        try:
            barrier.wait(timeout=10)
            total = 0
            while (count := sla.sweep(batch=20)) > 0:
                total += count
            fired.append(total)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert not any(t.is_alive() for t in threads)
    assert sum(fired) == 200
    assert all(n > 0 for n in fired), fired  # both sweeps did part of the work
    assert Deadline.objects.filter(pk__in=ids, fired_at__isnull=False).count() == 200
    assert SlaBreach.objects.count() == 200
    assert TimelineEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 200


@pytest.mark.django_db(transaction=True)
def test_a_row_whose_incident_is_locked_is_left_for_the_next_sweep(time_machine):
    time_machine.move_to(T0 + MIN, tick=False)
    [row_id] = _due_rows(1)
    row = Deadline.objects.get(pk=row_id)
    locked, release = threading.Event(), threading.Event()

    def hold_the_incident() -> None:
        # What a service does: lock the incident row, then work for a while.
        try:
            with transaction.atomic():
                Incident.objects.select_for_update().get(pk=row.incident_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_incident)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert sla.sweep() == 0  # and it did not wait for the lock
        row.refresh_from_db()
        assert row.fired_at is None
    finally:
        release.set()
        holder.join(timeout=30)

    assert sla.sweep() == 1
    row.refresh_from_db()
    assert row.fired_at == T0 + MIN
