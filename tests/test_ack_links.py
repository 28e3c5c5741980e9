"""One-click acknowledge links in paging emails: signed per incident and
person, expiring, acknowledging only on POST and only as someone who may."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from incidents import ack_links, clock
from incidents.models import ContactMethod, EventKind, MessageKind, Notification
from incidents.notify import messages, outbox, transports
from tests import factories

pytestmark = pytest.mark.django_db


def ack_path(url: str) -> str:
    return urlsplit(url).path


def _page_bob(incident, bob):
    ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    ContactMethod.objects.create(user=bob, kind="pagerduty", value="B" * 32)
    return outbox.page_people(incident=incident, event=None, users=[bob])


def test_a_paging_email_carries_an_acknowledge_link_for_that_person(bob, smtp_sink):
    incident = factories.declare(actor=None, severity="P1", title="Queue backlog")

    rows = _page_bob(incident, bob)

    email = next(r for r in rows if r.transport == "email")
    pager = next(r for r in rows if r.transport == "pagerduty")
    assert "ack_url" not in pager.context  # PagerDuty acknowledges in PagerDuty
    url = email.context["ack_url"]
    assert ack_links.read(url.rsplit("/ack/", 1)[1].rstrip("/")) == (incident, bob)
    transports.send(email)
    (mail,) = smtp_sink.wait_for(1)
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert f"Acknowledge: {url}" in plain
    assert f'href="{url}"' in html


def test_no_link_once_acknowledged_or_for_someone_who_cannot_respond(bob, vera):
    incident = factories.declare(actor=None, severity="P1")
    ContactMethod.objects.create(user=vera, kind="email", value="vera@pager.test")
    [viewer_row] = outbox.page_people(incident=incident, event=None, users=[vera])
    assert "ack_url" not in viewer_row.context

    from incidents import services

    incident = services.incident_acknowledge(incident=incident, actor=bob)
    rows = _page_bob(incident, bob)
    assert all("ack_url" not in r.context for r in rows)


def test_slack_channel_messages_never_carry_a_personal_link():
    ctx = {"ref": "INC-1", "title": "x", "ack_url": "https://ir.example/ack/secret/"}
    assert "secret" not in messages.text("update", ctx)
    assert "secret" in messages.text("escalation", ctx)
    assert "secret" not in str(messages.slack_message("initial", {**ctx, "ack_url": None}))


def test_opening_the_link_asks_and_only_the_post_acknowledges(client, bob):
    incident = factories.declare(actor=None, severity="P0", title="Checkout down")
    path = ack_path(ack_links.url_for(incident, bob))

    page = client.get(path)

    assert page.status_code == 200
    assert "Acknowledge as Bob" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    incident.refresh_from_db()
    assert incident.acknowledged_at is None  # a mail scanner following links changes nothing

    done = client.post(path)

    assert done.status_code == 200
    assert "Acknowledged as Bob" in done.content.decode()
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    [event] = incident.timeline.filter(kind=EventKind.ACKNOWLEDGED)
    assert event.actor == bob
    # Escalation stopped: the acknowledgement went through the service.
    assert (
        Notification.objects.filter(
            incident=incident, message_kind=MessageKind.ACKNOWLEDGED
        ).count()
        == Notification.objects.filter(incident=incident, message_kind=MessageKind.INITIAL).count()
    )


def test_a_second_press_says_it_was_already_acknowledged(client, bob, alice):
    incident = factories.declare(actor=None, severity="P1")
    path = ack_path(ack_links.url_for(incident, bob))
    client.post(path)

    again = client.post(ack_path(ack_links.url_for(incident, alice)))

    assert again.status_code == 409
    assert "already acknowledged" in again.content.decode()
    assert incident.timeline.filter(kind=EventKind.ACKNOWLEDGED).count() == 1


def test_the_post_needs_the_csrf_token_of_the_page(bob):
    incident = factories.declare(actor=None, severity="P1")
    path = ack_path(ack_links.url_for(incident, bob))
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(path).status_code == 403

    form = strict.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert strict.post(path, {"csrfmiddlewaretoken": token}).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None


def test_a_tampered_link_is_404_and_an_old_one_410(client, bob, time_machine):
    incident = factories.declare(actor=None, severity="P1")
    path = ack_path(ack_links.url_for(incident, bob))

    tampered = path.replace(":", ":x", 1)
    assert client.post(tampered).status_code == 404

    time_machine.move_to(clock.now() + timedelta(hours=25))
    expired = client.post(path)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_someone_who_lost_the_responder_role_cannot_use_their_link(client, bob):
    incident = factories.declare(actor=None, severity="P1")
    path = ack_path(ack_links.url_for(incident, bob))
    bob.groups.remove(Group.objects.get(name="Responder"))

    response = client.post(path)

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
