"""Each transport against a real local receiver (tests.fakes): the exact
request it sends and how it judges the answer (samples/slack, samples/pagerduty)."""

from __future__ import annotations

import email.utils
import json
import socket
import uuid
from datetime import timedelta

import pytest

from incidents import clock, services
from incidents.models import Channel, Notification, Role
from incidents.notify import messages, transports
from incidents.notify.context import incident_snapshot
from incidents.notify.errors import TransportError
from incidents.notify.transports import message_id, verify_signature
from tests import factories

pytestmark = pytest.mark.django_db

SLACK_PATH = "/services/T0001/B0001/abcdefghijklmnopqrstuvwx"
ROUTING_KEY = "R0123456789abcdef0123456789ABCDE"
PD_ACCEPTED = (
    202,
    {"Content-Type": "application/json"},
    json.dumps({"status": "success", "message": "Event processed", "dedup_key": "X"}),
)


def notification(
    incident,
    transport: str,
    target: str,
    kind: str = "initial",
    *,
    channel: Channel | None = None,
    **extra,
) -> Notification:
    """An outbox row as the engine writes it: the snapshot plus the extras."""
    now = clock.now()
    context = {**incident_snapshot(incident), **extra} if incident else dict(extra)
    return Notification(
        idempotency_key=f"{kind}:{transport}:{uuid.uuid4().hex}",
        incident=incident,
        channel=channel,
        transport=transport,
        target=target,
        message_kind=kind,
        context=context,
        created_at=now,
        next_attempt_at=now,
    )


def webhook_channel(url: str) -> Channel:
    return Channel.objects.create(
        name="Receiver", kind="webhook", target=url, severities=["P0", "P1", "P2", "P3"]
    )


@pytest.fixture
def pagerduty(http_recorder, settings):
    settings.PAGERDUTY_EVENTS_URL = http_recorder.url("/v2/enqueue")
    return http_recorder


# --- Slack -------------------------------------------------------------------------


def test_slack_initial_alert_is_a_block_kit_message(http_recorder, incident):
    sent = notification(incident, "slack", http_recorder.url(SLACK_PATH))

    response = transports.send(sent)

    request = http_recorder.wait_for(1)[0]
    body = request.json()
    assert response == {"status_code": 200, "body": "ok"}
    assert (request.method, request.path) == ("POST", SLACK_PATH)
    assert request.headers["content-type"] == "application/json"
    assert body["text"].startswith(f"🚨 INCIDENT: {incident.title}")
    assert [block["type"] for block in body["blocks"]] == [
        "header",
        "section",
        "context",
        "actions",
    ]
    header, section, context, actions = body["blocks"]
    assert header["text"] == {
        "type": "plain_text",
        "text": f"🚨 INCIDENT: {incident.title}",
        "emoji": True,
    }
    assert section["text"]["type"] == "mrkdwn"
    assert "*Severity:* P1 (High)" in section["text"]["text"]
    assert "Updates in thread every 30 minutes." in section["text"]["text"]
    assert incident.ref in context["elements"][0]["text"]
    button = actions["elements"][0]
    assert button["type"] == "button"
    assert button["text"] == {"type": "plain_text", "text": "Open incident"}
    assert button["url"] == incident_snapshot(incident)["url"]


def test_slack_message_stays_within_block_kit_limits_and_escapes_user_text(http_recorder, bob):
    incident = factories.declare(
        actor=bob, title="<!channel> " + "x" * 180, impact="<script>&" * 800
    )

    transports.send(notification(incident, "slack", http_recorder.url(SLACK_PATH)))

    body = http_recorder.wait_for(1)[0].json()
    header, section = body["blocks"][0], body["blocks"][1]
    assert len(header["text"]["text"]) <= 150
    assert header["text"]["text"].endswith("…")
    assert len(section["text"]["text"]) <= 3000
    assert "<script>" not in section["text"]["text"]
    assert "&lt;script&gt;&amp;" in section["text"]["text"]
    assert "<!channel>" not in body["text"]
    assert len(body["blocks"]) <= 50


def test_slack_429_is_retried_after_the_retry_after_seconds(http_recorder, incident):
    http_recorder.script(SLACK_PATH, [(429, {"Retry-After": "7"}, "rate_limited")])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "slack", http_recorder.url(SLACK_PATH)))

    assert caught.value.permanent is False
    assert caught.value.retry_after == 7.0
    assert caught.value.status_code == 429


@pytest.mark.parametrize(("status", "error"), [
    (404, "no_service"), (400, "invalid_payload"), (403, "action_prohibited"),
    (410, "channel_is_archived"),
])  # fmt: skip
def test_slack_4xx_is_permanent_and_names_slacks_error(http_recorder, incident, status, error):
    http_recorder.script(SLACK_PATH, [(status, {}, error)])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "slack", http_recorder.url(SLACK_PATH)))

    assert caught.value.permanent is True
    assert caught.value.status_code == status
    assert error in caught.value.message
    assert "abcdefghijklmnopqrstuvwx" not in caught.value.message  # the URL is a secret


def test_slack_500_is_retryable(http_recorder, incident):
    http_recorder.script(SLACK_PATH, [(500, {}, "rollup_error")])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "slack", http_recorder.url(SLACK_PATH)))

    assert caught.value.permanent is False
    assert caught.value.retry_after is None


@pytest.mark.parametrize("target", ["U024BE7LH", "http://hooks.slack.invalid/services/x"])
def test_slack_target_that_is_not_an_https_url_is_permanent(http_recorder, incident, target):
    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "slack", target))

    assert caught.value.permanent is True
    assert http_recorder.requests == []


# --- PagerDuty ---------------------------------------------------------------------


def test_the_operators_pagerduty_url_is_trusted_but_user_urls_are_not(pagerduty, bob, settings):
    """PAGERDUTY_EVENTS_URL comes from the operator's settings, so a private or
    loopback Events endpoint (a proxy, a test receiver) needs no allow-list;
    a webhook URL a user typed to the same address is still refused."""
    settings.NOTIFY_ALLOWED_NETWORKS = []
    incident = factories.declare(actor=bob, severity="P0")

    transports.send(notification(incident, "pagerduty", ROUTING_KEY))
    assert len(pagerduty.requests_to("/v2/enqueue")) == 1

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "slack", pagerduty.url(SLACK_PATH)))
    assert caught.value.permanent is True
    assert pagerduty.requests_to(SLACK_PATH) == []


@pytest.mark.parametrize(("severity", "pd_severity"), [
    ("P0", "critical"), ("P1", "error"), ("P2", "warning"), ("P3", "info"),
])  # fmt: skip
def test_pagerduty_trigger_has_the_documented_fields(pagerduty, bob, severity, pd_severity):
    incident = factories.declare(actor=bob, severity=severity)
    pagerduty.script(
        "/v2/enqueue",
        [
            (
                PD_ACCEPTED[0],
                PD_ACCEPTED[1],
                json.dumps(
                    {"status": "success", "message": "Event processed", "dedup_key": incident.ref}
                ),
            )
        ],
    )
    snapshot = incident_snapshot(incident)

    response = transports.send(notification(incident, "pagerduty", ROUTING_KEY))

    event = pagerduty.wait_for(1)[0].json()
    assert response["dedup_key"] == incident.ref
    assert response["event_action"] == "trigger"
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == incident.ref
    payload = event["payload"]
    assert payload["severity"] == pd_severity
    assert payload["source"] == "treebeard-ir"
    assert payload["summary"] == f"[{severity}] {incident.ref}: {incident.title}"
    assert payload["timestamp"] == snapshot["detected_at"]
    assert payload["component"] == "api"
    assert payload["custom_details"]["ref"] == incident.ref
    assert payload["custom_details"]["impact"] == incident.impact
    assert event["client"] == "TreeBeard IR"
    assert event["client_url"] == snapshot["url"]
    assert event["links"] == [{"href": snapshot["url"], "text": f"{incident.ref} in TreeBeard IR"}]


@pytest.mark.parametrize(
    ("kind", "action"), [("acknowledged", "acknowledge"), ("resolved", "resolve")]
)
def test_pagerduty_acknowledge_and_resolve_carry_only_the_key(pagerduty, incident, kind, action):
    pagerduty.script("/v2/enqueue", [PD_ACCEPTED])

    transports.send(notification(incident, "pagerduty", ROUTING_KEY, kind))

    assert pagerduty.wait_for(1)[0].json() == {
        "routing_key": ROUTING_KEY,
        "event_action": action,
        "dedup_key": incident.ref,
    }


def test_pagerduty_summary_is_capped_at_1024_characters(pagerduty, bob):
    incident = factories.declare(actor=bob, title="y" * 200)

    transports.send(
        notification(incident, "pagerduty", ROUTING_KEY, "escalation", level=2, reason="z" * 5000)
    )

    payload = pagerduty.wait_for(1)[0].json()["payload"]
    assert len(payload["summary"]) <= 1024
    assert payload["summary"].endswith("— ⬆️ ESCALATED to L2 Senior engineer")


def test_pagerduty_is_not_sent_status_updates(pagerduty, incident):
    response = transports.send(
        notification(incident, "pagerduty", ROUTING_KEY, "update", message="Still looking")
    )

    assert "skipped" in response
    assert pagerduty.requests == []


def test_pagerduty_400_is_permanent_and_names_the_errors(pagerduty, incident):
    pagerduty.script("/v2/enqueue", [(400, {"Content-Type": "application/json"}, json.dumps({
        "status": "invalid event", "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }))])  # fmt: skip

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "pagerduty", "short"))

    assert caught.value.permanent is True
    assert "Length of 'routing_key' is incorrect" in caught.value.message


def test_pagerduty_429_without_retry_after_leaves_the_backoff_to_the_outbox(pagerduty, incident):
    pagerduty.script("/v2/enqueue", [(429, {}, "")])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "pagerduty", ROUTING_KEY))

    assert caught.value.permanent is False
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_pagerduty_5xx_is_retryable(pagerduty, incident, status):
    pagerduty.script("/v2/enqueue", [(status, {}, "{}")])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "pagerduty", ROUTING_KEY))

    assert caught.value.permanent is False
    assert caught.value.status_code == status


# --- email -------------------------------------------------------------------------


def test_email_has_text_and_html_parts_a_stable_message_id_and_the_ref(smtp_sink, bob):
    incident = factories.declare(actor=bob, title="Checkout <script>alert(1)</script> down")
    sent = notification(incident, "email", "oncall@treebeard.test")

    response = transports.send(sent)

    mail = smtp_sink.wait_for(1)[0]
    assert response == {"message_id": message_id(sent.idempotency_key)}
    assert mail["To"] == "oncall@treebeard.test"
    assert mail["Subject"].strip() == f"🚨 INCIDENT: {incident.title} [{incident.ref}]"
    assert mail["Message-ID"] == message_id(sent.idempotency_key)
    assert mail["X-TreeBeard-Incident"] == incident.ref
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert plain.splitlines() == messages.text("initial", sent.context).splitlines()
    assert "Checkout &lt;script&gt;alert(1)&lt;/script&gt; down" in html
    assert "<script>" not in html
    assert smtp_sink.envelopes[0].rcpt_tos == ["oncall@treebeard.test"]


def test_message_id_is_derived_from_the_idempotency_key():
    assert message_id("key-1") == message_id("key-1")
    assert message_id("key-1") != message_id("key-2")
    assert message_id("key-1").endswith("@treebeard-ir>")


def test_email_to_an_unknown_recipient_is_permanent(smtp_sink, incident):
    smtp_sink.refused_recipients.add("nobody@treebeard.test")

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "email", "nobody@treebeard.test"))

    assert caught.value.permanent is True
    assert caught.value.status_code == 550
    assert smtp_sink.messages == []


@pytest.mark.parametrize(("reply", "permanent"), [
    ("451 4.3.0 Try again later", False), ("554 5.7.1 Message rejected", True),
])  # fmt: skip
def test_email_smtp_4xx_is_retried_and_5xx_is_permanent(smtp_sink, incident, reply, permanent):
    smtp_sink.fail_next(reply)

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "email", "oncall@treebeard.test"))

    assert caught.value.permanent is permanent
    assert caught.value.status_code == int(reply[:3])


def test_email_when_the_mail_server_is_down_is_retryable(smtp_sink, settings, incident):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = sock.getsockname()[1]  # nothing listens once closed

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "email", "oncall@treebeard.test"))

    assert caught.value.permanent is False


def test_digest_email_lists_the_p3_incidents(smtp_sink, bob):
    first = factories.declare(actor=bob, severity="P3", title="Typo on the pricing page")
    second = factories.declare(actor=bob, severity="P3", title="Slow avatar upload")
    sent = notification(
        None,
        "email",
        "team@treebeard.test",
        "digest",
        date="2026-11-28",
        incidents=[incident_snapshot(first), incident_snapshot(second)],
    )

    transports.send(sent)

    mail = smtp_sink.wait_for(1)[0]
    plain = mail.get_body(("plain",)).get_content()
    assert mail["Subject"].strip() == "📋 DIGEST 2026-11-28: 2 low-severity incidents"
    assert "X-TreeBeard-Incident" not in mail
    assert first.ref in plain and "Typo on the pricing page" in plain
    assert second.ref in plain and "Slow avatar upload" in plain


# --- webhook -----------------------------------------------------------------------


def test_webhook_is_signed_and_carries_event_delivery_and_timestamp(http_recorder, incident):
    channel = webhook_channel(http_recorder.url("/hook"))
    sent = notification(
        incident,
        "webhook",
        channel.target,
        "update",
        channel=channel,
        message="Rolled back the deploy",
        posted_at=clock.now().isoformat(),
    )

    response = transports.send(sent)

    request = http_recorder.wait_for(1)[0]
    body = request.json()
    headers = request.headers
    assert response == {"status_code": 200, "delivery_id": sent.idempotency_key}
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "TreeBeard-IR/1"
    assert headers["x-treebeard-event"] == "incident.update"
    assert headers["x-treebeard-delivery"] == sent.idempotency_key
    assert headers["x-treebeard-timestamp"] == str(body["timestamp"])
    assert body["event"] == "incident.update"
    assert body["delivery_id"] == sent.idempotency_key
    assert body["incident"]["ref"] == incident.ref
    assert "message" not in body["incident"]
    assert body["data"]["message"] == "Rolled back the deploy"
    assert verify_signature(
        channel.secret,
        request.body,
        headers["x-treebeard-signature"],
        headers["x-treebeard-timestamp"],
        now=clock.now(),
    )


def test_webhook_signature_fails_with_a_wrong_secret_a_stale_time_or_a_changed_body(
    http_recorder, incident
):
    channel = webhook_channel(http_recorder.url("/hook"))
    transports.send(notification(incident, "webhook", channel.target, channel=channel))
    request = http_recorder.wait_for(1)[0]
    signature = request.headers["x-treebeard-signature"]
    stamp = request.headers["x-treebeard-timestamp"]
    now = clock.now()

    assert verify_signature(channel.secret, request.body, signature, stamp, now=now)
    assert not verify_signature("0" * 64, request.body, signature, stamp, now=now)
    assert not verify_signature(
        channel.secret, request.body, signature, stamp, now=now + timedelta(seconds=301)
    )
    assert not verify_signature(
        channel.secret, request.body.replace(b"P1", b"P0"), signature, stamp, now=now
    )
    # A replay with a fresh timestamp header: the signed body still has the old one.
    later = now + timedelta(minutes=10)
    assert not verify_signature(
        channel.secret, request.body, signature, str(int(later.timestamp())), now=later
    )


def test_webhook_429_with_an_http_date_retry_after(http_recorder, incident):
    channel = webhook_channel(http_recorder.url("/hook"))
    when = email.utils.format_datetime(clock.now() + timedelta(seconds=120), usegmt=True)
    http_recorder.script("/hook", [(429, {"Retry-After": when}, "slow down")])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "webhook", channel.target, channel=channel))

    assert caught.value.permanent is False
    assert 115 <= caught.value.retry_after <= 120


@pytest.mark.parametrize(("status", "permanent"), [
    (400, True), (401, True), (403, True), (404, True), (410, True),
    (408, False), (500, False), (503, False),
])  # fmt: skip
def test_webhook_answers_are_judged_permanent_or_retryable(
    http_recorder, incident, status, permanent
):
    channel = webhook_channel(http_recorder.url("/hook"))
    http_recorder.script("/hook", [(status, {}, "nope")])

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "webhook", channel.target, channel=channel))

    assert caught.value.permanent is permanent
    assert caught.value.status_code == status


def test_webhook_without_its_channel_has_no_secret_and_is_permanent(http_recorder, incident):
    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "webhook", http_recorder.url("/hook")))

    assert caught.value.permanent is True
    assert http_recorder.requests == []


def test_a_delivery_repeated_after_a_crash_carries_the_same_keys(
    http_recorder, pagerduty, incident
):
    """What makes a rare repeat harmless: the receiver sees the same ids."""
    channel = webhook_channel(http_recorder.url("/hook"))
    hook = notification(incident, "webhook", channel.target, channel=channel)
    page = notification(incident, "pagerduty", ROUTING_KEY)
    pagerduty.script("/v2/enqueue", [PD_ACCEPTED, PD_ACCEPTED])

    for _ in range(2):
        transports.send(hook)
        transports.send(page)

    hooks = http_recorder.requests_to("/hook")
    pages = http_recorder.requests_to("/v2/enqueue")
    assert {r.json()["delivery_id"] for r in hooks} == {hook.idempotency_key}
    assert {r.json()["dedup_key"] for r in pages} == {incident.ref}


def test_unknown_transport_or_kind_is_permanent(incident):
    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "carrier-pigeon", "x"))
    assert caught.value.permanent is True

    with pytest.raises(TransportError) as caught:
        transports.send(notification(incident, "email", "a@treebeard.test", "haiku"))
    assert caught.value.permanent is True


def test_drills_are_marked_in_every_transport(http_recorder, pagerduty, smtp_sink, bob):
    drill = factories.declare(actor=bob, is_drill=True, severity="P0")
    services.incident_assign_role(incident=drill, actor=bob, role=Role.COMMANDER, user=bob)
    pagerduty.script("/v2/enqueue", [PD_ACCEPTED])

    transports.send(notification(drill, "slack", http_recorder.url(SLACK_PATH)))
    transports.send(notification(drill, "pagerduty", ROUTING_KEY))
    transports.send(notification(drill, "email", "oncall@treebeard.test"))

    slack = http_recorder.requests_to(SLACK_PATH)[0].json()
    page = http_recorder.requests_to("/v2/enqueue")[0].json()
    mail = smtp_sink.wait_for(1)[0]
    assert slack["blocks"][0]["text"]["text"].startswith("[DRILL] 🚨 INCIDENT: ")
    assert page["payload"]["summary"].startswith("[DRILL] [P0] ")
    assert mail["Subject"].strip().startswith("[DRILL] 🚨 INCIDENT: ")
