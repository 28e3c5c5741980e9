"""The dashboard's on-call page (/oncall/): who is on call, the next two
weeks, overrides added and removed by the people allowed to, calendar feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from incidents.models import Override, Schedule
from tests import factories
from tests.page_support import queries, text, visible_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Where conftest's frozen stops the clock, a Monday: the dates written
# below are on-call times around it.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

PAGE = "/oncall/"


@pytest.fixture
def berlin(bob, alice):
    """bob this week, alice the next; hand-off Monday 09:00 Berlin time (UTC+1)."""
    sched = Schedule.objects.create(
        name="Payments primary", slug="payments", time_zone="Europe/Berlin"
    )
    factories.rotation(sched, [bob, alice], starts_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    return sched


def section(response, sched) -> str:
    html = response.content.decode()
    start = html.index(f'id="schedule-{sched.slug}"')
    end = html.find('<section class="card schedule"', start)
    return visible_text(html[start : end if end > 0 else None])


def add_url(sched) -> str:
    return reverse("incidents:override-add", args=[sched.pk])


def remove_url(override) -> str:
    return reverse("incidents:override-remove", args=[override.pk])


def override_post(sched, user, start: str, end: str, reason: str = "") -> dict:
    p = f"s{sched.pk}-"
    return {
        p + "user": user.pk,
        p + "starts_at": start,
        p + "ends_at": end,
        p + "reason": reason,
    }


# --- reading ---------------------------------------------------------------------------


def test_a_viewer_sees_who_is_on_call_the_next_shifts_and_the_feeds(client_for, vera, berlin):
    response = client_for(vera).get(PAGE)

    assert response.status_code == 200
    card = section(response, berlin)
    assert "Payments primary" in card and "Europe/Berlin" in card
    # On call now: bob until the next Monday hand-off, shown on Berlin's clock.
    assert re.search(r"On call now .*Bob .*until Mon 9 Mar 09:00 CET", card), card
    # The next two weeks: bob, alice, bob again.
    rows = re.findall(r"(Bob|Alice) (Mon \d+ Mar \d\d:\d\d CET) (Mon \d+ Mar \d\d:\d\d CET)", card)
    assert rows == [
        ("Bob", "Mon 2 Mar 11:00 CET", "Mon 9 Mar 09:00 CET"),
        ("Alice", "Mon 9 Mar 09:00 CET", "Mon 16 Mar 09:00 CET"),
        ("Bob", "Mon 16 Mar 09:00 CET", "Mon 16 Mar 11:00 CET"),
    ], card
    html = response.content.decode()
    assert f"/oncall/{berlin.feed_token}/calendar.ics?user=vera" in html
    # Viewers read; they get no override form.
    assert f'action="{add_url(berlin)}"' not in html


def test_the_page_is_for_signed_in_people_with_a_group(client, charlie):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    client.force_login(charlie)
    assert client.get(PAGE).status_code == 403


def test_the_nav_and_the_boards_strip_link_here(client_for, vera, berlin):
    board = client_for(vera).get("/").content.decode()

    assert board.count(f'href="{PAGE}"') >= 2  # top bar and "On call now"


def test_queries_do_not_grow_with_the_schedules(client_for, vera, berlin, bob):
    client = client_for(vera)
    client.get(PAGE)  # warm caches (session, permissions)

    before = queries(client, PAGE)
    for n in range(5):
        sched = Schedule.objects.create(name=f"Extra {n}", slug=f"extra-{n}")
        factories.rotation(sched, [bob], interval="daily")
        factories.override(sched, bob)
    assert queries(client, PAGE) == before


# --- adding overrides ------------------------------------------------------------------


def test_a_responder_takes_a_shift_typed_on_the_schedules_clock(client_for, bob, berlin):
    client = client_for(bob)

    response = client.post(
        add_url(berlin),
        override_post(berlin, bob, "2026-03-10T18:00", "2026-03-11T08:00", "swap with Alice"),
    )

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#schedule-payments"
    override = Override.objects.get()
    # 18:00 in Berlin (CET, UTC+1) is 17:00 UTC.
    assert override.starts_at == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert override.ends_at == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    assert (override.user, override.created_by, override.reason) == (bob, bob, "swap with Alice")
    page = client.get(PAGE)
    assert "Bob" in section(page, berlin) and "swap with Alice" in section(page, berlin)


def test_a_responder_can_only_put_themselves_on_call(client_for, bob, alice, berlin):
    client = client_for(bob)
    form = client.get(PAGE).content.decode()
    select = re.search(rf'<select name="s{berlin.pk}-user".*?</select>', form, re.S).group(0)
    assert re.findall(r'<option value="(\d+)"', select) == [str(bob.pk)]

    response = client.post(
        add_url(berlin), override_post(berlin, alice, "2026-03-10T18:00", "2026-03-11T08:00")
    )

    # Refused by the service, as the API refuses it (403), not by the form.
    assert response.status_code == 403
    assert not Override.objects.exists()


def test_a_manager_puts_anyone_on_call(client_for, alice, vera, berlin):
    response = client_for(alice).post(
        add_url(berlin), override_post(berlin, vera, "2026-03-02T10:30", "2026-03-02T20:00")
    )

    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.created_by) == (vera, alice)
    page = client_for(alice).get(PAGE)
    assert re.search(r"On call now .*Vera until .* override", section(page, berlin))


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-03-11T08:00", "2026-03-10T18:00", "ends_at", "must be after starts_at"),
        ("2026-03-10T18:00", "", "ends_at", "This field is required"),
        ("tomorrow", "2026-03-10T18:00", "starts_at", "Enter a valid date/time"),
    ],
)
def test_a_bad_window_is_400_at_its_field_and_writes_nothing(
    client_for, bob, berlin, start, end, field, message
):
    response = client_for(bob).post(add_url(berlin), override_post(berlin, bob, start, end))

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(rf'id="id_s{berlin.pk}-{field}_error"[^>]*>.*?{message}', html, re.S), html
    assert not Override.objects.exists()


def test_viewers_cannot_add_and_unknown_schedules_are_404(client_for, vera, bob, berlin):
    data = override_post(berlin, vera, "2026-03-10T18:00", "2026-03-11T08:00")
    assert client_for(vera).post(add_url(berlin), data).status_code == 403
    assert client_for(bob).post("/oncall/schedules/999999/overrides/", data).status_code == 404
    assert not Override.objects.exists()


def test_adding_needs_a_csrf_token(client, bob, berlin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob)
    data = override_post(berlin, bob, "2026-03-10T18:00", "2026-03-11T08:00")

    assert strict.post(add_url(berlin), data).status_code == 403
    assert not Override.objects.exists()


# --- removing overrides ----------------------------------------------------------------


def test_remove_buttons_show_only_where_allowed_and_work(client_for, bob, alice, vera, berlin):
    mine = factories.override(berlin, bob, created_by=alice)
    theirs = factories.override(berlin, vera, created_by=alice)
    client = client_for(bob)

    html = client.get(PAGE).content.decode()
    assert f'action="{remove_url(mine)}"' in html
    assert f'action="{remove_url(theirs)}"' not in html

    assert client.post(remove_url(theirs)).status_code == 403
    response = client.post(remove_url(mine))
    assert response.status_code == 302
    assert list(Override.objects.all()) == [theirs]


def test_a_manager_removes_any_override(client_for, alice, vera, berlin):
    theirs = factories.override(berlin, vera, created_by=vera)

    assert client_for(alice).post(remove_url(theirs)).status_code == 302
    assert not Override.objects.exists()


def test_removing_is_post_only_and_unknown_is_404(client_for, alice, vera, berlin):
    theirs = factories.override(berlin, vera, created_by=vera)
    client = client_for(alice)

    assert client.get(remove_url(theirs)).status_code == 405
    assert client.post("/oncall/overrides/999999/remove/").status_code == 404
    assert Override.objects.filter(pk=theirs.pk).exists()


def test_a_one_person_rotation_has_no_hand_off_not_a_made_up_one(client_for, vera, bob):
    solo = Schedule.objects.create(name="Solo", slug="solo")
    factories.rotation(solo, [bob])
    client = client_for(vera)

    page = section(client.get(PAGE), solo)
    board = text(client.get("/"))

    assert re.search(r"On call now .*Bob no hand-off planned", page), page
    assert "Bob no hand-off planned" in board
    assert "until" not in page.split("Next 14 days")[0]
