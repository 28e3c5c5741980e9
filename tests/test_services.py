"""incidents.services: every change, the timeline event it writes, the
deadline rows it keeps, and every illegal change rejected with nothing written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from incidents import clock, services
from incidents.errors import DomainError
from incidents.models import (
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    ReferenceCounter,
    Role,
    RoleAssignment,
    SeverityPolicy,
    Source,
    Status,
    StatusUpdate,
    TimelineEvent,
    Visibility,
)
from tests import factories
from tests.engine_support import MIN, T0, staff_both_paths

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

COUNTED = (Incident, TimelineEvent, Deadline, StatusUpdate, RoleAssignment, ReferenceCounter)


@pytest.fixture
def later(frozen):
    """``later(minutes=5)`` moves the frozen clock on and returns the new now."""

    def _move(**delta) -> datetime:
        frozen.shift(timedelta(**delta))
        return clock.now()

    return _move


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def snapshot(incident: Incident | None) -> dict | None:
    if incident is None:
        return None
    return model_to_dict(Incident.objects.get(pk=incident.pk))


def rejected(call, match: str, *, incident: Incident | None = None) -> DomainError:
    """Run an illegal change: it raises a DomainError and writes nothing."""
    counts, before = row_counts(), snapshot(incident)
    with pytest.raises(DomainError, match=match) as info:
        call()
    assert row_counts() == counts
    assert snapshot(incident) == before
    return info.value


def events(incident: Incident, kind: str | None = None) -> list[TimelineEvent]:
    rows = TimelineEvent.objects.filter(incident=incident).order_by("at", "id")
    return list(rows.filter(kind=kind) if kind else rows)


def deadline(incident: Incident, kind: str, **filters) -> Deadline:
    return Deadline.objects.get(incident=incident, kind=kind, **filters)


def pending(incident: Incident) -> dict[str, Deadline]:
    # Escalation steps (one row per level) are covered in test_escalation.py.
    rows = Deadline.objects.filter(incident=incident, met_at=None, cancelled_at=None).exclude(
        kind=DeadlineKind.ESCALATION
    )
    return {d.kind: d for d in rows}


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


# --- status -------------------------------------------------------------------


def test_moving_forwards_sets_each_stage_time_once(incident, bob, later):
    identified = later(minutes=10)
    services.incident_change_status(
        incident=incident, actor=bob, status="identified", note="Bad config push"
    )
    monitoring = later(minutes=10)
    incident = services.incident_change_status(incident=incident, actor=bob, status="monitoring")

    assert incident.status == Status.MONITORING
    assert (incident.identified_at, incident.mitigated_at) == (identified, monitoring)
    first, second = events(incident, EventKind.STATUS_CHANGED)
    assert (first.before, first.after, first.message) == (
        {"status": "investigating"},
        {"status": "identified"},
        "Bad config push",
    )
    assert (second.before, second.after, second.actor) == (
        {"status": "identified"},
        {"status": "monitoring"},
        bob,
    )


def test_moving_backwards_keeps_the_stage_times(incident, bob, later):
    services.incident_change_status(incident=incident, actor=bob, status="monitoring")
    later(minutes=5)

    incident = services.incident_change_status(
        incident=incident, actor=bob, status="investigating", note="Fix did not hold"
    )

    assert incident.status == Status.INVESTIGATING
    assert incident.identified_at == incident.mitigated_at == T0
    event = events(incident, EventKind.STATUS_CHANGED)[-1]
    assert (event.before, event.after) == ({"status": "monitoring"}, {"status": "investigating"})


@pytest.mark.parametrize(
    ("change", "value", "match", "conflict"),
    [
        (
            "status",
            "escalated",
            "status must be one of: investigating, identified, monitoring, resolved",
            False,
        ),
        ("status", "investigating", "is already investigating", True),
        ("status", "resolved", "Resolve the incident with a root cause", False),
        ("severity", "P1", "is already P1", True),
        ("severity", "SEV1", "severity must be one of", False),
    ],
    ids=[
        "no-such-status",
        "same-status",
        "resolve-without-root-cause",
        "same-severity",
        "no-such-severity",
    ],
)
def test_an_illegal_status_or_severity_change_is_rejected_and_writes_nothing(
    incident, bob, change, value, match, conflict
):
    service = getattr(services, f"incident_change_{change}")

    error = rejected(
        lambda: service(incident=incident, actor=bob, **{change: value}),
        match,
        incident=incident,
    )
    assert error.conflict is conflict


# --- severity -----------------------------------------------------------------


def test_changing_severity_replaces_pending_deadlines_with_the_new_policys(bob, later):
    incident = factories.declare(actor=bob, severity="P2")
    now = later(minutes=2)

    incident = services.incident_change_severity(
        incident=incident, actor=bob, severity="P0", reason="Checkout fully down"
    )

    assert incident.severity == "P0"
    old = Deadline.objects.filter(incident=incident, severity="P2")
    assert {d.kind for d in old} == {"acknowledge", "resolve", "update"}
    assert all(d.cancelled_at == now and d.met_at is None for d in old)
    new = {
        d.kind: d
        for d in Deadline.objects.filter(incident=incident, severity="P0").exclude(
            kind=DeadlineKind.ESCALATION
        )
    }
    assert new[DeadlineKind.ACKNOWLEDGE].due_at == T0 + 5 * MIN  # from detection
    assert new[DeadlineKind.RESOLVE].due_at == T0 + 60 * MIN
    assert new[DeadlineKind.UPDATE].due_at == now + 15 * MIN
    assert set(pending(incident)) == set(new)
    [event] = events(incident, EventKind.SEVERITY_CHANGED)
    assert (event.actor, event.before, event.after, event.message) == (
        bob,
        {"severity": "P2"},
        {"severity": "P0"},
        "Checkout fully down",
    )


def test_changing_severity_after_acknowledgement_sets_no_new_acknowledge_deadline(incident, bob):
    services.incident_acknowledge(incident=incident, actor=bob)

    services.incident_change_severity(incident=incident, actor=bob, severity="P0")

    assert set(pending(incident)) == {DeadlineKind.RESOLVE, DeadlineKind.UPDATE}


def test_lowering_to_p3_leaves_only_the_next_business_day_acknowledgement(incident, bob):
    services.incident_change_severity(incident=incident, actor=bob, severity="P3")

    [ack] = pending(incident).values()
    assert (ack.kind, ack.severity) == (DeadlineKind.ACKNOWLEDGE, "P3")
    assert ack.due_at == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # Thursday's close


# --- mitigate, resolve, reopen --------------------------------------------------


def test_mitigating_moves_to_monitoring_and_records_the_time(incident, bob, later):
    now = later(minutes=25)

    incident = services.incident_mitigate(incident=incident, actor=bob, note="Traffic drained")

    assert incident.status == Status.MONITORING
    assert incident.mitigated_at == incident.identified_at == now
    [event] = events(incident, EventKind.MITIGATED)
    assert (event.actor, event.before, event.message) == (
        bob,
        {"status": "investigating"},
        "Traffic drained",
    )
    assert event.after == {"status": "monitoring", "mitigated_at": now.isoformat()}


def test_mitigating_twice_is_a_conflict(incident, bob):
    services.incident_mitigate(incident=incident, actor=bob)

    rejected(
        lambda: services.incident_mitigate(incident=incident, actor=bob),
        "is already mitigated",
        incident=incident,
    )


@pytest.mark.parametrize("root_cause", ["", "   ", None])
def test_resolving_without_a_root_cause_is_rejected_and_writes_nothing(incident, bob, root_cause):
    error = rejected(
        lambda: services.incident_resolve(incident=incident, actor=bob, root_cause=root_cause),
        "root_cause is required",
        incident=incident,
    )
    assert error.field == "root_cause"


def test_resolving_sets_every_stage_time_and_closes_all_deadlines(incident, bob, later):
    now = later(minutes=40)

    incident = services.incident_resolve(
        incident=incident, actor=bob, root_cause="Expired certificate", resolution="Renewed it"
    )

    assert incident.status == Status.RESOLVED
    assert incident.resolved_at == incident.identified_at == incident.mitigated_at == now
    assert (incident.root_cause, incident.resolution, incident.false_positive) == (
        "Expired certificate",
        "Renewed it",
        False,
    )
    assert deadline(incident, DeadlineKind.RESOLVE).met_at == now
    assert deadline(incident, DeadlineKind.ACKNOWLEDGE).cancelled_at == now
    assert deadline(incident, DeadlineKind.UPDATE).cancelled_at == now
    assert pending(incident) == {}
    [event] = events(incident, EventKind.RESOLVED)
    assert (event.actor, event.before, event.message) == (
        bob,
        {"status": "investigating"},
        "Renewed it",
    )
    assert event.after == {
        "status": "resolved",
        "root_cause": "Expired certificate",
        "resolution": "Renewed it",
        "false_positive": False,
    }
    assert event.detail == {"duration_seconds": 40 * 60}


def test_resolving_keeps_stage_times_already_reached(incident, bob, later):
    services.incident_change_status(incident=incident, actor=bob, status="identified")
    later(minutes=30)

    incident = services.incident_resolve(incident=incident, actor=bob, root_cause="Bad index")

    assert incident.identified_at == T0
    assert incident.mitigated_at == incident.resolved_at == T0 + 30 * MIN


def test_resolving_as_false_positive_is_flagged(incident, bob):
    incident = services.incident_resolve(
        incident=incident, actor=bob, root_cause="Flapping check", false_positive=True
    )

    assert incident.false_positive is True


def test_reopening_returns_to_investigating_with_fresh_deadlines(incident, bob, later):
    services.incident_resolve(incident=incident, actor=bob, root_cause="Cache stampede")
    now = later(hours=2)

    incident = services.incident_reopen(incident=incident, actor=bob, reason="Errors are back")

    assert incident.status == Status.INVESTIGATING
    assert incident.resolved_at is None
    assert incident.reopen_count == 1
    fresh = pending(incident)
    assert set(fresh) == {DeadlineKind.RESOLVE, DeadlineKind.UPDATE}
    assert (fresh["resolve"].starts_at, fresh["resolve"].due_at) == (now, now + timedelta(hours=4))
    assert fresh["update"].due_at == now + 30 * MIN
    [event] = events(incident, EventKind.REOPENED)
    assert (event.actor, event.message, event.after) == (
        bob,
        "Errors are back",
        {"status": "investigating"},
    )
    assert event.before["root_cause"] == "Cache stampede"
    assert len(events(incident, EventKind.RESOLVED)) == 1  # the earlier resolution stays


def test_reopening_an_open_incident_is_a_conflict(incident, bob):
    rejected(
        lambda: services.incident_reopen(incident=incident, actor=bob, reason="?"),
        "is not resolved",
        incident=incident,
    )


def test_reopening_needs_a_reason(incident, bob):
    services.incident_resolve(incident=incident, actor=bob, root_cause="x")

    rejected(
        lambda: services.incident_reopen(incident=incident, actor=bob, reason=""),
        "reason is required",
        incident=incident,
    )


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda i, u: services.incident_acknowledge(incident=i, actor=u),
            "is resolved; reopen it before you acknowledge it.",
        ),
        (
            lambda i, u: services.incident_assign_role(
                incident=i, actor=u, role="responder", user=u
            ),
            "is resolved; reopen it before you assign roles.",
        ),
        (
            lambda i, u: services.incident_change_status(incident=i, actor=u, status="identified"),
            "is resolved; reopen it before you change its status.",
        ),
        (
            lambda i, u: services.incident_post_update(incident=i, actor=u, message="Still ok"),
            "is resolved; reopen it before you post an update.",
        ),
        (
            lambda i, u: services.incident_change_severity(incident=i, actor=u, severity="P0"),
            "is resolved; reopen it before you change its severity.",
        ),
        (
            lambda i, u: services.incident_mitigate(incident=i, actor=u),
            "is resolved; reopen it before you mitigate it.",
        ),
        (
            lambda i, u: services.incident_resolve(incident=i, actor=u, root_cause="again"),
            "is already resolved.",
        ),
        (
            lambda i, u: services.incident_escalate(incident=i, actor=u, reason="help"),
            "is resolved; reopen it before you escalate it.",
        ),
    ],
    ids=[
        "acknowledge",
        "assign-role",
        "change-status",
        "post-update",
        "change-severity",
        "mitigate",
        "resolve",
        "escalate",
    ],
)
def test_changing_a_resolved_incident_is_a_conflict_and_writes_nothing(incident, bob, change, said):
    services.incident_resolve(incident=incident, actor=bob, root_cause="Disk full")

    error = rejected(lambda: change(incident, bob), re.escape(said), incident=incident)

    assert (error.message, error.conflict) == (f"{incident.ref} {said}", True)


# --- escalation ---------------------------------------------------------------


def test_escalating_by_hand_climbs_one_level_with_a_reason(alice, bob):
    staff_both_paths()
    incident = factories.declare(actor=bob)
    incident = services.incident_escalate(
        incident=incident, actor=alice, reason="No progress after 20 minutes"
    )

    assert incident.escalation_level == 2
    [event] = events(incident, EventKind.ESCALATED)
    assert (event.actor, event.before, event.after, event.message) == (
        alice,
        {"escalation_level": 1},
        {"escalation_level": 2},
        "No progress after 20 minutes",
    )


@pytest.mark.parametrize(("severity", "top"), [("P0", 4), ("P1", 3), ("P3", 3)])
def test_escalating_past_the_top_level_is_a_conflict(bob, severity, top):
    staff_both_paths()
    incident = factories.declare(actor=bob, severity=severity)
    for _ in range(top - 1):
        incident = services.incident_escalate(incident=incident, actor=bob, reason="stuck")
    assert incident.escalation_level == top

    error = rejected(
        lambda: services.incident_escalate(incident=incident, actor=bob, reason="stuck"),
        f"already at L{top}, the top level for {severity}",
        incident=incident,
    )
    assert error.conflict is True


def test_escalating_needs_a_reason(incident, bob):
    rejected(
        lambda: services.incident_escalate(incident=incident, actor=bob, reason=" "),
        "reason is required",
        incident=incident,
    )


# --- descriptive fields ----------------------------------------------------------


def test_editing_fields_records_only_what_changed(incident, alice):
    incident = services.incident_update_fields(
        incident=incident,
        actor=alice,
        title="Checkout API down",
        summary=incident.summary,
        services=["api", "payments"],
        customer_impacting=True,
    )

    assert incident.title == "Checkout API down"
    assert incident.customer_impacting is True
    [event] = events(incident, EventKind.FIELDS_CHANGED)
    assert event.actor == alice
    assert event.before == {
        "title": "Checkout API returning 500s",
        "customer_impacting": False,
        "services": ["api"],
    }
    assert event.after == {
        "title": "Checkout API down",
        "customer_impacting": True,
        "services": ["api", "payments"],
    }


def test_editing_fields_to_the_same_values_writes_no_event(incident, alice):
    services.incident_update_fields(incident=incident, actor=alice, title=incident.title)

    assert events(incident, EventKind.FIELDS_CHANGED) == []


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"severity": "P0"}, "severity cannot be edited here"),
        ({"status": "resolved"}, "status cannot be edited here"),
        ({"title": ""}, "title is required"),
        ({"title": "y" * 201}, "title is longer than 200 characters"),
        ({"customer_impacting": "yes"}, "customer_impacting must be true or false"),
    ],
    ids=["severity", "status", "blank-title", "title-too-long", "not-a-boolean"],
)
def test_invalid_field_edits_are_rejected_and_write_nothing(incident, alice, changes, match):
    rejected(
        lambda: services.incident_update_fields(incident=incident, actor=alice, **changes),
        match,
        incident=incident,
    )


# --- the timeline is append-only ----------------------------------------------


def test_a_saved_timeline_event_cannot_be_changed(incident):
    event = TimelineEvent.objects.get(incident=incident, kind=EventKind.DECLARED)
    event.message = "rewritten"

    with pytest.raises(TypeError, match="append-only"):
        event.save()


def test_a_timeline_event_cannot_be_deleted(incident):
    event = TimelineEvent.objects.get(incident=incident, kind=EventKind.DECLARED)

    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    assert TimelineEvent.objects.filter(pk=event.pk).exists()


def test_the_timeline_cannot_be_updated_or_deleted_in_bulk(incident):
    events_of = TimelineEvent.objects.filter(incident=incident)

    with pytest.raises(TypeError, match="append-only"):
        events_of.update(message="rewritten")
    with pytest.raises(TypeError, match="append-only"):
        events_of.delete()
    assert events_of.get(kind=EventKind.DECLARED).message.startswith("Declared P1 High")


def test_an_incident_with_a_timeline_cannot_be_deleted(incident):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError), transaction.atomic():
        incident.delete()


def test_naive_detection_time_is_refused_and_writes_nothing(bob):
    with pytest.raises(DomainError) as error:
        factories.declare(actor=bob, detected_at=datetime(2026, 11, 28, 1, 0))
    assert error.value.field == "detected_at"
    assert not Incident.objects.exists()


def test_a_person_on_the_timeline_cannot_be_deleted(incident, bob):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        bob.delete()
