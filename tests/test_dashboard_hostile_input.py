"""Hostile input at the dashboard, the calendar feed and acknowledge links:
a 4xx naming what is wrong, never a 500; an oversized form comes back with
its message and the text that fitted, never a bare "Bad Request (400)"."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from incidents import ack_links
from incidents.models import (
    ContactMethod,
    Incident,
    Override,
    Schedule,
    StatusUpdate,
)
from tests import factories

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def csrf_client(user, page: str) -> tuple[Client, str]:
    """A client that enforces CSRF, as a browser meets it, and the form's token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    html = client.get(page).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return client, token


def post_form(client: Client, path: str, body: str, **extra):
    return client.post(
        path, body.encode(), content_type="application/x-www-form-urlencoded", **extra
    )


TOO_LARGE = "larger than 1024 KiB"


def assert_shown_again(response, status: int, reason: str, *kept: str) -> None:
    """The page came back with ``status``, the reason on top and the text that fitted."""
    assert response.status_code == status
    html = response.content.decode()
    for text in (reason, *kept):
        assert text in html


# --- oversized forms ----------------------------------------------------------------


def test_oversized_declare_shows_the_form_again_with_a_message_and_the_title(bob):
    client, token = csrf_client(bob, reverse("incidents:declare"))
    body = (
        f"csrfmiddlewaretoken={token}&title=Checkout+down&severity=P2&source=team_member"
        f"&summary={'y' * (MIB + 10)}"
    )
    response = post_form(client, reverse("incidents:declare"), body)
    # What the person typed is still there, the summary cut at the limit.
    assert_shown_again(response, 413, TOO_LARGE, 'value="Checkout down"', "yyyyyyyy")
    assert not Incident.objects.exists()


def test_declare_with_too_many_fields_shows_the_form_again_with_a_message(bob):
    client, token = csrf_client(bob, reverse("incidents:declare"))
    body = f"csrfmiddlewaretoken={token}&title=Checkout+down&severity=P2" + "&k=v" * 1200
    response = post_form(client, reverse("incidents:declare"), body)
    assert_shown_again(response, 400, "more than 1000 fields", 'value="Checkout down"')
    assert not Incident.objects.exists()


def test_oversized_status_update_shows_the_incident_again_and_posts_nothing(bob, incident):
    detail = reverse("incidents:detail", kwargs={"ref": incident.ref})
    client, token = csrf_client(bob, detail)
    body = (
        f"csrfmiddlewaretoken={token}&status=investigating&visibility=internal"
        f"&message=Rolling+back+{'z' * (MIB + 10)}"
    )
    response = post_form(client, reverse("incidents:update", kwargs={"ref": incident.ref}), body)
    assert_shown_again(response, 413, TOO_LARGE, "Rolling back zzzz")
    assert not StatusUpdate.objects.filter(incident=incident).exists()


def test_oversized_acknowledge_changes_nothing(bob, incident):
    client, token = csrf_client(bob, reverse("incidents:detail", kwargs={"ref": incident.ref}))
    body = f"csrfmiddlewaretoken={token}&x={'a' * (MIB + 10)}"
    path = reverse("incidents:acknowledge", kwargs={"ref": incident.ref})
    assert post_form(client, path, body).status_code == 413
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_oversized_override_and_contact_forms_show_their_page_again(bob):
    schedule = Schedule.objects.create(name="Primary", slug="primary", time_zone="UTC")
    factories.rotation(schedule, [bob], starts_at=datetime(2026, 1, 5, tzinfo=UTC))  # bob's own

    client, token = csrf_client(bob, reverse("incidents:oncall"))
    prefix = f"s{schedule.pk}-"
    body = (
        f"csrfmiddlewaretoken={token}&{prefix}user={bob.pk}&{prefix}starts_at=2026-12-24T09:00"
        f"&{prefix}ends_at=2026-12-25T09:00&{prefix}reason={'r' * (MIB + 10)}"
    )
    path = reverse("incidents:override-add", kwargs={"schedule_id": schedule.pk})
    assert_shown_again(post_form(client, path, body), 400, TOO_LARGE)
    assert not Override.objects.exists()

    body = f"csrfmiddlewaretoken={token}&kind=email&value=bob%40treebeard.test&x={'q' * MIB}"
    response = post_form(client, reverse("incidents:contact-add"), body)
    assert_shown_again(response, 400, TOO_LARGE, "bob@treebeard.test")
    assert not ContactMethod.objects.filter(user=bob).exists()


def test_oversized_admin_post_is_still_refused_outright(alice, client_for):
    """The admin's forms know nothing of a cut body: it must never save one."""
    client = client_for(alice)
    path = reverse("admin:incidents_schedule_add")
    body = f"name=Big&slug=big&time_zone=UTC&description={'d' * (MIB + 10)}"
    assert post_form(client, path, body).status_code == 400
    assert not Schedule.objects.filter(slug="big").exists()


def test_text_with_a_nul_in_the_declare_form_is_an_inline_error(bob, client_for):
    response = post_form(
        client_for(bob), reverse("incidents:declare"), "title=a%00b&severity=P2&source=team_member"
    )
    assert response.status_code == 400
    assert "Null characters are not allowed" in response.content.decode()
    assert not Incident.objects.exists()


# --- URLs: filters and path segments ------------------------------------------------


@pytest.mark.parametrize("query", ["q=a%00b", "service=%00", "severity=P1%00", "a%00=1"])
def test_nul_in_a_board_filter_is_400_naming_it(vera, client_for, query):
    response = client_for(vera).get(f"/?{query}")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_an_incident_reference_is_400_not_a_500(vera, client_for):
    client = client_for(vera)
    assert client.get("/incidents/%00/").status_code == 400
    assert client.post("/incidents/INC%00/acknowledge/").status_code == 400


def test_broken_percent_encoding_in_a_reference_is_404(vera, client_for):
    assert client_for(vera).get("/incidents/%ff/").status_code == 404


def test_live_poll_with_a_huge_event_id_answers_the_partial(vera, client_for, incident):
    path = reverse("incidents:detail", kwargs={"ref": incident.ref})
    response = client_for(vera).get(f"{path}?live={'9' * 5000}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200


# --- calendar feed and acknowledge links --------------------------------------------


def test_calendar_feed_with_a_nul_in_the_token_or_the_user_is_400(client):
    schedule = Schedule.objects.create(name="Primary", slug="primary", time_zone="UTC")
    feed = reverse("incidents:oncall-calendar", kwargs={"feed_token": schedule.feed_token})
    assert client.get(f"{feed}?user=a%00b").status_code == 400
    assert client.get("/oncall/a%00b/calendar.ics").status_code == 400
    assert client.get(f"{feed}?user={quote('x' * 5000)}").status_code == 404


@pytest.mark.parametrize(
    "payload", [[1, 2], "text", {"i": "\x00", "u": 1}, {"i": float("nan"), "u": 1}, {"i": 10**30}]
)
def test_ack_link_of_another_shape_is_invalid_not_a_500(client, payload):
    token = signing.dumps(payload, salt=ack_links.SALT)
    response = client.get(reverse("incidents:ack-link", kwargs={"token": token}))
    assert response.status_code == 404


def test_ack_link_with_a_nul_is_400(client):
    assert client.get("/ack/a%00b/").status_code == 400
