"""incidents.services, the rest of an incident's life: status, severity,
mitigation, resolution, reopening, escalation by hand and descriptive fields;
the timeline is append-only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from incidents import services
from incidents.errors import DomainError
from incidents.models import Deadline, DeadlineKind, EventKind, Incident, Status, TimelineEvent
from tests import factories
from tests.engine_support import MIN, T0, events, staff_both_paths
from tests.service_support import deadline, pending, rejected

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


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


@pytest.mark.parametrize(
    ("resolved_first", "change"),
    [
        (True, lambda i, u: services.incident_reopen(incident=i, actor=u, reason="")),
        (False, lambda i, u: services.incident_escalate(incident=i, actor=u, reason=" ")),
    ],
    ids=["reopen", "escalate"],
)
def test_reopening_and_escalating_by_hand_need_a_reason(incident, bob, resolved_first, change):
    if resolved_first:
        services.incident_resolve(incident=incident, actor=bob, root_cause="x")

    error = rejected(lambda: change(incident, bob), "reason is required", incident=incident)

    assert error.field == "reason"


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
