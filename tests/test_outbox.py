"""The outbox: routing by severity, one row per event and destination, caps,
the P3 digest, and delivery outcomes against a local HTTP receiver."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from incidents import clock
from incidents.models import (
    Channel,
    ContactMethod,
    EventKind,
    MessageKind,
    Notification,
    NotificationStatus,
    TimelineEvent,
)
from incidents.notify import digest, outbox
from tests import factories

PD_KEY = "R0123456789abcdef0123456789ABCDE"

# The guide's routing table: P0 PagerDuty + Slack, P1 Slack + email,
# P2 Slack, P3 email digest; a webhook takes everything.
GUIDE_CHANNELS = [
    ("pagerduty", "pagerduty", PD_KEY, ["P0"]),
    ("slack", "slack", "https://hooks.slack.example/services/T/B/x", ["P0", "P1", "P2"]),
    ("email", "email", "oncall@treebeard.test", ["P1", "P3"]),
    ("webhook", "webhook", "https://hooks.example/treebeard", ["P0", "P1", "P2", "P3"]),
]


@pytest.fixture
def guide_channels(db):
    return {
        name: Channel.objects.create(name=name, kind=kind, target=target, severities=sev)
        for name, kind, target, sev in GUIDE_CHANNELS
    }


def _new_event(incident, kind=EventKind.UPDATE_POSTED):
    return TimelineEvent.record(incident, kind, None, at=clock.now(), message="test")


def _routed(incident, message_kind=MessageKind.INITIAL):
    rows = outbox.notify_incident(
        incident=incident, event=_new_event(incident), message_kind=message_kind
    )
    return {(r.channel.name, r.status) for r in rows}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("P0", {("pagerduty", "pending"), ("slack", "pending"), ("webhook", "pending")}),
        ("P1", {("slack", "pending"), ("email", "pending"), ("webhook", "pending")}),
        ("P2", {("slack", "pending"), ("webhook", "pending")}),
        ("P3", {("email", "digest"), ("webhook", "pending")}),
    ],
)
def test_initial_alert_follows_the_guides_routing_table(guide_channels, bob, severity, expected):
    incident = factories.declare(actor=bob, severity=severity)
    assert _routed(incident) == expected


def test_pagerduty_does_not_receive_status_updates(guide_channels, bob):
    incident = factories.declare(actor=bob, severity="P0")
    assert _routed(incident, MessageKind.UPDATE) == {("slack", "pending"), ("webhook", "pending")}


def test_p3_status_updates_do_not_go_to_the_digest(guide_channels, bob):
    incident = factories.declare(actor=bob, severity="P3")
    assert _routed(incident, MessageKind.UPDATE) == {("webhook", "pending")}


def test_disabled_channel_receives_nothing(guide_channels, bob):
    Channel.objects.filter(name="slack").update(enabled=False)
    incident = factories.declare(actor=bob, severity="P2")
    assert _routed(incident) == {("webhook", "pending")}


def test_one_row_per_event_and_channel_even_when_written_twice(guide_channels, bob):
    incident = factories.declare(actor=bob, severity="P1")
    event = _new_event(incident)
    first = outbox.notify_incident(incident=incident, event=event, message_kind=MessageKind.UPDATE)
    again = outbox.notify_incident(incident=incident, event=event, message_kind=MessageKind.UPDATE)
    assert len(first) == 3
    assert again == []
    assert Notification.objects.filter(event=event).count() == 3


def test_snapshot_is_taken_when_the_message_is_written(guide_channels, bob):
    incident = factories.declare(actor=bob, severity="P2", title="Old title")
    rows = outbox.notify_incident(
        incident=incident,
        event=_new_event(incident),
        message_kind=MessageKind.UPDATE,
        extra={"message": "Looking"},
    )
    incident.title = "New title"
    incident.save(update_fields=["title"])
    row = Notification.objects.get(pk=rows[0].pk)
    assert row.context["title"] == "Old title"
    assert row.context["message"] == "Looking"
    assert row.context["ref"] == incident.ref
    assert row.target == row.channel.target


def test_email_over_the_per_incident_cap_is_kept_as_suppressed(guide_channels, bob, settings):
    settings.NOTIFY_EMAIL_MAX_PER_INCIDENT = 2
    incident = factories.declare(actor=bob, severity="P1")
    Notification.objects.filter(incident=incident).delete()
    statuses = []
    for _ in range(4):
        rows = outbox.notify_incident(
            incident=incident, event=_new_event(incident), message_kind=MessageKind.UPDATE
        )
        statuses += [r.status for r in rows if r.channel.name == "email"]
    assert statuses == ["pending", "pending", "suppressed", "suppressed"]
    suppressed = Notification.objects.filter(status="suppressed").first()
    assert "cap of 2" in suppressed.last_error
    # The timeline says so once, not once per suppressed email.
    notes = incident.timeline.filter(kind=EventKind.NOTIFICATION, detail__email_cap=2)
    assert [n.message.split(".")[0] for n in notes] == ["Email cap of 2 per incident reached"]


def test_page_people_uses_email_and_pagerduty_contacts(guide_channels, bob, alice):
    incident = factories.declare(actor=bob, severity="P0")
    ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    ContactMethod.objects.create(user=bob, kind="pagerduty", value=PD_KEY)
    ContactMethod.objects.create(user=bob, kind="slack", value="U0BOB")
    ContactMethod.objects.create(user=alice, kind="email", value="alice@pager.test", enabled=False)
    rows = outbox.page_people(
        incident=incident,
        event=_new_event(incident, EventKind.ESCALATED),
        users=[bob, alice],
        message_kind=MessageKind.ESCALATION,
        extra={"level": 2},
    )
    assert sorted((r.transport, r.target, r.recipient.username) for r in rows) == [
        ("email", "bob@pager.test", "bob"),
        ("pagerduty", PD_KEY, "bob"),
    ]
    assert all(r.context["level"] == 2 for r in rows)
    assert outbox.slack_mentions([bob, alice]) == ["U0BOB"]


def test_digest_gathers_p3_rows_per_channel_once(bob):
    incidents = [
        factories.declare(actor=bob, severity="P3", title=title)
        for title in ("Typo on pricing page", "Footer link broken")
    ]
    # Channels made after declaring, so only the explicit messages below exist.
    first = Channel.objects.create(
        name="email", kind="email", target="oncall@treebeard.test", severities=["P1", "P3"]
    )
    second = Channel.objects.create(
        name="email-2", kind="email", target="ops@treebeard.test", severities=["P3"]
    )
    for incident in incidents:
        outbox.notify_incident(
            incident=incident, event=_new_event(incident), message_kind=MessageKind.INITIAL
        )
    digests = digest.send_digest()
    assert sorted(d.channel.name for d in digests) == ["email", "email-2"]
    mail = next(d for d in digests if d.channel_id == first.pk)
    assert mail.message_kind == MessageKind.DIGEST
    assert mail.context["count"] == 2
    assert [i["title"] for i in mail.context["incidents"]] == [
        "Typo on pricing page",
        "Footer link broken",
    ]
    assert not Notification.objects.filter(status=NotificationStatus.DIGEST).exists()
    assert Notification.objects.filter(status=NotificationStatus.DIGESTED).count() == 4
    # A second run (another beat) finds nothing to gather.
    assert digest.send_digest() == []
    assert second.notifications.filter(message_kind="digest").count() == 1


def test_relay_publishes_rows_left_behind(guide_channels, bob, settings):
    from treebeard_ir.celery import app

    settings.NOTIFY_RELAY_GRACE_SECONDS = 10
    incident = factories.declare(actor=bob, severity="P2")
    outbox.notify_incident(
        incident=incident, event=_new_event(incident), message_kind=MessageKind.UPDATE
    )
    # The declaration's initial alerts and this update: none was published
    # (the test transaction never commits).
    stuck = Notification.objects.filter(status="pending").count()
    app.control.purge()
    try:
        assert outbox.relay(now=clock.now()) == 0  # still within the grace period
        later = clock.now() + timedelta(seconds=11)
        # Published to the real broker (no worker consumes this test's queue).
        assert outbox.relay(now=later) == stuck == 4
    finally:
        app.control.purge()


def test_a_claimed_row_is_not_claimed_again_until_its_lease_lapses(guide_channels, bob, settings):
    settings.NOTIFY_LEASE_SECONDS = 30
    incident = factories.declare(actor=bob, severity="P2")
    row = outbox.notify_incident(
        incident=incident, event=_new_event(incident), message_kind=MessageKind.UPDATE
    )[0]
    now = clock.now()
    assert outbox.claim(row.pk, now) is True
    assert outbox.claim(row.pk, now + timedelta(seconds=29)) is False
    assert outbox.claim(row.pk, now + timedelta(seconds=31)) is True
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENDING
    assert row.attempts == 2


def test_backoff_grows_exponentially_and_is_capped(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 5
    settings.NOTIFY_RETRY_MAX_SECONDS = 60
    with time_machine.travel("2026-11-28 10:00Z", tick=False):
        delays = [outbox.backoff_seconds(n) for n in (1, 2, 3, 4, 10)]
    assert 4.5 <= delays[0] <= 5.5
    assert 9 <= delays[1] <= 11
    assert 18 <= delays[2] <= 22
    assert 36 <= delays[3] <= 44
    assert 54 <= delays[4] <= 66


# --- delivery against a local receiver ----------------------------------------------


@pytest.fixture
def slack_channel(db, http_recorder):
    return Channel.objects.create(
        name="#incidents", kind="slack", target=http_recorder.url("/slack"), severities=["P2"]
    )


@pytest.fixture
def queued(bob, slack_channel):
    """One pending Slack message for a fresh P2 (the channel exists before the
    declaration, so it is the initial alert)."""
    from treebeard_ir.celery import app

    factories.declare(actor=bob, severity="P2")
    yield Notification.objects.get(channel=slack_channel)
    app.control.purge()  # retries published as countdowns; no worker here


def test_receiver_answering_500_then_200_is_delivered_once_after_a_retry(
    queued, http_recorder, settings
):
    settings.NOTIFY_RETRY_BASE_SECONDS = 5
    http_recorder.script("/slack", [(500, {}, "rollup_error")])
    assert outbox.deliver(queued.pk) == "retry"
    queued.refresh_from_db()
    assert queued.status == NotificationStatus.PENDING
    assert queued.last_status_code == 500
    assert "rollup_error" in queued.last_error
    # Not due yet: a second task for the same row does nothing.
    assert outbox.deliver(queued.pk) == "skipped"
    with time_machine.travel(queued.next_attempt_at + timedelta(seconds=1), tick=False):
        assert outbox.deliver(queued.pk) == "delivered"
        assert outbox.deliver(queued.pk) == "skipped"
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (NotificationStatus.DELIVERED, 2)
    assert len(http_recorder.requests_to("/slack")) == 2


def test_429_retry_after_sets_the_next_attempt(queued, http_recorder):
    http_recorder.script("/slack", [(429, {"Retry-After": "30"}, "rate_limited")])
    before = clock.now()
    assert outbox.deliver(queued.pk) == "retry"
    queued.refresh_from_db()
    wait = (queued.next_attempt_at - before).total_seconds()
    assert 29 <= wait <= 32


def test_permanent_failure_stops_retrying_and_is_shown_on_the_channel(
    queued, http_recorder, slack_channel
):
    http_recorder.script("/slack", [(404, {}, "no_service")])
    assert outbox.deliver(queued.pk) == "failed"
    queued.refresh_from_db()
    slack_channel.refresh_from_db()
    assert queued.status == NotificationStatus.FAILED
    assert "no_service" in queued.last_error
    assert "no_service" in slack_channel.last_error
    with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
        assert outbox.deliver(queued.pk) == "skipped"
        assert outbox.relay() == 0
    assert len(http_recorder.requests_to("/slack")) == 1


def test_attempts_run_out_into_a_failure(queued, http_recorder, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    http_recorder.script("/slack", [(503, {}, "down"), (503, {}, "down")])
    assert outbox.deliver(queued.pk) == "retry"
    queued.refresh_from_db()
    with time_machine.travel(queued.next_attempt_at + timedelta(seconds=1), tick=False):
        assert outbox.deliver(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == NotificationStatus.FAILED


def test_a_refused_address_fails_permanently_without_a_request(queued, settings, http_recorder):
    settings.NOTIFY_ALLOWED_NETWORKS = []  # loopback is refused again
    assert outbox.deliver(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == NotificationStatus.FAILED
    assert http_recorder.requests_to("/slack") == []


def test_email_over_the_per_minute_cap_waits_instead_of_sending(bob, smtp_sink, settings):
    settings.NOTIFY_EMAIL_MAX_PER_MINUTE = 1
    incident = factories.declare(actor=bob, severity="P1")
    Channel.objects.create(
        name="mail", kind="email", target="oncall@treebeard.test", severities=["P1"]
    )
    rows = [
        outbox.notify_incident(
            incident=incident, event=_new_event(incident), message_kind=MessageKind.UPDATE
        )[0]
        for _ in range(2)
    ]
    assert outbox.deliver(rows[0].pk) == "delivered"
    assert outbox.deliver(rows[1].pk) == "deferred"
    rows[1].refresh_from_db()
    assert rows[1].status == NotificationStatus.PENDING
    assert rows[1].attempts == 0
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        assert outbox.deliver(rows[1].pk) == "delivered"
    smtp_sink.wait_for(2)


def test_a_persons_pagerduty_alert_is_acknowledged_and_resolved_with_the_incident(
    guide_channels, bob, alice
):
    """Escalation paged bob and alice on their own PagerDuty services; the
    incident's acknowledge and resolve reach those services too, once per
    routing key, besides the P0 channel's."""
    incident = factories.declare(actor=bob, severity="P0")
    bob_key, alice_key = "B" * 32, "A" * 32
    ContactMethod.objects.create(user=bob, kind="pagerduty", value=bob_key)
    ContactMethod.objects.create(user=alice, kind="pagerduty", value=alice_key)
    # The channel's own key is also someone's: it gets one follow-up, not two.
    ContactMethod.objects.create(user=alice, kind="pagerduty", value=PD_KEY)
    for level in (1, 2):
        outbox.page_people(
            incident=incident,
            event=_new_event(incident, EventKind.ESCALATED),
            users=[bob, alice] if level == 2 else [bob],
            extra={"level": level},
        )
    Notification.objects.filter(target=alice_key).update(status=NotificationStatus.DELIVERED)

    for kind, event_kind in (
        (MessageKind.ACKNOWLEDGED, EventKind.ACKNOWLEDGED),
        (MessageKind.RESOLVED, EventKind.RESOLVED),
    ):
        rows = outbox.notify_incident(
            incident=incident, event=_new_event(incident, event_kind), message_kind=kind
        )
        pager = sorted(
            (r.target, r.recipient.username if r.recipient else None)
            for r in rows
            if r.transport == "pagerduty"
        )
        assert pager == sorted([(PD_KEY, None), (bob_key, "bob"), (alice_key, "alice")]), kind


def test_no_follow_up_for_a_page_that_failed_or_a_status_update(guide_channels, bob):
    incident = factories.declare(actor=bob, severity="P2")  # no PagerDuty channel for P2
    ContactMethod.objects.create(user=bob, kind="pagerduty", value="B" * 32)
    outbox.page_people(
        incident=incident, event=_new_event(incident, EventKind.ESCALATED), users=[bob]
    )

    update = outbox.notify_incident(
        incident=incident, event=_new_event(incident), message_kind=MessageKind.UPDATE
    )
    assert [r for r in update if r.transport == "pagerduty"] == []

    Notification.objects.filter(transport="pagerduty").update(status=NotificationStatus.FAILED)
    resolved = outbox.notify_incident(
        incident=incident,
        event=_new_event(incident, EventKind.RESOLVED),
        message_kind=MessageKind.RESOLVED,
    )
    assert [r for r in resolved if r.transport == "pagerduty"] == []
