"""incidents.services, declaring and working an incident: declaration,
acknowledgement, roles and status updates, the timeline event and deadline
rows each writes, and every illegal change refused with nothing written
(the rest of the lifecycle: test_services_lifecycle.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, transaction

from incidents import services
from incidents.models import (
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    Role,
    RoleAssignment,
    SeverityPolicy,
    Source,
    Status,
    StatusUpdate,
    Visibility,
)
from tests import factories
from tests.engine_support import MIN, T0, events
from tests.service_support import deadline, pending, rejected

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


# --- declare ------------------------------------------------------------------


def test_declaring_writes_the_incident_and_its_declared_event(bob):
    incident = factories.declare(actor=bob, severity="P1", services=["API", "web"])

    assert incident.ref == "INC-20261125-001"
    assert incident.status == Status.INVESTIGATING
    assert incident.detected_at == incident.declared_at == T0
    assert incident.declared_by == bob
    assert incident.acknowledged_at is None
    assert sorted(incident.services.values_list("name", flat=True)) == ["api", "web"]
    # Nobody is on call in these tests: the escalation says so in its own
    # event (tests/test_paging.py).
    [event] = events(incident, EventKind.DECLARED)
    assert event.kind == EventKind.DECLARED
    assert event.actor == bob
    assert event.at == T0
    assert event.before is None
    assert event.after == {
        "severity": "P1",
        "status": "investigating",
        "source": "team_member",
        "services": ["api", "web"],
        "is_drill": False,
    }


def test_declaring_without_a_person_is_recorded_as_the_system(db):
    incident = factories.declare(actor=None, source=Source.MONITORING)

    [event] = events(incident, EventKind.DECLARED)
    assert event.actor is None
    assert event.actor_name == "TreeBeard"
    assert incident.declared_by is None


def test_p0_deadlines_acknowledge_in_5_minutes_resolve_in_1_hour_update_every_15(bob):
    incident = factories.declare(actor=bob, severity="P0")

    due = {kind: d.due_at for kind, d in pending(incident).items()}
    assert due == {
        DeadlineKind.ACKNOWLEDGE: T0 + 5 * MIN,
        DeadlineKind.RESOLVE: T0 + 60 * MIN,
        DeadlineKind.UPDATE: T0 + 15 * MIN,
    }
    assert {d.severity for d in pending(incident).values()} == {"P0"}
    assert deadline(incident, DeadlineKind.ACKNOWLEDGE).target_seconds == 300


def test_acknowledge_and_resolve_targets_run_from_detection_not_declaration(bob):
    detected = T0 - 3 * MIN
    incident = factories.declare(actor=bob, severity="P0", detected_at=detected)

    assert deadline(incident, DeadlineKind.ACKNOWLEDGE).due_at == detected + 5 * MIN
    assert deadline(incident, DeadlineKind.RESOLVE).due_at == detected + 60 * MIN
    # The first status update is owed one cadence after the declaration.
    assert deadline(incident, DeadlineKind.UPDATE).due_at == T0 + 15 * MIN


def test_p3_reported_friday_evening_is_due_monday_close_with_no_resolve_or_update(bob, frozen):
    friday_evening = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)
    frozen.move_to(friday_evening, tick=False)

    incident = factories.declare(actor=bob, severity="P3")

    ack = deadline(incident, DeadlineKind.ACKNOWLEDGE)
    assert ack.due_at == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert ack.target_seconds is None
    assert set(pending(incident)) == {DeadlineKind.ACKNOWLEDGE}


def test_drill_source_marks_the_incident_as_a_drill(bob):
    incident = factories.declare(actor=bob, source=Source.DRILL)

    assert incident.is_drill is True
    assert events(incident)[0].after["is_drill"] is True


def test_declaring_with_a_commander_puts_them_in_charge(bob, alice):
    incident = factories.declare(actor=bob, commander=alice)

    assert incident.commander == alice
    # Then L1 is paged: with nobody on call anywhere, the escalation event
    # says nobody could be paged.
    assert [e.kind for e in events(incident)] == [
        EventKind.DECLARED,
        EventKind.ROLE_ASSIGNED,
        EventKind.ESCALATED,
    ]


def test_detection_slightly_ahead_of_our_clock_is_accepted(bob):
    # Alert senders' clocks drift; a few minutes ahead is not "the future".
    incident = factories.declare(actor=bob, detected_at=T0 + 4 * MIN)

    assert incident.detected_at == T0 + 4 * MIN


@pytest.mark.parametrize(
    ("overrides", "field", "match"),
    [
        ({"title": "   "}, "title", "title is required"),
        ({"title": "x" * 201}, "title", "title is longer than 200 characters"),
        ({"severity": "P5"}, "severity", "severity must be one of: P0, P1, P2, P3"),
        ({"severity": None}, "severity", "severity must be one of"),
        ({"source": "carrier_pigeon"}, "source", "source must be one of"),
        ({"detected_at": T0 + 10 * MIN}, "detected_at", "This time is in the future"),
        ({"detected_at": datetime(1, 1, 1, tzinfo=UTC)}, "detected_at", "before 2000-01-01"),
        (
            {"detected_at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))},
            "detected_at",
            "out of range",
        ),
    ],
    ids=[
        "blank-title",
        "title-too-long",
        "unknown-severity",
        "no-severity",
        "bad-source",
        "future-detection",
        "year-one-detection",
        "detection-before-datetime-can-show-it",
    ],
)
def test_declaring_invalid_input_is_rejected_and_writes_nothing(bob, overrides, field, match):
    error = rejected(lambda: factories.declare(actor=bob, **overrides), match)

    assert error.field == field
    assert error.conflict is False


def test_declaring_a_severity_whose_policy_was_deleted_asks_a_manager(bob):
    SeverityPolicy.objects.filter(severity="P2").delete()

    rejected(lambda: factories.declare(actor=bob, severity="P2"), "a manager must restore it")


# --- acknowledge --------------------------------------------------------------


def test_acknowledging_meets_the_deadline_and_records_the_time_taken(incident, bob, later):
    now = later(minutes=3)

    incident = services.incident_acknowledge(incident=incident, actor=bob)

    assert incident.acknowledged_at == now
    assert deadline(incident, DeadlineKind.ACKNOWLEDGE).met_at == now
    [event] = events(incident, EventKind.ACKNOWLEDGED)
    assert event.actor == bob
    assert event.after == {"acknowledged_at": now.isoformat()}
    assert event.detail == {"seconds_to_acknowledge": 180}


def test_acknowledging_twice_is_a_conflict_and_writes_nothing(incident, bob, alice):
    services.incident_acknowledge(incident=incident, actor=bob)

    error = rejected(
        lambda: services.incident_acknowledge(incident=incident, actor=alice),
        "is already acknowledged",
        incident=incident,
    )
    assert error.conflict is True


# --- roles --------------------------------------------------------------------


def test_assigning_a_commander_writes_role_assigned(incident, alice, bob):
    incident = services.incident_assign_role(
        incident=incident, actor=alice, role=Role.COMMANDER, user=bob
    )

    assert incident.commander == bob
    [event] = events(incident, EventKind.ROLE_ASSIGNED)
    assert event.actor == alice
    assert event.before is None
    assert event.after == {"role": "commander", "user": "bob"}
    [row] = RoleAssignment.objects.filter(incident=incident)
    assert (row.user, row.assigned_by, row.assigned_at, row.relieved_at) == (bob, alice, T0, None)


def test_commander_hand_over_relieves_the_previous_holder_and_keeps_history(
    incident, alice, bob, later
):
    services.incident_assign_role(incident=incident, actor=alice, role=Role.COMMANDER, user=bob)
    handed_over = later(minutes=20)

    incident = services.incident_assign_role(
        incident=incident, actor=alice, role=Role.COMMANDER, user=alice
    )

    assert incident.commander == alice
    history = list(RoleAssignment.objects.filter(incident=incident, role=Role.COMMANDER))
    assert [(a.user, a.assigned_at, a.relieved_at) for a in history] == [
        (bob, T0, handed_over),
        (alice, handed_over, None),
    ]
    event = events(incident, EventKind.ROLE_ASSIGNED)[-1]
    assert event.before == {"role": "commander", "user": "bob"}
    assert event.after == {"role": "commander", "user": "alice"}
    assert "handed over from bob to alice" in event.message


def test_the_database_allows_only_one_active_commander(incident, alice, bob):
    services.incident_assign_role(incident=incident, actor=alice, role=Role.COMMANDER, user=bob)

    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            incident=incident, role=Role.COMMANDER, user=alice, assigned_at=T0
        )


def test_technical_responders_accumulate(incident, alice, bob):
    rita = factories.responder("rita")
    for person in (bob, rita):
        services.incident_assign_role(
            incident=incident, actor=alice, role=Role.RESPONDER, user=person
        )

    assert Incident.objects.get(pk=incident.pk).responders == [bob, rita]


@pytest.mark.parametrize(
    ("verb", "role", "person", "message", "field", "conflict"),
    [
        ("assign", Role.COMMANDER, "vera", "vera is not a responder", "user", False),
        ("assign", Role.COMMANDER, "charlie", "charlie is not a responder", "user", False),
        ("assign", Role.RESPONDER, "gone", "user must be an active person", "user", False),
        ("assign", "scribe", "bob", "role must be one of", "role", False),
        # bob is made a responder first (``holding``).
        ("assign", Role.RESPONDER, "holding", "bob is already technical responder", None, True),
        ("relieve", Role.COMMANDER, "bob", "bob is not incident commander", None, True),
    ],
    ids=["viewer", "no-group", "inactive", "no-such-role", "held-already", "not-held"],
)
def test_role_changes_the_guide_forbids_are_refused(
    request, incident, alice, bob, verb, role, person, message, field, conflict
):
    if person == "gone":
        user = factories.responder("gone")
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif person == "holding":
        user = bob
        services.incident_assign_role(incident=incident, actor=alice, role=role, user=bob)
    else:
        user = request.getfixturevalue(person)
    change = {"assign": services.incident_assign_role, "relieve": services.incident_relieve_role}

    error = rejected(
        lambda: change[verb](incident=incident, actor=alice, role=role, user=user),
        message,
        incident=incident,
    )

    assert (error.field, error.conflict) == (field, conflict)


def test_relieving_a_responder_closes_their_assignment(incident, alice, bob, later):
    services.incident_assign_role(incident=incident, actor=alice, role=Role.RESPONDER, user=bob)
    now = later(minutes=30)

    incident = services.incident_relieve_role(
        incident=incident, actor=alice, role=Role.RESPONDER, user=bob
    )

    assert incident.responders == []
    assert RoleAssignment.objects.get(incident=incident).relieved_at == now
    [event] = events(incident, EventKind.ROLE_RELIEVED)
    assert event.actor == alice
    assert event.before == {"role": "responder", "user": "bob"}
    assert event.after is None


# --- status updates -----------------------------------------------------------


def test_posting_an_update_meets_the_cadence_and_schedules_the_next(incident, bob, later):
    now = later(minutes=10)

    update = services.incident_post_update(incident=incident, actor=bob, message="Rolling back")

    assert (update.author, update.status, update.visibility, update.posted_at) == (
        bob,
        Status.INVESTIGATING,
        Visibility.INTERNAL,
        now,
    )
    first, second = Deadline.objects.filter(incident=incident, kind=DeadlineKind.UPDATE)
    assert first.met_at == now
    assert (second.starts_at, second.due_at, second.met_at) == (now, now + 30 * MIN, None)
    [event] = events(incident, EventKind.UPDATE_POSTED)
    assert event.actor == bob
    assert event.message == "Rolling back"
    assert event.detail == {
        "update_id": update.pk,
        "status": "investigating",
        "visibility": "internal",
    }
    assert events(incident, EventKind.STATUS_CHANGED) == []


def test_a_public_update_is_recorded_as_public(incident, bob):
    update = services.incident_post_update(
        incident=incident, actor=bob, message="We are investigating.", visibility="public"
    )

    assert update.visibility == Visibility.PUBLIC
    assert events(incident, EventKind.UPDATE_POSTED)[0].detail["visibility"] == "public"


def test_an_update_with_a_new_status_moves_the_incident_on(incident, bob, later):
    now = later(minutes=12)

    services.incident_post_update(
        incident=incident, actor=bob, message="Bad deploy found", status="identified"
    )

    incident.refresh_from_db()
    assert (incident.status, incident.identified_at) == (Status.IDENTIFIED, now)
    [changed] = events(incident, EventKind.STATUS_CHANGED)
    assert changed.actor == bob
    assert (changed.before, changed.after) == (
        {"status": "investigating"},
        {"status": "identified"},
    )
    assert StatusUpdate.objects.get(incident=incident).status == Status.IDENTIFIED


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"message": "  "}, "message is required"),
        ({"message": "x", "status": "fixed"}, "status must be one of"),
        ({"message": "x", "status": "resolved"}, "Resolve the incident with a root cause"),
        ({"message": "x", "visibility": "secret"}, "visibility must be one of"),
    ],
    ids=["empty", "unknown-status", "resolved-status", "unknown-visibility"],
)
def test_an_invalid_update_is_rejected_and_writes_nothing(incident, bob, kwargs, match):
    rejected(
        lambda: services.incident_post_update(incident=incident, actor=bob, **kwargs),
        match,
        incident=incident,
    )
