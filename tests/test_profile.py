"""``/me/``: people keep their own contact methods (validated like the
admin's), pause, remove and test them against local receivers, and see
their shifts with calendar links."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from incidents.models import ContactMethod, Schedule
from tests import factories
from tests.oncall_support import (
    BAD_CONTACT_VALUES,
    T0,
)
from tests.page_support import text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

ME = "/me/"
ADD = "/me/contact-methods/"
PD_KEY = "R0123456789abcdef0123456789ABCDE"


def url(name: str, method) -> str:
    return reverse(f"incidents:{name}", args=[method.pk])


def test_the_profile_warns_when_nobody_can_page_you(client_for, bob):
    page = client_for(bob).get(ME)

    assert page.status_code == 200
    assert "Nobody can page you yet" in text(page)


def test_anonymous_goes_to_sign_in_and_people_without_a_group_are_refused(client, charlie):
    response = client.get(ME)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(charlie)
    assert client.get(ME).status_code == 403


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "bob@pager.test"),
        ("pagerduty", PD_KEY),
        ("slack", "U024BE7LH"),
    ],
)
def test_a_person_adds_their_own_contact_methods(client_for, bob, kind, value):
    client = client_for(bob)

    response = client.post(ADD, {"kind": kind, "value": f"  {value} "})

    assert response.status_code == 302
    assert response["Location"] == f"{ME}#contact-methods"
    method = ContactMethod.objects.get()
    assert (method.user, method.kind, method.value, method.enabled) == (bob, kind, value, True)
    assert value in text(client.get(ME))


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        *BAD_CONTACT_VALUES,
        ("email", "", "Enter how to reach you."),
        ("fax", "123", "Select a valid choice"),
    ],
)
def test_a_bad_contact_is_400_at_its_field_and_writes_nothing(
    client_for, bob, kind, value, message
):
    response = client_for(bob).post(ADD, {"kind": kind, "value": value})

    assert response.status_code == 400
    field = "kind" if kind == "fax" else "value"
    assert re.search(
        rf'id="id_{field}_error"[^>]*>.*?{re.escape(message)}', response.content.decode(), re.S
    )
    assert not ContactMethod.objects.exists()


def test_the_same_contact_twice_is_refused(client_for, bob):
    client = client_for(bob)
    client.post(ADD, {"kind": "email", "value": "bob@pager.test"})

    response = client.post(ADD, {"kind": "email", "value": "bob@pager.test"})

    assert response.status_code == 400
    assert "You already have this contact method." in text(response)
    assert ContactMethod.objects.count() == 1


def test_pause_resume_and_remove_your_own_methods_only(client_for, bob, alice):
    mine = ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    theirs = ContactMethod.objects.create(user=alice, kind="email", value="alice@pager.test")
    client = client_for(bob)

    assert client.post(url("contact-enabled", mine), {"enabled": "0"}).status_code == 302
    mine.refresh_from_db()
    assert not mine.enabled
    assert "paused" in text(client.get(ME))
    client.post(url("contact-enabled", mine), {"enabled": "1"})
    mine.refresh_from_db()
    assert mine.enabled

    # Someone else's method is not found here (managers use the admin).
    assert client.post(url("contact-enabled", theirs), {"enabled": "0"}).status_code == 404
    assert client.post(url("contact-remove", theirs)).status_code == 404
    assert client.post(url("contact-remove", mine)).status_code == 302
    assert list(ContactMethod.objects.all()) == [theirs]
    theirs.refresh_from_db()
    assert theirs.enabled


def test_a_paused_method_is_not_paged(client_for, bob):
    from incidents.notify import outbox
    from tests import factories

    ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test", enabled=False)
    incident = factories.declare(actor=bob, severity="P1")

    assert outbox.page_people(incident=incident, event=None, users=[bob]) == []


def test_send_test_email_arrives(client_for, bob, smtp_sink):
    method = ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    client = client_for(bob)

    response = client.post(url("contact-test", method), follow=True)

    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "bob@pager.test"
    assert "Test notification for Bob's email" in mail["Subject"]
    assert re.search(r"Test TEST-\S+ sent to bob@pager.test", text(response))


def test_send_test_page_triggers_and_resolves_on_your_pagerduty_service(
    client_for, bob, http_recorder, settings
):
    settings.PAGERDUTY_EVENTS_URL = http_recorder.url("/v2/enqueue")
    http_recorder.script("/v2/enqueue", [(202, {}, '{"status":"success"}')] * 2)
    method = ContactMethod.objects.create(user=bob, kind="pagerduty", value=PD_KEY)

    client_for(bob).post(url("contact-test", method))

    actions = [(r.json()["event_action"], r.json()["routing_key"]) for r in http_recorder.requests]
    assert actions == [("trigger", PD_KEY), ("resolve", PD_KEY)]


def test_a_failed_test_is_shown_and_slack_ids_are_not_testable(
    client_for, bob, http_recorder, settings
):
    settings.PAGERDUTY_EVENTS_URL = http_recorder.url("/v2/enqueue")
    http_recorder.script(
        "/v2/enqueue", [(400, {}, '{"status":"invalid event","message":"Event object is invalid"}')]
    )
    pager = ContactMethod.objects.create(user=bob, kind="pagerduty", value=PD_KEY)
    slack = ContactMethod.objects.create(user=bob, kind="slack", value="U024BE7LH")
    client = client_for(bob)

    failed = text(client.post(url("contact-test", pager), follow=True))
    assert "Test to " + PD_KEY + " failed: PagerDuty answered 400" in failed

    refused = text(client.post(url("contact-test", slack), follow=True))
    assert "test the Slack channel instead" in refused
    assert 'action="' + url("contact-test", slack) not in client.get(ME).content.decode()


def test_your_shifts_and_their_calendar_links(client_for, bob, alice):
    sched = Schedule.objects.create(name="Payments", slug="payments", time_zone="Europe/Berlin")
    factories.rotation(sched, [alice, bob])

    page = client_for(bob).get(ME)

    body = text(page)
    assert "Payments Mon 9 Mar 11:00 CET Mon 16 Mar 11:00 CET" in body
    assert f"/oncall/{sched.feed_token}/calendar.ics?user=bob" in page.content.decode()


def test_changing_a_method_needs_a_csrf_token(bob):
    method = ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob)

    assert strict.post(url("contact-remove", method)).status_code == 403
    assert strict.post(ADD, {"kind": "email", "value": "b2@pager.test"}).status_code == 403
    assert ContactMethod.objects.count() == 1


def test_the_top_bar_name_links_to_the_profile(client_for, vera):
    assert f'href="{ME}"' in client_for(vera).get("/").content.decode()


def test_send_test_is_limited_per_person(client_for, bob, smtp_sink, settings):
    settings.NOTIFY_TEST_MAX_PER_PERSON = 2
    method = ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    client = client_for(bob)
    for _ in range(2):
        client.post(url("contact-test", method))

    refused = text(client.post(url("contact-test", method), follow=True))

    assert "failed: You sent 2 tests in the last 10 minutes" in refused
    assert len(smtp_sink.wait_for(2)) == 2


def test_send_test_counts_against_the_email_cap(client_for, bob, smtp_sink, settings):
    from incidents.notify.outbox import email_rate_exceeded

    settings.NOTIFY_EMAIL_MAX_PER_MINUTE = 1
    method = ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    client = client_for(bob)
    client.post(url("contact-test", method))
    assert email_rate_exceeded(T0)

    refused = text(client.post(url("contact-test", method), follow=True))

    assert "Email is at its cap of 1 messages a minute" in refused
    assert len(smtp_sink.wait_for(1)) == 1


def test_a_pagerduty_test_is_one_test_of_the_allowance(client_for, bob, http_recorder, settings):
    settings.PAGERDUTY_EVENTS_URL = http_recorder.url("/v2/enqueue")
    settings.NOTIFY_TEST_MAX_PER_PERSON = 1
    http_recorder.script("/v2/enqueue", [(202, {}, '{"status":"success"}')] * 4)
    method = ContactMethod.objects.create(user=bob, kind="pagerduty", value=PD_KEY)
    client = client_for(bob)

    client.post(url("contact-test", method))
    client.post(url("contact-test", method))

    assert len(http_recorder.requests) == 2  # trigger + resolve, then refused
