"""The SLA engine end to end: a real Celery worker and beat against Redis and
PostgreSQL, Slack / PagerDuty / webhooks received by a local HTTP server and
email by a local SMTP server (tests/worker_support.py, tests/fakes.py).

A worker cannot be time-travelled, so time passes for an incident through
``age`` (its detection time and pending deadlines move back) and the beat's
sweep, running every second, finds what fell due.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents import services
from incidents.models import (
    Deadline,
    DeadlineKind,
    EventKind,
    Notification,
    NotificationStatus,
    SlaBreach,
)
from tests import factories
from tests.engine_harness import Engine
from tests.engine_scenarios import (
    EMAIL_CHANNEL,
    age,
    escalated_levels,
    events,
    guide_channels,
    mail_to,
    pagerduty_events,
    person,
    plain_text,
    receivers_of,
    settled,
    slack_headlines,
    slack_messages,
    staff_the_ladder,
    webhook_bodies,
)
from tests.worker_support import eventually

pytestmark = pytest.mark.transactional


@pytest.fixture
def engine(transactional_db):
    """Redis, one worker (2 processes), one beat, HTTP recorder and SMTP sink."""
    with Engine() as running:
        yield running


@pytest.fixture
def bob(transactional_db):
    return factories.responder("bob")


def _due(incident, kind, **filters):
    return Deadline.objects.get(incident=incident, kind=kind, **filters)


def test_unacknowledged_p0_pages_l1_then_escalates_to_l2_and_l3_at_the_guides_minutes(engine, bob):
    rec, sink = engine.recorder, engine.smtp
    guide_channels(rec, "pagerduty", "slack")
    people = staff_the_ladder()
    incident = factories.declare(actor=bob, severity="P0", title="Checkout is down")
    ref = incident.ref

    # The guide's minutes, as rows: acknowledge 5, L2 15, L3 30, L4 60 (P0 only).
    start = incident.detected_at
    assert _due(incident, DeadlineKind.ACKNOWLEDGE).due_at == start + timedelta(minutes=5)
    steps = {
        d.level: d.due_at - start
        for d in Deadline.objects.filter(
            incident=incident, kind=DeadlineKind.ESCALATION, path="technical"
        )
    }
    assert steps == {2: timedelta(minutes=15), 3: timedelta(minutes=30), 4: timedelta(minutes=60)}

    # At declaration: PagerDuty triggered under the reference, Slack's Block
    # Kit initial alert, and L1 (olive) paged by email.
    eventually(
        lambda: (
            pagerduty_events(rec, ref)
            and slack_messages(rec, ref)
            and mail_to(sink, "olive@pager.test", ref)
        ),
        message="initial alert and L1 page",
    )
    trigger = pagerduty_events(rec, ref)[0]
    assert (trigger["event_action"], trigger["dedup_key"]) == ("trigger", ref)
    assert trigger["payload"]["severity"] == "critical"
    blocks = slack_messages(rec, ref)[0]["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "🚨 INCIDENT: Checkout is down"
    assert "L1 On-call engineer" in mail_to(sink, "olive@pager.test", ref)[0]["Subject"]
    paged = events(incident, EventKind.NOTIFICATION)
    assert [e.detail["notified"] for e in paged] == [["olive"]]

    # 16 minutes without acknowledgement: the acknowledge SLA is breached and L2 paged.
    age(incident, minutes=16)
    eventually(lambda: escalated_levels(incident) == [2], message="escalated to L2")
    eventually(lambda: mail_to(sink, "sam@pager.test", ref), message="sam paged by email")
    incident.refresh_from_db()
    assert incident.escalation_level == 2
    assert _due(incident, DeadlineKind.ESCALATION, level=3).fired_at is None
    assert not mail_to(sink, "emma@pager.test")

    # 31 minutes: L3.
    age(incident, minutes=15)
    eventually(lambda: escalated_levels(incident) == [2, 3], message="escalated to L3")
    page = eventually(lambda: mail_to(sink, "emma@pager.test", ref))[0]
    assert "ESCALATED to L3 Engineering manager" in page["Subject"]
    assert "emma" in plain_text(page)
    assert _due(incident, DeadlineKind.ESCALATION, level=4).fired_at is None

    # The timeline tells the story in order, naming who was notified.
    story = [
        (e.kind, e.detail.get("level"), e.detail.get("sla"))
        for e in events(incident)
        if e.kind in (EventKind.NOTIFICATION, EventKind.ESCALATED, EventKind.SLA_BREACHED)
    ]
    assert story[0] == (EventKind.NOTIFICATION, 1, None)
    assert (
        story.index((EventKind.SLA_BREACHED, None, "acknowledge"))
        < story.index((EventKind.ESCALATED, 2, None))
        < story.index((EventKind.ESCALATED, 3, None))
    )
    notified = {
        e.detail["level"]: e.detail["notified"] for e in events(incident, EventKind.ESCALATED)
    }
    assert notified == {2: ["sam"], 3: ["emma"]}
    assert {level: p.username for level, p in people.items()} == {1: "olive", 2: "sam", 3: "emma"}

    # PagerDuty: the trigger and one per escalation, all on the one dedup_key.
    eventually(lambda: len(pagerduty_events(rec, ref)) == 3, message="3 PagerDuty events")
    assert {e["dedup_key"] for e in pagerduty_events(rec)} == {ref}
    assert SlaBreach.objects.filter(incident=incident, kind="acknowledge").count() == 1


def test_acknowledgement_stops_escalation(engine, bob):
    rec, sink = engine.recorder, engine.smtp
    guide_channels(rec, "pagerduty", "slack")
    staff_the_ladder()
    incident = factories.declare(actor=bob, severity="P0", title="Payments failing")
    eventually(lambda: mail_to(sink, "olive@pager.test", incident.ref), message="L1 paged")
    services.incident_acknowledge(incident=incident, actor=bob)
    eventually(
        lambda: any(
            e["event_action"] == "acknowledge" for e in pagerduty_events(rec, incident.ref)
        ),
        message="PagerDuty acknowledge",
    )

    # Every later level falls due, even the steps the acknowledgement closed.
    age(incident, minutes=31)
    Deadline.objects.filter(incident=incident, kind=DeadlineKind.ESCALATION).update(
        due_at=incident.detected_at - timedelta(minutes=40)
    )
    # The 15-minute update reminder fires in the same sweep as L2 and L3
    # would: once it is out, the sweep has been past them.
    eventually(
        lambda: any("UPDATE DUE" in h for h in slack_headlines(rec, incident.ref)),
        message="update reminder (sweep ran past the escalation steps)",
    )
    eventually(settled)

    incident.refresh_from_db()
    assert incident.escalation_level == 1
    assert escalated_levels(incident) == []
    assert not mail_to(sink, "sam@pager.test") and not mail_to(sink, "emma@pager.test")
    assert not Deadline.objects.filter(
        incident=incident, kind=DeadlineKind.ESCALATION, fired_at__isnull=False
    ).exists()


def test_update_cadence_reminder_reaches_slack_and_the_commander(engine, bob):
    rec, sink = engine.recorder, engine.smtp
    guide_channels(rec, "slack")
    carol = person("carol")
    incident = factories.declare(actor=bob, severity="P1", title="Search is slow", commander=carol)
    services.incident_acknowledge(incident=incident, actor=carol)
    first = _due(incident, DeadlineKind.UPDATE)
    assert first.due_at - first.starts_at == timedelta(minutes=30)  # P1: every 30 minutes

    age(incident, minutes=31)
    reminder = eventually(
        lambda: [m for m in slack_messages(rec, incident.ref) if "UPDATE DUE" in m["text"]],
        message="Slack reminder",
    )[0]
    assert "every 30 minutes for P1" in reminder["blocks"][1]["text"]["text"]
    mail = eventually(
        lambda: mail_to(sink, "carol@pager.test", incident.ref),
        message="commander reminded by email",
    )[0]
    assert "UPDATE DUE" in mail["Subject"]

    breach = events(incident, EventKind.SLA_BREACHED)
    assert [e.detail["sla"] for e in breach] == ["update"]
    # The next reminder is planned one cadence later; posting an update meets it.
    first.refresh_from_db()
    assert first.fired_at is not None
    nxt = Deadline.objects.pending().get(
        incident=incident, kind=DeadlineKind.UPDATE, fired_at__isnull=True
    )
    assert nxt.due_at == first.due_at + timedelta(minutes=30)
    services.incident_post_update(incident=incident, actor=carol, message="Index rebuilt")
    nxt.refresh_from_db()
    assert nxt.met_at is not None


def test_resolve_target_breach_is_recorded_and_notified(engine, bob):
    rec, sink = engine.recorder, engine.smtp
    guide_channels(rec, "slack", "email")
    incident = factories.declare(actor=bob, severity="P1", title="Exports delayed")
    services.incident_acknowledge(incident=incident, actor=bob)
    services.incident_change_status(incident=incident, actor=bob, status="identified")

    age(incident, minutes=4 * 60 + 1)  # the P1 resolve target is 4 h
    breach = eventually(
        lambda: SlaBreach.objects.filter(incident=incident, kind="resolve").first(),
        message="resolve breach recorded",
    )
    assert breach.target_seconds == 4 * 3600
    assert breach.severity == "P1"
    eventually(
        lambda: any("SLA BREACH: resolve" in h for h in slack_headlines(rec, incident.ref)),
        message="Slack breach",
    )
    mail = eventually(
        lambda: [
            m for m in mail_to(sink, EMAIL_CHANNEL, incident.ref) if "SLA BREACH" in m["Subject"]
        ],
        message="email breach",
    )[0]
    assert "resolve within 4 h" in plain_text(mail)
    event = next(
        e for e in events(incident, EventKind.SLA_BREACHED) if e.detail["sla"] == "resolve"
    )
    assert event.message == "Resolve target of 4 h missed"

    # Resolving later dates the breach: by how long the promise was missed.
    services.incident_resolve(
        incident=incident, actor=bob, root_cause="Queue stuck", resolution="Restarted the exporter"
    )
    breach.refresh_from_db()
    assert breach.met_at is not None
    assert 60 <= breach.late_by_seconds < 60 + 120


def test_p3_goes_out_in_the_daily_email_digest(engine, bob):
    from treebeard_ir.celery import app

    rec, sink = engine.recorder, engine.smtp
    guide_channels(rec, "email", "webhook")
    incident = factories.declare(actor=bob, severity="P3", title="Typo on the pricing page")
    # The webhook (which takes P3 at once) shows the declaration was processed;
    # the email waits for the digest.
    eventually(lambda: webhook_bodies(rec, incident.ref), message="webhook initial alert")
    eventually(settled)
    row = Notification.objects.get(incident=incident, transport="email")
    assert row.status == NotificationStatus.DIGEST
    assert sink.messages == []

    app.send_task("incidents.send_digest")
    digest = sink.wait_for(1, timeout=30)
    eventually(settled)
    assert len(sink.messages) == 1
    assert sink.envelopes[0].rcpt_tos == [EMAIL_CHANNEL]
    assert "DIGEST" in digest[0]["Subject"]
    body = plain_text(digest[0])
    assert incident.ref in body and "Typo on the pricing page" in body
    row.refresh_from_db()
    assert row.status == NotificationStatus.DIGESTED


def test_each_severity_reaches_the_guides_channels(engine, bob):
    """The guide's table: P0 PagerDuty + Slack, P1 Slack + email, P2 Slack,
    P3 email digest; the webhook takes every severity."""
    from treebeard_ir.celery import app

    rec, sink = engine.recorder, engine.smtp
    guide_channels(rec)
    refs = {
        sev: factories.declare(actor=bob, severity=sev, title=f"{sev} routing").ref
        for sev in ("P0", "P1", "P2", "P3")
    }
    eventually(lambda: settled() and len(rec.requests) >= 8, message="initial alerts delivered")
    eventually(lambda: len(sink.messages) >= 1)

    got = {sev: receivers_of(rec, sink, ref) for sev, ref in refs.items()}
    assert got == {
        "P0": {"pagerduty", "slack", "webhook"},
        "P1": {"slack", "email", "webhook"},
        "P2": {"slack", "webhook"},
        "P3": {"webhook"},
    }
    # P1 only (P3 waits): its initial alert and, nobody being on call here,
    # the escalation that says nobody could be paged on the technical path.
    eventually(lambda: len(sink.messages) >= 2, message="P1 escalation mailed")
    assert len(sink.messages) == len(mail_to(sink, EMAIL_CHANNEL, refs["P1"])) == 2
    assert "nobody could be paged" in plain_text(sink.messages[-1])

    app.send_task("incidents.send_digest")
    sink.wait_for(3, timeout=30)
    digest = sink.messages[-1]
    body = plain_text(digest)
    assert refs["P3"] in body
    assert not any(refs[s] in body for s in ("P0", "P1", "P2"))
