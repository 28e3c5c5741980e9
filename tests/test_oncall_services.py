"""The services of on-call and the policies (issue 10, item 1): the rules
that lived at one entry point only, or nowhere, now hold in the service,
and the admin's pages store through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from incidents import services
from incidents.errors import DomainError
from incidents.models import (
    AuditEntry,
    EntryPoint,
    EscalationLevel,
    EscalationPolicy,
    Override,
    Rotation,
    RotationMember,
    Schedule,
    SeverityPolicy,
)
from tests import factories
from tests.admin_support import inline_rows
from tests.api_support import API, assert_json_error, token_client
from tests.oncall_support import (
    T0,
    deleting,
    weekly_people,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


# --- the defects issue 10 names ---------------------------------------------------------


def test_the_admin_says_why_a_schedule_an_escalation_level_pages_is_not_deleted(client, alice):
    schedule = Schedule.objects.get(slug="senior-engineer")
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_schedule_delete", args=[schedule.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:incidents_schedule_change", args=[schedule.pk])
    [message] = [m.message for m in get_messages(response.wsgi_request)]
    assert message == (
        "Senior engineer is used by Technical escalation L2; change those levels first."
    )
    assert Schedule.objects.filter(pk=schedule.pk).exists()
    assert not AuditEntry.objects.exists()


def test_the_api_refuses_an_acknowledge_target_with_next_business_day(alice):
    response = token_client(alice).patch(
        f"{API}/severities/P3/", {"ack_target_seconds": 600}, format="json"
    )

    body = assert_json_error(response, 400)
    assert body["errors"] == {
        "ack_target_seconds": [
            "Choose either an acknowledge target in seconds or 'next business day', not both."
        ]
    }
    p3 = SeverityPolicy.objects.get(severity="P3")
    assert (p3.ack_target_seconds, p3.ack_next_business_day) == (None, True)
    # Both at once is a valid change: the fixed target replaces the other.
    changed = token_client(alice).patch(
        f"{API}/severities/P3/",
        {"ack_target_seconds": 600, "ack_next_business_day": False},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["ack_target_seconds"] == 600


def test_an_override_added_in_the_admin_is_stored_and_logged_by_the_service(
    client, alice, bob, weekly
):
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_override_add"),
        {
            "schedule": weekly.schedule.pk,
            "user": bob.pk,
            "starts_at_0": "2026-03-03",
            "starts_at_1": "18:00:00",
            "ends_at_0": "2026-03-04",
            "ends_at_1": "08:00:00",
            "reason": " swap ",
        },
    )

    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.created_by, override.reason) == (bob, alice, "swap")
    [entry] = AuditEntry.objects.filter(action="override_add")
    assert (entry.entry_point, entry.actor, entry.object_id) == (
        EntryPoint.ADMIN,
        alice,
        str(override.pk),
    )


# --- rules that were missing or at one entry point only --------------------------------------


def test_a_schedule_an_open_incidents_escalation_pages_is_not_deleted(alice, bob):
    schedule = services.schedule_create(actor=alice, name="DBA")
    level = EscalationLevel.objects.get(policy__path="technical", level=2)
    services.escalation_level_update(actor=alice, escalation_level=level, schedule=schedule)
    incident = factories.declare(actor=bob, severity="P1")
    # The level moves on; the incident keeps the copy it was declared with.
    services.escalation_level_update(
        actor=alice, escalation_level=level, schedule=Schedule.objects.get(slug="senior-engineer")
    )

    with pytest.raises(DomainError) as exc:
        deleting(services.schedule_delete, actor=alice, schedule=schedule)

    assert exc.value.conflict
    assert incident.ref in exc.value.message
    assert Schedule.objects.filter(pk=schedule.pk).exists()


def test_deactivated_people_take_no_turns_and_are_not_paged(alice, bob, weekly):
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    with pytest.raises(DomainError) as members:
        services.rotation_set_members(actor=alice, rotation=weekly, members=[alice, bob])
    with pytest.raises(DomainError) as paged:
        services.escalation_level_create(
            actor=alice,
            policy=EscalationPolicy.objects.get(path="technical"),
            level=5,
            name="Bob",
            user=bob,
        )

    assert (members.value.field, paged.value.field) == ("members", "user")
    assert weekly_people(weekly) == [bob, alice]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auto_severities": "P0"}, "auto_severities"),
        ({"auto_severities": ["P0", "P5"]}, "auto_severities"),
        ({"path": "business"}, "path"),
        ({"name": " "}, "name"),
    ],
)
def test_an_escalation_policy_is_checked_whole(alice, technical, changes, field):
    with pytest.raises(DomainError) as exc:
        services.escalation_policy_update(actor=alice, policy=technical, **changes)

    assert exc.value.field == field
    technical.refresh_from_db()
    assert (technical.path, technical.auto_severities) == ("technical", ["P0", "P1"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"notify_channels": ["carrier pigeon"]}, "notify_channels"),
        ({"notify_channels": "slack"}, "notify_channels"),
        ({"oncall": "sometimes"}, "oncall"),
        ({"resolve_target_seconds": -1}, "resolve_target_seconds"),
        ({"update_cadence_seconds": 2**31}, "update_cadence_seconds"),
        ({"response_time": ""}, "response_time"),
        ({"oncall_required": "yes"}, "oncall_required"),
    ],
)
def test_a_severity_policy_is_checked_whole(alice, changes, field):
    p0 = SeverityPolicy.objects.get(severity="P0")
    before = SeverityPolicy.objects.values().get(pk=p0.pk)

    with pytest.raises(DomainError) as exc:
        services.severity_policy_update(actor=alice, policy=p0, **changes)

    assert exc.value.field == field
    assert SeverityPolicy.objects.values().get(pk=p0.pk) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"shift_hours": 0, "interval": "custom"}, "shift_hours"),
        ({"shift_hours": 24 * 367, "interval": "custom"}, "shift_hours"),
        ({"priority": -1}, "priority"),
        ({"interval": "fortnightly"}, "interval"),
        ({"starts_at": datetime(9999, 12, 31, tzinfo=UTC)}, "starts_at"),
        ({"ends_at": T0 - timedelta(days=2)}, "ends_at"),
        ({"schedule": None}, "schedule"),
    ],
)
def test_a_rotation_is_checked_whole(alice, weekly, changes, field):
    with pytest.raises(DomainError) as exc:
        services.rotation_update(actor=alice, rotation=weekly, **changes)

    assert exc.value.field == field
    assert Rotation.objects.values().get(pk=weekly.pk)["interval"] == "weekly"


def test_a_rotation_added_in_the_admin_is_one_change_with_its_members(client, alice, bob, primary):
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_rotation_add"),
        {
            "schedule": primary.pk,
            "name": "Nights",
            "priority": "1",
            "interval": "daily",
            "starts_at_0": "2026-03-03",
            "starts_at_1": "20:00:00",
            **inline_rows(
                "members", {"position": "2", "user": bob.pk}, {"position": "1", "user": alice.pk}
            ),
        },
    )

    assert response.status_code == 302
    rotation = Rotation.objects.get(name="Nights")
    assert weekly_people(rotation) == [alice, bob]  # in position order
    [entry] = AuditEntry.objects.filter(object_type="rotation")
    assert (entry.action, entry.after["members"]) == ("rotation_create", ["alice", "bob"])


def test_rotation_members_are_ordered_on_their_rotation_and_only_removed_alone(
    client, alice, bob, weekly
):
    client.force_login(alice)
    bobs = RotationMember.objects.get(rotation=weekly, user=bob)

    assert client.get(reverse("admin:incidents_rotationmember_add")).status_code == 403
    page = client.get(reverse("admin:incidents_rotationmember_change", args=[bobs.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    removed = client.post(
        reverse("admin:incidents_rotationmember_delete", args=[bobs.pk]), {"post": "yes"}
    )

    assert removed.status_code == 302
    assert weekly_people(weekly) == [alice]
    [entry] = AuditEntry.objects.filter(action="rotation_set_members")
    assert (entry.before, entry.after) == ({"members": ["bob", "alice"]}, {"members": ["alice"]})
