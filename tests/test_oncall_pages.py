"""On-call in the pages people use: the board's "On call now" strip and the
admin (schedule preview, rotations, overrides, contact methods, escalation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from incidents.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    Override,
    Rotation,
    Schedule,
)
from tests import factories
from tests.admin_support import empty_inlines, form_errors, inline_rows, refused_add
from tests.admin_support import url as admin_url
from tests.oncall_support import (
    T0,
)
from tests.page_support import queries, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


# --- the board ------------------------------------------------------------------------


def test_the_board_shows_who_is_on_call_per_schedule_and_until_when(client_for, bob, alice):
    engineer = Schedule.objects.get(slug="on-call-engineer")
    factories.rotation(engineer, [bob, alice], starts_at=T0 - timedelta(days=1))

    page = text(client_for(bob).get("/"))

    assert "On call now" in page
    assert "On-call engineer Bob until 08 Mar 10:00" in page
    # Schedules with nobody on call are left out.
    assert "Senior engineer" not in page


def test_the_board_marks_an_override(client_for, bob, vera):
    engineer = Schedule.objects.get(slug="on-call-engineer")
    factories.rotation(engineer, [bob])
    factories.override(engineer, vera, T0, T0 + timedelta(hours=3))

    page = text(client_for(bob).get("/"))

    assert "On-call engineer Vera until 13:00:00 · override" in page


def test_the_board_says_when_nobody_is_on_call(client_for, alice, vera):
    assert "Nobody is on call in any schedule." in text(client_for(vera).get("/"))
    assert reverse("admin:incidents_schedule_changelist") in (
        client_for(alice).get("/").content.decode()
    )


def test_the_board_query_count_does_not_grow_with_schedules(client_for, bob, alice):
    client = client_for(bob)
    factories.rotation(Schedule.objects.get(slug="on-call-engineer"), [bob])
    few = queries(client, "/")
    for sched in Schedule.objects.exclude(slug="on-call-engineer"):
        factories.rotation(sched, [alice, bob])
        factories.override(sched, alice, T0, T0 + timedelta(hours=1))

    assert queries(client, "/") == few


# --- the admin --------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


def test_the_schedule_page_shows_who_is_on_call_now_and_the_next_week(admin_client, bob, alice):
    sched = Schedule.objects.create(name="Berlin", slug="berlin", time_zone="Europe/Berlin")
    factories.rotation(
        sched, [bob, alice], interval="daily", starts_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    )

    page = text(admin_client.get(admin_url(Schedule, "change", sched.pk)))

    assert "On call now: Alice (rotation) until Tue 03 Mar 10:00 CET" in page
    assert "Who From Until Source" in page
    assert "Bob Tue 03 Mar 10:00 CET Wed 04 Mar 10:00 CET rotation" in page
    assert f"/oncall/{sched.feed_token}/calendar.ics" in page


def test_the_schedule_list_shows_who_is_on_call_in_constant_queries(admin_client, bob):
    url = admin_url(Schedule, "changelist")
    factories.rotation(Schedule.objects.get(slug="on-call-engineer"), [bob])
    few = queries(admin_client, url)
    for sched in Schedule.objects.all():
        factories.rotation(sched, [bob])

    assert queries(admin_client, url) == few
    assert text(admin_client.get(url)).count("Bob") == Schedule.objects.count()


def test_the_schedule_form_offers_only_iana_time_zones(admin_client):
    response = admin_client.post(
        admin_url(Schedule, "add"),
        {
            "name": "Nowhere",
            "slug": "nowhere",
            "time_zone": "Mars/Base",
            **empty_inlines("rotations", "overrides"),
        },
    )

    assert form_errors(response) == {
        "time_zone": ["'Mars/Base' is not an IANA time zone name such as 'Europe/Berlin'."]
    }
    assert not Schedule.objects.filter(slug="nowhere").exists()


def test_an_override_added_on_the_schedule_page_records_who_added_it(admin_client, alice, bob):
    sched = Schedule.objects.create(name="Primary", slug="primary")
    data = {
        "name": "Primary",
        "slug": "primary",
        "description": "",
        "time_zone": "UTC",
        **empty_inlines("rotations"),
        **inline_rows(
            "overrides",
            {
                "user": str(bob.pk),
                "starts_at_0": "2026-03-03",
                "starts_at_1": "09:00:00",
                "ends_at_0": "2026-03-03",
                "ends_at_1": "17:00:00",
                "reason": "Swap",
            },
        ),
    }

    response = admin_client.post(admin_url(Schedule, "change", sched.pk), data)

    assert response.status_code == 302, text(response)[:2000]
    override = Override.objects.get()
    assert (override.user, override.created_by, override.reason) == (bob, alice, "Swap")


# What an admin add page refuses, as the service does: the row's model, the
# POST (made from bob), and what the page says.
ADMIN_REFUSALS = {
    "an override ending before it starts": (
        Override,
        lambda bob: {
            "schedule": str(Schedule.objects.first().pk),
            "user": str(bob.pk),
            "starts_at_0": "2026-03-03",
            "starts_at_1": "17:00:00",
            "ends_at_0": "2026-03-03",
            "ends_at_1": "09:00:00",
        },
        "must be after starts_at",
    ),
    "a custom rotation without shift hours": (
        Rotation,
        lambda bob: {
            "schedule": str(Schedule.objects.first().pk),
            "name": "Odd",
            "priority": "0",
            "interval": "custom",
            "starts_at_0": "2026-03-03",
            "starts_at_1": "09:00:00",
            **inline_rows("members", {"position": "0", "user": str(bob.pk)}),
        },
        "needs a shift length in hours",
    ),
    "a contact method's email that is no address": (
        ContactMethod,
        lambda bob: {
            "user": str(bob.pk),
            "kind": "email",
            "value": "not-an-address",
            "enabled": "on",
        },
        "Enter a valid email address",
    ),
    "an escalation level that pages nobody": (
        EscalationLevel,
        lambda bob: {
            "policy": str(EscalationPolicy.objects.get(path="technical").pk),
            "level": "9",
            "name": "Nobody",
            "starts_after_minutes": "90",
        },
        "choose a schedule, a user or a group",
    ),
}


@pytest.mark.parametrize(("model", "data", "says"), ADMIN_REFUSALS.values(), ids=ADMIN_REFUSALS)
def test_an_admin_add_page_refuses_what_the_service_refuses(admin_client, bob, model, data, says):
    assert says in refused_add(admin_client, model, data(bob))


def test_a_rotation_is_saved_with_its_members_in_the_admin(admin_client, bob, alice):
    response = admin_client.post(
        admin_url(Rotation, "add"),
        {
            "schedule": str(Schedule.objects.get(slug="on-call-engineer").pk),
            "name": "Follow the sun",
            "priority": "1",
            "interval": "custom",
            "shift_hours": "8",
            "starts_at_0": "2026-03-03",
            "starts_at_1": "09:00:00",
            **inline_rows(
                "members",
                {"position": "0", "user": str(bob.pk)},
                {"position": "1", "user": str(alice.pk)},
            ),
        },
    )

    assert response.status_code == 302
    rot = Rotation.objects.get(name="Follow the sun")
    assert [m.user for m in rot.members.all()] == [bob, alice]


def test_a_persons_page_lists_and_adds_their_contact_methods(admin_client, bob):
    ContactMethod.objects.create(user=bob, kind="slack", value="U024BE7LH")
    url = reverse("admin:auth_user_change", args=[bob.pk])

    page = admin_client.get(url)

    assert page.status_code == 200
    assert "U024BE7LH" in page.content.decode()
    assert "Contact methods" in text(page)


def test_the_escalation_policy_page_shows_the_guides_levels(admin_client):
    policy = EscalationPolicy.objects.get(path="technical")

    page = admin_client.get(admin_url(EscalationPolicy, "change", policy.pk))

    assert page.status_code == 200
    assert "Engineering manager" in page.content.decode()


def test_incident_escalation_steps_are_read_only(admin_client, bob):
    incident = factories.declare(actor=bob, severity="P0")
    step = incident.escalation_steps.first()
    assert step is not None, "declaring a P0 copies its policy's steps onto the incident"

    page = admin_client.get(admin_url(type(step), "change", step.pk))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.get(admin_url(type(step), "add")).status_code == 403


def test_the_user_admin_keeps_djangos_fields(admin_client):
    user = get_user_model().objects.get(username="alice")

    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))

    assert 'name="username"' in page.content.decode()
    assert "Permissions" in text(page)
