"""``POST /api/v1/channels/<id>/test/`` and the admin's "Send a test
notification": a real message through the channel's transport, to local
receivers (HTTP recorder, aiosmtpd), its outcome kept on the channel."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import clock
from incidents.models import Channel, Notification
from incidents.notify.transports import verify_signature
from tests.api_support import API, assert_json_error, token_client

pytestmark = pytest.mark.django_db

ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"


def test_url(channel: Channel) -> str:
    return f"{API}/channels/{channel.pk}/test/"


test_url.__test__ = False  # a helper, not a test


def test_slack_test_is_a_labelled_block_kit_message(manager_api, http_recorder, alice):
    channel = Channel.objects.create(name="Ops", kind="slack", target=http_recorder.url("/slack"))

    response = manager_api.post(test_url(channel))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["delivered"] is True and body["ref"].startswith("TEST-")
    (request,) = http_recorder.requests_to("/slack")
    message = request.json()
    assert message["text"].startswith("[DRILL] ")
    assert "Test notification for channel 'Ops'" in message["text"]
    assert message["blocks"], message
    assert "no action is needed" in request.body.decode()
    # Kept as a delivered row of no incident (it counts against the email
    # cap and the sender's test allowance), never queued for the workers.
    (row,) = Notification.objects.all()
    assert (row.status, row.incident, row.channel) == ("delivered", None, channel)
    assert row.idempotency_key.startswith(f"test:{alice.pk}:")


def test_pagerduty_test_triggers_then_resolves_the_same_alert(manager_api, http_recorder, settings):
    settings.PAGERDUTY_EVENTS_URL = http_recorder.url("/v2/enqueue")
    http_recorder.script(
        "/v2/enqueue",
        [(202, {}, '{"status":"success","message":"Event processed","dedup_key":"x"}')] * 2,
    )
    channel = Channel.objects.create(name="Pager", kind="pagerduty", target=ROUTING_KEY)

    response = manager_api.post(test_url(channel))

    assert response.status_code == 200, response.content
    trigger, resolve = (r.json() for r in http_recorder.requests_to("/v2/enqueue"))
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["routing_key"] == resolve["routing_key"] == ROUTING_KEY
    assert trigger["dedup_key"] == resolve["dedup_key"] == response.json()["ref"]
    assert trigger["payload"]["summary"].startswith("[DRILL] ")


def test_email_test_arrives_with_text_and_html(manager_api, smtp_sink):
    channel = Channel.objects.create(name="Mail", kind="email", target="ops@treebeard.test")

    response = manager_api.post(test_url(channel))

    assert response.status_code == 200, response.content
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "ops@treebeard.test"
    assert "Test notification for channel 'Mail'" in mail["Subject"]
    kinds = {part.get_content_type() for part in mail.walk()}
    assert {"text/plain", "text/html"} <= kinds


def test_webhook_test_is_signed_with_the_channels_secret(manager_api, http_recorder):
    channel = Channel.objects.create(name="Hook", kind="webhook", target=http_recorder.url("/h"))

    assert manager_api.post(test_url(channel)).status_code == 200

    (request,) = http_recorder.requests_to("/h")
    assert verify_signature(
        channel.secret,
        request.body,
        request.headers["x-treebeard-signature"],
        request.headers["x-treebeard-timestamp"],
        now=clock.now(),
    )


def test_a_refusing_receiver_is_502_and_becomes_the_channels_last_error(manager_api, http_recorder):
    http_recorder.script("/slack", [(404, {}, "no_service"), (200, {}, "ok")])
    channel = Channel.objects.create(name="Ops", kind="slack", target=http_recorder.url("/slack"))

    failed = manager_api.post(test_url(channel))

    assert failed.status_code == 502
    body = failed.json()
    assert body["delivered"] is False and body["status_code"] == 404
    assert "Slack answered 404: no_service" in body["detail"]
    channel.refresh_from_db()
    assert "no_service" in channel.last_error and channel.last_error_at is not None

    # Fixed on Slack's side: the next test clears the error.
    assert manager_api.post(test_url(channel)).status_code == 200
    channel.refresh_from_db()
    assert channel.last_error == "" and channel.last_error_at is None


def test_a_private_address_is_refused_without_a_request(manager_api, settings):
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    # Stored before the allow-list changed; the guard checks again at connect time.
    channel = Channel.objects.create(name="Inside", kind="webhook", target="http://10.1.2.3/h")

    response = manager_api.post(test_url(channel))

    assert response.status_code == 502
    assert "10.1.2.3" in response.json()["detail"]


@pytest.mark.parametrize("who", ["bob", "vera"])
def test_only_managers_may_send_tests(request, who, http_recorder):
    channel = Channel.objects.create(name="Ops", kind="slack", target=http_recorder.url("/slack"))

    response = token_client(request.getfixturevalue(who)).post(test_url(channel))

    assert_json_error(response, 403)
    assert http_recorder.requests_to("/slack") == []


def test_unknown_channel_is_404(manager_api):
    assert_json_error(manager_api.post(f"{API}/channels/999999/test/"), 404)


def test_admin_action_sends_a_test_and_reports_each_outcome(client, alice, http_recorder):
    good = Channel.objects.create(name="Good", kind="slack", target=http_recorder.url("/ok"))
    http_recorder.script("/gone", [(410, {}, "channel_is_archived")])
    gone = Channel.objects.create(name="Gone", kind="slack", target=http_recorder.url("/gone"))
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_channel_changelist"),
        {"action": "send_test", "_selected_action": [good.pk, gone.pk]},
        follow=True,
    )

    notes = [str(m) for m in response.context["messages"]]
    assert any(n.startswith("Good: test TEST-") and "delivered" in n for n in notes), notes
    assert any("Gone: test failed: Slack answered 410" in n for n in notes), notes
    assert len(http_recorder.requests_to("/ok")) == 1
    gone.refresh_from_db()
    assert "channel_is_archived" in gone.last_error


# --- tests are capped like any mail ------------------------------------------------------


def test_a_person_gets_429_past_their_test_allowance(manager_api, http_recorder, settings):
    settings.NOTIFY_TEST_MAX_PER_PERSON = 2
    channel = Channel.objects.create(name="Ops", kind="slack", target=http_recorder.url("/slack"))
    assert manager_api.post(test_url(channel)).status_code == 200
    assert manager_api.post(test_url(channel)).status_code == 200

    refused = manager_api.post(test_url(channel))

    body = assert_json_error(refused, 429)
    assert "tests" in body["detail"] and int(refused["Retry-After"]) > 0
    assert len(http_recorder.requests_to("/slack")) == 2


def test_the_allowance_is_per_person_and_renews(manager_api, http_recorder, settings, alice):
    settings.NOTIFY_TEST_MAX_PER_PERSON = 1
    settings.NOTIFY_TEST_WINDOW_SECONDS = 600
    from tests import factories

    other = token_client(factories.manager("dora"))
    channel = Channel.objects.create(name="Ops", kind="slack", target=http_recorder.url("/slack"))
    assert manager_api.post(test_url(channel)).status_code == 200
    assert other.post(test_url(channel)).status_code == 200
    assert manager_api.post(test_url(channel)).status_code == 429
    Notification.objects.update(created_at=clock.now() - timedelta(seconds=601))
    assert manager_api.post(test_url(channel)).status_code == 200


def test_an_email_test_waits_while_email_is_at_its_cap(manager_api, smtp_sink, settings):
    settings.NOTIFY_EMAIL_MAX_PER_MINUTE = 1
    channel = Channel.objects.create(name="Mail", kind="email", target="ops@example.com")
    assert manager_api.post(test_url(channel)).status_code == 200

    refused = manager_api.post(test_url(channel))

    body = assert_json_error(refused, 429)
    assert "NOTIFY_EMAIL_MAX_PER_MINUTE" in body["detail"]
    assert len(smtp_sink.messages) == 1


def test_email_tests_count_against_the_cap_the_outbox_obeys(manager_api, smtp_sink, settings):
    from incidents.notify.outbox import email_rate_exceeded

    settings.NOTIFY_EMAIL_MAX_PER_MINUTE = 1
    channel = Channel.objects.create(name="Mail", kind="email", target="ops@example.com")
    assert not email_rate_exceeded(clock.now())
    assert manager_api.post(test_url(channel)).status_code == 200
    assert email_rate_exceeded(clock.now())


def test_the_admin_action_says_when_the_allowance_is_spent(client, alice, http_recorder, settings):
    settings.NOTIFY_TEST_MAX_PER_PERSON = 1
    channel = Channel.objects.create(name="Ops", kind="slack", target=http_recorder.url("/slack"))
    client.force_login(alice)
    changelist = reverse("admin:incidents_channel_changelist")
    action = {"action": "send_test", "_selected_action": [channel.pk]}
    client.post(changelist, action)
    response = client.post(changelist, action, follow=True)
    assert "tests in the last" in response.content.decode()
    assert len(http_recorder.requests_to("/slack")) == 1
