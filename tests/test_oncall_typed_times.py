"""On-call changes within reason (issue 9, item 4): a responder takes shifts
only on schedules whose rotations include them, and every override time is
checked by ``timebounds`` alike in the API, the dashboard and the admin, so no
stored time can take the on-call pages down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from incidents.models import Override, Rotation, Schedule
from tests import factories
from tests.admin_support import empty_inlines, form_errors
from tests.api_support import API, assert_json_error, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Where conftest's frozen stops the clock, a Monday: the dates written
# below are on-call times around it.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _schedule(name: str, zone: str, *members) -> Schedule:
    sched = Schedule.objects.create(name=name, slug=name.lower(), time_zone=zone)
    factories.rotation(sched, members, starts_at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    return sched


@pytest.fixture
def far(bob, alice):
    """bob's own schedule, kept in the zone furthest west of UTC."""
    return _schedule("Far", "Etc/GMT+12", bob, alice)


@pytest.fixture
def others(alice, vera):
    """A schedule whose rotation does not include bob."""
    return _schedule("Others", "UTC", alice)


# --- posting an override at each entry point ---------------------------------------


def _api(user, sched, starts: str, ends: str, offset: str) -> tuple[int, dict]:
    response = token_client(user).post(
        f"{API}/schedules/{sched.pk}/overrides/",
        {"user": user.username, "starts_at": starts + offset, "ends_at": ends + offset},
        format="json",
    )
    body = response.json()
    return response.status_code, body.get("errors", {})


def _dashboard(client, user, sched, starts: str, ends: str) -> tuple[int, dict]:
    # The form takes wall-clock times in the schedule's zone (datetime-local).
    client.force_login(user)
    p = f"s{sched.pk}-"
    response = client.post(
        reverse("incidents:override-add", args=[sched.pk]),
        {p + "user": user.pk, p + "starts_at": starts, p + "ends_at": ends, p + "reason": ""},
    )
    if response.status_code == 403:
        return 403, {}
    form = next(c["form"] for c in response.context["cards"] if c["schedule"].pk == sched.pk)
    return response.status_code, form.errors


def _admin(client, manager, sched, user, starts: str, ends: str) -> tuple[int, dict]:
    # The admin's split fields are in Django's TIME_ZONE (UTC).
    client.force_login(manager)
    (d0, t0), (d1, t1) = starts.split("T"), ends.split("T")
    response = client.post(
        reverse("admin:incidents_override_add"),
        {
            "schedule": sched.pk,
            "user": user.pk,
            "starts_at_0": d0,
            "starts_at_1": t0,
            "ends_at_0": d1,
            "ends_at_1": t1,
            "reason": "",
        },
    )
    if response.status_code == 302:
        return 302, {}
    return response.status_code, response.context["adminform"].form.errors


def _pages_answer(client, user, sched) -> dict[str, int]:
    client.force_login(user)
    api = token_client(user)
    feed = reverse("incidents:oncall-calendar", kwargs={"feed_token": sched.feed_token})
    return {
        "/oncall/": client.get("/oncall/").status_code,
        "schedules": api.get(f"{API}/schedules/").status_code,
        "schedule": api.get(f"{API}/schedules/{sched.pk}/").status_code,
        "shifts": api.get(f"{API}/schedules/{sched.pk}/shifts/").status_code,
        "overrides": api.get(f"{API}/schedules/{sched.pk}/overrides/").status_code,
        "oncall": api.get(f"{API}/oncall/").status_code,
        "feed": client.get(feed).status_code,
    }


def _admin_pages_answer(client, manager, sched) -> dict[str, int]:
    client.force_login(manager)
    return {
        "override list": client.get(reverse("admin:incidents_override_changelist")).status_code,
        "schedule list": client.get(reverse("admin:incidents_schedule_changelist")).status_code,
        "schedule page": client.get(
            reverse("admin:incidents_schedule_change", args=[sched.pk])
        ).status_code,
    }


@pytest.mark.parametrize("entry", ["api", "dashboard"])
def test_a_responders_override_at_9999_in_etc_gmt12_is_refused_and_every_page_stays_up(
    client, far, bob, alice, entry
):
    # 9999-12-31 23:59 at UTC-12 is 10000-01-01 in UTC: stored, it could not
    # be read back, and every on-call page, the API and the admin answered 500.
    if entry == "api":
        status, errors = _api(bob, far, "9999-12-30T00:00:00", "9999-12-31T23:59:00", "-12:00")
    else:
        status, errors = _dashboard(client, bob, far, "9999-12-30T00:00", "9999-12-31T23:59")

    assert status == 400
    assert errors["starts_at"] == ["This time is more than 5 years ahead."]
    assert not Override.objects.exists()
    assert set(_pages_answer(client, bob, far).values()) == {200}
    assert set(_admin_pages_answer(client, alice, far).values()) == {200}


def test_an_end_past_what_datetime_holds_in_utc_is_out_of_range_not_a_500(client, far, bob):
    starts = "2026-03-03T09:00:00-12:00"
    status, errors = _api(bob, far, "2026-03-03T09:00:00", "9999-12-31T23:59:00", "-12:00")

    assert (status, errors) == (400, {"ends_at": ["This time is out of range."]})
    status, errors = _dashboard(client, bob, far, starts[:16], "9999-12-31T23:59")
    assert (status, errors) == (400, {"ends_at": ["This time is out of range."]})
    assert not Override.objects.exists()


CASES = {
    "years-ahead": (
        ("2032-06-01T09:00:00", "2032-06-02T09:00:00"),
        "starts_at",
        "This time is more than 5 years ahead.",
    ),
    "before-2000": (
        ("1999-12-31T09:00:00", "2026-03-03T09:00:00"),
        "starts_at",
        "This time is before 2000-01-01; enter a recent time.",
    ),
    "year-one": (
        ("0001-01-01T00:00:00", "2026-03-03T09:00:00"),
        "starts_at",
        "This time is before 2000-01-01; enter a recent time.",
    ),
}


@pytest.mark.parametrize("entry", ["api", "dashboard", "admin"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_entry_point_refuses_an_override_time_the_same_way(client, bob, alice, entry, case):
    utc = _schedule("Utc", "UTC", bob, alice)
    (starts, ends), field, message = CASES[case]

    if entry == "api":
        status, errors = _api(bob, utc, starts, ends, "+00:00")
    elif entry == "dashboard":
        status, errors = _dashboard(client, bob, utc, starts[:16], ends[:16])
    else:
        status, errors = _admin(client, alice, utc, bob, starts, ends)

    assert status == (200 if entry == "admin" else 400)  # the admin shows its form again
    assert errors[field] == [message]
    assert not Override.objects.exists()


# --- whose schedules ------------------------------------------------------------------

WINDOW = ("2026-03-03T18:00:00", "2026-03-04T08:00:00")


def test_a_responder_takes_shifts_only_on_schedules_whose_rotations_include_them(
    client, bob, far, others
):
    refused_api = token_client(bob).post(
        f"{API}/schedules/{others.pk}/overrides/",
        {"user": "bob", "starts_at": WINDOW[0] + "Z", "ends_at": WINDOW[1] + "Z"},
        format="json",
    )
    refused_dashboard, _ = _dashboard(client, bob, others, WINDOW[0][:16], WINDOW[1][:16])

    body = assert_json_error(refused_api, 403)
    assert "no rotation of Others" in body["detail"]
    assert refused_dashboard == 403
    assert not Override.objects.exists()
    # On his own schedule he may.
    assert _api(bob, far, *WINDOW, "-12:00")[0] == 201
    assert list(Override.objects.values_list("schedule__slug", flat=True)) == ["far"]


def test_a_manager_takes_shifts_on_any_schedule(client, alice, vera, others):
    starts, ends = WINDOW
    vera_covers = token_client(alice).post(
        f"{API}/schedules/{others.pk}/overrides/",
        {"user": "vera", "starts_at": starts + "Z", "ends_at": ends + "Z"},
        format="json",
    )
    status, _ = _admin(client, alice, others, vera, starts, ends)

    assert vera_covers.status_code == 201, vera_covers.content
    assert status == 302
    assert Override.objects.filter(schedule=others, user=vera, created_by=alice).count() == 2


def test_the_oncall_page_offers_take_a_shift_only_where_the_responder_may(
    client, bob, alice, far, others
):
    client.force_login(bob)
    cards = client.get("/oncall/").context
    offered = {
        card["schedule"].slug: card["form"] is not None
        for card in [*cards["cards"], *cards["empty"]]
    }

    assert offered["far"] is True
    assert offered["others"] is False
    client.force_login(alice)
    cards = client.get("/oncall/").context
    assert all(card["form"] is not None for card in [*cards["cards"], *cards["empty"]])


# --- the admin stores through the service ---------------------------------------------


def test_an_override_changed_in_the_admin_is_checked_like_a_new_one(client, alice, bob, far):
    override = factories.override(
        far,
        bob,
        datetime(2026, 3, 3, 9, tzinfo=UTC),
        datetime(2026, 3, 3, 17, tzinfo=UTC),
        created_by=bob,
    )
    client.force_login(alice)
    change = reverse("admin:incidents_override_change", args=[override.pk])
    data = {
        "schedule": far.pk,
        "user": bob.pk,
        "starts_at_0": "2026-03-03",
        "starts_at_1": "09:00:00",
        "ends_at_0": "9999-12-31",
        "ends_at_1": "23:59:59",
        "reason": "",
    }

    refused = client.post(change, data)
    accepted = client.post(
        change, {**data, "ends_at_0": "2026-03-04", "ends_at_1": "09:00:00", "reason": " swap "}
    )

    assert form_errors(refused) == {"ends_at": ["This time is more than 5 years ahead."]}
    assert accepted.status_code == 302
    override.refresh_from_db()
    assert (override.ends_at, override.reason, override.created_by) == (
        datetime(2026, 3, 4, 9, tzinfo=UTC),
        "swap",
        bob,
    )


# --- a row written around the checks ------------------------------------------------


def test_an_override_no_page_can_read_no_longer_takes_the_pages_down(client, bob, alice, far):
    override = factories.override(
        far,
        bob,
        datetime(2026, 3, 2, 9, tzinfo=UTC),
        datetime(2026, 3, 9, 9, tzinfo=UTC),
        created_by=bob,
    )
    with connection.cursor() as cursor:  # as a row stored before this check existed
        cursor.execute(
            "UPDATE incidents_override SET ends_at = '10000-01-01 11:59:00+00' WHERE id = %s",
            [override.pk],
        )

    assert set(_pages_answer(client, bob, far).values()) == {200}
    assert set(_admin_pages_answer(client, alice, far).values()) == {200}


def test_a_time_typed_with_an_offset_into_the_dashboard_form_is_a_form_error_not_a_500(
    client, far, bob
):
    # Django's form field parses ISO 8601 with an offset too; nothing may
    # convert it before the check does.
    status, errors = _dashboard(client, bob, far, "2026-03-03T09:00", "9999-12-31T23:59:59-12:00")

    assert (status, errors) == (400, {"ends_at": ["This time is out of range."]})
    assert not Override.objects.exists()


def test_a_rotation_typed_in_the_admin_gets_the_same_time_check(client, alice, far):
    client.force_login(alice)
    response = client.post(
        reverse("admin:incidents_rotation_add"),
        {
            "schedule": far.pk,
            "name": "Forever",
            "priority": "0",
            "interval": "weekly",
            "starts_at_0": "9999-12-31",
            "starts_at_1": "23:00:00",
            **empty_inlines("members"),
        },
    )

    assert form_errors(response) == {"starts_at": ["This time is more than 5 years ahead."]}
    assert not Rotation.objects.filter(name="Forever").exists()
