"""Escalation paths: the guide's levels copied onto each incident, climbed
by the clock when there is no progress (sweep called directly, time frozen)
and by hand through the service, the API and the dashboard."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth import get_user_model

from incidents import services
from incidents.errors import IncidentError
from incidents.models import (
    Deadline,
    DeadlineKind,
    EscalationLevel,
    EscalationPolicy,
    EventKind,
    Incident,
    IncidentEscalationStep,
    Notification,
    TimelineEvent,
)
from incidents.notify import messages
from tests import factories
from tests.api_support import incident_url, token_client
from tests.engine_support import (
    MIN,
    T0,
    channel_messages,
    events,
    everything_channel,
    fresh,
    paged,
    pending_levels,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def staffed_with_channel(staffed):
    """Someone on call at every level (conftest's ``staffed``) and a
    channel that receives every message."""
    return everything_channel()


def escalation_rows(incident: Incident, **filters):
    return Deadline.objects.filter(incident=incident, kind=DeadlineKind.ESCALATION, **filters)


def levels_due(incident: Incident, path: str = "technical") -> list[datetime]:
    """When each level above the first is due, lowest first."""
    return [d.due_at for d in escalation_rows(incident, path=path).order_by("level")]


# A P0 detected at T0 and never acknowledged reaches L2, L3 and L4 at the
# guide's minutes from its detection.
P0_LEVELS_DUE = [T0 + 15 * MIN, T0 + 30 * MIN, T0 + 60 * MIN]


# What an escalation to L2 of the technical path records, by the clock or by
# hand ("manual"): sam is on call there (engine_support) and paged by email.
TECHNICAL_L2 = {
    "path": "technical",
    "level": 2,
    "level_name": "Senior engineer",
    "notified": ["sam"],
    "paged": [{"username": "sam", "name": "Sam", "methods": ["email"]}],
}


# --- by the clock ----------------------------------------------------------------------


def test_unacknowledged_p0_pages_l1_then_escalates_to_l2_l3_and_l4_at_the_guides_minutes(
    staffed_with_channel, bob, at
):
    dana = get_user_model().objects.get(username="dana")
    incident = factories.declare(actor=bob, severity="P0")

    # Declared: L1 reached and its on-call engineer paged.
    assert paged(incident) == ["dana"]
    [page] = Notification.objects.filter(incident=incident, recipient=dana)
    assert messages.subject(page.message_kind, page.context).startswith(
        "📟 PAGED L1 On-call engineer: "
    )
    [note] = events(incident, EventKind.NOTIFICATION)
    assert note.message == "Paging L1 On-call engineer: dana"
    assert note.detail == {
        "path": "technical",
        "level": 1,
        "notified": ["dana"],
        "paged": [{"username": "dana", "name": "Dana", "methods": ["email"]}],
    }
    assert pending_levels(incident) == [2, 3, 4]
    assert levels_due(incident) == P0_LEVELS_DUE

    at(14.9)
    assert fresh(incident).escalation_level == 1

    at(15)
    assert fresh(incident).escalation_level == 2
    [l2] = events(incident, EventKind.ESCALATED)
    assert l2.actor is None
    assert l2.message == "No acknowledgement within 15 min: escalated to L2 Senior engineer"
    assert (l2.before, l2.after) == ({"escalation_level": 1}, {"escalation_level": 2})
    assert l2.detail == {**TECHNICAL_L2, "manual": False}
    assert paged(incident) == ["dana", "sam"]
    assert "escalation" in channel_messages(incident)

    at(30)
    assert fresh(incident).escalation_level == 3
    l3 = events(incident, EventKind.ESCALATED)[-1]
    assert l3.message == "No identification within 30 min: escalated to L3 Engineering manager"
    assert l3.detail["notified"] == ["mia"]

    at(60)
    assert fresh(incident).escalation_level == 4
    assert events(incident, EventKind.ESCALATED)[-1].detail["notified"] == ["victor"]
    assert paged(incident) == ["dana", "sam", "mia", "victor"]
    step = IncidentEscalationStep.objects.get(incident=incident, path="technical", level=4)
    assert (step.reached_at, step.notified) == (T0 + 60 * MIN, ["victor"])
    assert pending_levels(incident) == []


def test_p1_escalation_stops_at_l3(staffed_with_channel, bob, at):
    incident = factories.declare(actor=bob, severity="P1")
    assert paged(incident) == ["dana"]  # the guide: P1 on-call is notified
    assert pending_levels(incident) == [2, 3]  # L4 is for critical incidents only

    at(180)

    assert fresh(incident).escalation_level == 3
    assert paged(incident) == ["dana", "sam", "mia"]


def test_p2_pages_nobody_and_does_not_escalate_by_the_clock(staffed_with_channel, bob, at):
    incident = factories.declare(actor=bob, severity="P2")

    at(180)

    assert paged(incident) == []
    assert fresh(incident).escalation_level == 1
    assert not escalation_rows(incident).exists()


def test_acknowledgement_at_3_minutes_stops_the_escalation(staffed_with_channel, bob, frozen, at):
    incident = factories.declare(actor=bob, severity="P0")
    frozen.move_to(T0 + 3 * MIN, tick=False)

    services.incident_acknowledge(incident=incident, actor=bob)

    assert pending_levels(incident) == []
    at(120)
    assert fresh(incident).escalation_level == 1
    assert events(incident, EventKind.ESCALATED) == []
    assert paged(incident) == ["dana"]


def test_acknowledged_at_l2_but_not_identified_climbs_to_l3_at_30_minutes(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P0")
    at(15)
    frozen.move_to(T0 + 20 * MIN, tick=False)
    services.incident_acknowledge(incident=incident, actor=bob)
    assert pending_levels(incident) == [3, 4]  # at L2 only identification is progress

    at(30)

    assert fresh(incident).escalation_level == 3
    assert events(incident, EventKind.ESCALATED)[-1].message.startswith(
        "No identification within 30 min"
    )


def test_identifying_the_cause_stops_both_paths(staffed_with_channel, bob, frozen, at):
    incident = factories.declare(actor=bob, severity="P0", customer_impacting=True)
    at(15)
    assert (fresh(incident).escalation_level, fresh(incident).business_escalation_level) == (2, 2)
    frozen.move_to(T0 + 20 * MIN, tick=False)

    services.incident_change_status(incident=fresh(incident), actor=bob, status="identified")

    assert pending_levels(incident, "technical") == pending_levels(incident, "business") == []
    at(120)
    assert (fresh(incident).escalation_level, fresh(incident).business_escalation_level) == (2, 2)


def test_progress_found_when_a_level_falls_due_stops_the_chain_without_paging(
    staffed_with_channel, bob, frozen, at
):
    # Acknowledging stops the technical path at once; the business path
    # (customer impact) finds the acknowledgement when its L2 falls due.
    incident = factories.declare(actor=bob, severity="P1", customer_impacting=True)
    assert paged(incident) == ["dana", "lena"]
    frozen.move_to(T0 + 5 * MIN, tick=False)
    services.incident_acknowledge(incident=incident, actor=bob)
    assert pending_levels(incident, "technical") == []
    assert pending_levels(incident, "business") == [2, 3, 4]

    at(15)

    assert fresh(incident).business_escalation_level == 1
    assert pending_levels(incident, "business") == []
    assert escalation_rows(incident, path="business", level=2).get().fired_at == T0 + 15 * MIN
    assert paged(incident) == ["dana", "lena"]


def test_a_chain_stopped_earlier_in_the_same_sweep_does_not_fire_its_later_levels(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P1", customer_impacting=True)
    frozen.move_to(T0 + 5 * MIN, tick=False)
    services.incident_acknowledge(incident=incident, actor=bob)

    at(31)  # the engine was down: business L2 and L3 fall due in one sweep

    l2, l3 = escalation_rows(incident, path="business", level__in=[2, 3]).order_by("level")
    assert (l2.fired_at, l2.cancelled_at) == (T0 + 31 * MIN, None)
    assert (l3.fired_at, l3.cancelled_at) == (None, T0 + 31 * MIN)
    assert fresh(incident).business_escalation_level == 1
    assert paged(incident) == ["dana", "lena"]


def test_business_escalation_starting_after_an_acknowledgement_plans_no_climb(
    staffed_with_channel, bob, frozen
):
    incident = factories.declare(actor=bob, severity="P1")
    services.incident_acknowledge(incident=incident, actor=bob)
    frozen.move_to(T0 + 5 * MIN, tick=False)

    services.incident_update_fields(incident=incident, actor=bob, customer_impacting=True)

    assert fresh(incident).business_escalation_level == 1
    assert paged(incident) == ["dana", "lena"]
    assert pending_levels(incident, "business") == []


def test_resolving_cancels_every_escalation_step(staffed_with_channel, bob, at):
    incident = factories.declare(actor=bob, severity="P0", customer_impacting=True)

    services.incident_resolve(incident=incident, actor=bob, root_cause="Bad deploy")

    assert pending_levels(incident, "technical") == pending_levels(incident, "business") == []
    at(120)
    assert events(incident, EventKind.ESCALATED)[-1].detail["level"] == 1  # business start only


def test_a_level_already_reached_by_hand_is_not_paged_again_by_the_clock(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P0")
    frozen.move_to(T0 + 5 * MIN, tick=False)
    services.incident_escalate(incident=incident, actor=bob, reason="Checkout down")

    at(15)

    assert fresh(incident).escalation_level == 2
    assert paged(incident) == ["dana", "sam"]
    assert escalation_rows(incident, level=2).get().fired_at == T0 + 15 * MIN


# --- the copy ------------------------------------------------------------------------------


def test_editing_the_policy_after_declaration_does_not_change_the_running_escalation(
    staffed_with_channel, bob, alice, at
):
    incident = factories.declare(actor=bob, severity="P0")
    steps = IncidentEscalationStep.objects.filter(incident=incident)
    assert sorted(steps.values_list("path", "level")) == [
        ("business", 1),
        ("business", 2),
        ("business", 3),
        ("business", 4),
        ("technical", 1),
        ("technical", 2),
        ("technical", 3),
        ("technical", 4),
    ]
    # A manager makes L2 start after 5 minutes and page alice instead.
    level = EscalationLevel.objects.get(policy__path="technical", level=2)
    level.starts_after_minutes, level.schedule, level.user = 5, None, alice
    level.save()

    at(6)
    assert fresh(incident).escalation_level == 1

    at(15)
    assert fresh(incident).escalation_level == 2
    assert paged(incident) == ["dana", "sam"]
    # A new incident gets the edited policy.
    later = factories.declare(actor=bob, severity="P0", title="Second outage")
    assert escalation_rows(later, level=2).get().due_at == T0 + 20 * MIN


def test_a_severity_change_replans_by_the_copy_not_the_policy_edited_since(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P1")
    # A manager stops P0 and P1 from climbing by the clock, for new incidents.
    EscalationPolicy.objects.filter(path="technical").update(auto_severities=[])
    frozen.move_to(T0 + 10 * MIN, tick=False)

    services.incident_change_severity(incident=incident, actor=bob, severity="P0")

    # The incident was declared when P0 climbed by the clock: it still does.
    assert pending_levels(incident) == [2, 3, 4]
    at(15)
    assert fresh(incident).escalation_level == 2
    # A new P0 follows the edited policy.
    later = factories.declare(actor=bob, severity="P0", title="Second outage")
    assert pending_levels(later) == []


# --- business path -------------------------------------------------------------------------


def test_a_customer_impacting_incident_starts_business_escalation(staffed_with_channel, bob, at):
    incident = factories.declare(actor=bob, severity="P2", customer_impacting=True)

    assert fresh(incident).business_escalation_level == 1
    [start] = events(incident, EventKind.ESCALATED)
    assert start.message == (
        "Customers are affected: business escalation started at L1 Customer support lead"
    )
    assert start.detail["notified"] == ["lena"]
    assert paged(incident) == ["lena"]  # a P2 pages no engineer

    at(15)
    assert fresh(incident).business_escalation_level == 2
    assert paged(incident) == ["lena", "carl"]


def test_marking_an_incident_customer_impacting_later_starts_business_escalation_then(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P1")
    assert fresh(incident).business_escalation_level == 0
    frozen.move_to(T0 + 40 * MIN, tick=False)

    services.incident_update_fields(incident=incident, actor=bob, customer_impacting=True)

    assert fresh(incident).business_escalation_level == 1
    assert levels_due(incident, path="business") == [
        T0 + 55 * MIN,
        T0 + 70 * MIN,
        T0 + 100 * MIN,
    ]
    kinds = [e.kind for e in TimelineEvent.objects.filter(incident=incident).order_by("id")]
    assert kinds[-2:] == [EventKind.FIELDS_CHANGED, EventKind.ESCALATED]
    at(55)
    assert fresh(incident).business_escalation_level == 2


# --- severity changes -----------------------------------------------------------------------


def test_raising_the_severity_pages_l1_and_plans_the_levels_from_detection(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P2")
    assert paged(incident) == [] and pending_levels(incident) == []
    frozen.move_to(T0 + 10 * MIN, tick=False)

    services.incident_change_severity(incident=incident, actor=bob, severity="P0")

    assert paged(incident) == ["dana"]
    assert levels_due(incident) == P0_LEVELS_DUE
    at(15)

    assert fresh(incident).escalation_level == 2


def test_lowering_the_severity_replans_without_the_critical_only_level(
    staffed_with_channel, bob, frozen, at
):
    incident = factories.declare(actor=bob, severity="P0")
    at(15)
    frozen.move_to(T0 + 20 * MIN, tick=False)

    services.incident_change_severity(incident=fresh(incident), actor=bob, severity="P1")

    assert pending_levels(incident) == [3]  # L2 passed: not re-fired; L4 is P0-only
    cancelled = escalation_rows(incident, cancelled_at=T0 + 20 * MIN)
    assert sorted(cancelled.values_list("level", flat=True)) == [3, 4]
    at(120)
    assert fresh(incident).escalation_level == 3
    assert paged(incident) == ["dana", "sam", "mia"]


def test_lowering_to_a_severity_that_does_not_escalate_stops_the_clock(
    staffed_with_channel, bob, at
):
    incident = factories.declare(actor=bob, severity="P0")

    services.incident_change_severity(incident=incident, actor=bob, severity="P2")

    assert pending_levels(incident) == []
    at(120)
    assert fresh(incident).escalation_level == 1


# --- by hand --------------------------------------------------------------------------------


def test_escalating_by_hand_pages_the_next_level_and_says_who_was_notified(
    staffed_with_channel, bob, alice
):
    incident = factories.declare(actor=bob, severity="P1")

    incident = services.incident_escalate(incident=incident, actor=alice, reason="Need a DBA")

    assert incident.escalation_level == 2
    [event] = events(incident, EventKind.ESCALATED)
    assert (event.actor, event.message) == (alice, "Need a DBA")
    assert event.detail == {**TECHNICAL_L2, "manual": True}

    assert paged(incident) == ["dana", "sam"]
    notification = incident.notifications.get(recipient__username="sam")
    assert notification.context["reason"] == "Need a DBA"
    assert notification.context["escalation_level"] == 2


def test_escalating_the_business_path_by_hand_starts_it_then_climbs(
    staffed_with_channel, bob, alice
):
    incident = factories.declare(actor=bob, severity="P1")

    incident = services.incident_escalate(
        incident=incident, actor=alice, reason="Key customer called", path="business"
    )
    assert (incident.escalation_level, incident.business_escalation_level) == (1, 1)
    incident = services.incident_escalate(
        incident=incident, actor=alice, reason="Still no answer", path="business"
    )

    assert incident.business_escalation_level == 2
    started, climbed = events(incident, EventKind.ESCALATED)
    assert (started.before, started.after) == (
        {"business_escalation_level": 0},
        {"business_escalation_level": 1},
    )
    assert started.detail["notified"] == ["lena"] and started.detail["manual"] is True
    assert climbed.detail["notified"] == ["carl"]
    assert paged(incident) == ["dana", "lena", "carl"]


def test_the_business_path_tops_out_at_the_ceo(staffed_with_channel, bob):
    incident = factories.declare(actor=bob, severity="P2")
    for _ in range(4):
        incident = services.incident_escalate(
            incident=incident, actor=bob, reason="x", path="business"
        )
    assert incident.business_escalation_level == 4

    with pytest.raises(IncidentError, match="already at business L4, the top level for P2"):
        services.incident_escalate(incident=incident, actor=bob, reason="x", path="business")


def test_an_unknown_path_is_refused_naming_the_field(staffed_with_channel, bob):
    incident = factories.declare(actor=bob, severity="P1")
    with pytest.raises(IncidentError, match="path must be one of: technical, business") as info:
        services.incident_escalate(incident=incident, actor=bob, reason="x", path="sideways")
    assert info.value.field == "path"
    assert events(incident, EventKind.ESCALATED) == []


def test_escalating_by_hand_through_the_api_on_either_path(staffed_with_channel, bob):
    api = token_client(bob)
    incident = factories.declare(actor=bob, severity="P0")
    url = incident_url(incident.ref, "escalate")

    technical = api.post(url, {"reason": "Payments down"}, format="json")
    business = api.post(url, {"reason": "Big customer", "path": "business"}, format="json")

    assert technical.status_code == 200, technical.content
    assert technical.json()["escalation_level"] == 2
    assert business.status_code == 200, business.content
    assert business.json()["business_escalation_level"] == 1
    messages = [
        (e.message, e.detail["path"], e.detail["notified"])
        for e in events(incident, EventKind.ESCALATED)
    ]
    assert messages == [
        ("Payments down", "technical", ["sam"]),
        ("Big customer", "business", ["lena"]),
    ]


def test_the_api_refuses_an_unknown_path_with_400_naming_it(staffed_with_channel, bob):
    api = token_client(bob)
    incident = factories.declare(actor=bob, severity="P0")

    response = api.post(
        incident_url(incident.ref, "escalate"), {"reason": "x", "path": "sideways"}, format="json"
    )

    assert response.status_code == 400
    assert "path" in response.json()["errors"]
    assert events(incident, EventKind.ESCALATED) == []


def test_escalating_from_the_dashboard_with_a_path(staffed_with_channel, bob, client_for):
    incident = factories.declare(actor=bob, severity="P1")
    client = client_for(bob)
    url = f"/incidents/{incident.ref}/escalate/"

    refused = client.post(url, {"path": "business", "reason": " "})
    done = client.post(url, {"path": "business", "reason": "Customer escalation"})

    assert refused.status_code == 400
    assert "reason is required" in refused.content.decode()
    assert done.status_code == 302
    assert fresh(incident).business_escalation_level == 1
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Escalate by hand" in page
