"""The guide's communication templates, rendered from a notification's
context (GUIDE.md "Communication Templates")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from incidents import services
from incidents.models import Role
from incidents.notify import messages
from incidents.notify.compose import SNAPSHOT_KEYS
from incidents.notify.context import incident_snapshot
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def led(bob, vera, alice):
    """A P1 with a commander and a responder, declared at T0."""
    incident = factories.declare(actor=bob, impact="Some customers cannot pay\n- Refunds late")
    services.incident_assign_role(incident=incident, actor=bob, role=Role.COMMANDER, user=bob)
    services.incident_assign_role(incident=incident, actor=bob, role=Role.RESPONDER, user=alice)
    return incident


def ctx(incident, **extra) -> dict:
    return {**incident_snapshot(incident), **extra}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_snapshot_keys_match_incident_snapshot(incident):
    assert set(incident_snapshot(incident)) == set(SNAPSHOT_KEYS)


def test_initial_alert_follows_the_guide(led):
    text = messages.text("initial", ctx(led))

    assert text.splitlines()[0] == "🚨 INCIDENT: Checkout API returning 500s"
    assert "Severity: P1 (High)\nStarted: 2026-11-28 09:00 UTC\nStatus: Investigating" in text
    assert "Impact:\n- Some customers cannot pay\n- Refunds late" in text
    assert "IC: @Bob\n" in text
    assert "Responders: @Alice" in text
    assert "Updates in thread every 30 minutes." in text
    assert text.endswith(led.get_absolute_url())


def test_initial_alert_without_a_cadence_omits_the_updates_line(bob):
    incident = factories.declare(actor=bob, severity="P3")

    text = messages.text("initial", ctx(incident))

    assert "Updates in thread" not in text
    assert "IC: not assigned yet" in text


def test_status_update_says_minutes_since_detection(led):
    posted = T0 + timedelta(minutes=15, seconds=40)

    text = messages.text(
        "update", ctx(led, message="Rolled back the deploy", posted_at=iso(posted))
    )

    assert text.startswith("📊 UPDATE [+15min]: Checkout API returning 500s\n")
    assert "Status: Investigating" in text
    assert "Rolled back the deploy" in text
    assert "Next update in 30 minutes." in text


def test_status_update_long_after_detection_keeps_the_guides_minutes(led):
    text = messages.text("update", ctx(led, posted_at=iso(T0 + timedelta(hours=2, minutes=5))))

    assert text.startswith("📊 UPDATE [+125min]: ")


def test_resolution_notice_has_duration_root_cause_fix_and_thanks(frozen, led, bob):
    frozen.move_to(T0 + timedelta(minutes=45), tick=False)
    services.incident_resolve(
        incident=led, actor=bob, root_cause="Bad deploy", resolution="Rolled back"
    )
    led.refresh_from_db()

    text = messages.text("resolved", ctx(led))

    assert text.startswith("✅ RESOLVED: Checkout API returning 500s\n")
    assert "Duration: 45 minutes" in text
    assert "Root cause: Bad deploy" in text
    assert "Fix: Rolled back" in text
    assert "Thanks to @Bob, @Alice for quick response!" in text


def test_escalation_page_names_the_level_who_is_paged_and_why(led):
    text = messages.text(
        "escalation",
        ctx(
            led,
            path="technical",
            level=2,
            paged=["Dana", {"name": "Eve"}],
            reason="Not acknowledged within 15 minutes",
        ),
    )

    assert text.startswith("⬆️ ESCALATED to L2 Senior engineer: Checkout API returning 500s")
    assert "Why: Not acknowledged within 15 minutes" in text
    assert "Paged: @Dana, @Eve" in text
    assert "Path: technical escalation" in text


def test_the_page_at_declaration_reads_as_a_page_not_an_escalation(led):
    context = ctx(led, path="technical", level=1, paged=["Olive"], reason="Declared")

    text = messages.text("escalation", {**context, "first_page": True})

    assert text.startswith("📟 PAGED L1 On-call engineer: Checkout API returning 500s")
    assert "Why: Declared" in text


def test_business_escalation_is_marked_as_such(led):
    text = messages.text("escalation", ctx(led, path="business", level=1, paged=[]))

    assert text.startswith("⬆️ ESCALATED to L1 Customer support lead (business): ")
    assert "Paged: nobody is on call for this level" in text


def test_sla_breach_names_the_target_and_how_late(led):
    text = messages.text("sla_breach", ctx(
        led, sla="acknowledge", target_seconds=900, late_seconds=130,
        due_at=iso(T0 + timedelta(minutes=15)),
    ))  # fmt: skip

    assert text.startswith(
        f"⏰ SLA BREACH: acknowledge target missed on {led.ref} Checkout API returning 500s\n"
    )
    assert "Target: acknowledge within 15 min" in text
    assert "Due: 2026-11-28 09:15 UTC" in text
    assert "Late by: 2 min 10 s" in text


def test_update_reminder_says_when_it_is_due(led):
    text = messages.text("update_due", ctx(led, due_at=iso(T0 + timedelta(minutes=30))))

    assert text.startswith("⏳ UPDATE DUE: Checkout API returning 500s")
    assert f"A status update for {led.ref} is due 2026-11-28 09:30 UTC" in text


def test_acknowledged_and_reopened_are_short(led):
    assert messages.text("acknowledged", ctx(led, actor="Bob")).startswith(
        "👀 ACKNOWLEDGED: Checkout API returning 500s"
    )
    reopened = messages.text("reopened", ctx(led, reason="Errors are back"))
    assert reopened.startswith("🔁 REOPENED: Checkout API returning 500s")
    assert "Why: Errors are back" in reopened


def test_drills_are_prefixed_in_text_and_subject(bob):
    drill = factories.declare(actor=bob, is_drill=True)

    assert messages.text("initial", ctx(drill)).startswith("[DRILL] 🚨 INCIDENT: ")
    assert messages.subject("initial", ctx(drill)).startswith("[DRILL] 🚨 INCIDENT: ")


def test_subject_is_one_line_with_the_reference(led):
    context = ctx(led, message="line one\nline two")

    subject = messages.subject("update", context)

    assert "\n" not in subject
    assert subject.endswith(f"[{led.ref}]")


def test_html_escapes_user_text_and_links_the_incident(bob):
    incident = factories.declare(
        actor=bob, title="<img src=x onerror=alert(1)>", impact="<b>bold</b> & more"
    )

    html = messages.html("initial", ctx(incident))

    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert f'href="{incident_snapshot(incident)["url"]}"' in html


def test_slack_escapes_mrkdwn_control_characters(bob):
    incident = factories.declare(
        actor=bob, title="a <@U123> & <!here>", impact="<https://evil.example|click>"
    )

    body = messages.slack_message("initial", ctx(incident))

    section = body["blocks"][1]["text"]["text"]
    assert "<https://evil.example|click>" not in section
    assert "&lt;https://evil.example|click&gt;" in section
    assert body["text"].startswith("🚨 INCIDENT: a &lt;@U123&gt; &amp; &lt;!here&gt;")
    # The header is plain_text: shown as typed, never interpreted.
    assert body["blocks"][0]["text"]["text"] == "🚨 INCIDENT: a <@U123> & <!here>"


def test_slack_section_is_cut_without_leaving_half_an_entity(bob):
    incident = factories.declare(actor=bob, impact="&" * 5000)

    section = messages.slack_message("initial", ctx(incident))["blocks"][1]["text"]["text"]

    assert len(section) <= 3000
    assert section.endswith("&amp;…")


def test_pagerduty_event_only_for_kinds_a_pager_needs(led):
    context = ctx(led)

    assert messages.pagerduty_event("update", context, "k" * 32) is None
    assert messages.pagerduty_event("update_due", context, "k" * 32) is None
    assert messages.pagerduty_event("digest", {"incidents": []}, "k" * 32) is None
    assert messages.pagerduty_event("initial", context, "k" * 32)["event_action"] == "trigger"
    assert messages.pagerduty_event("reopened", context, "k" * 32)["event_action"] == "trigger"


def test_webhook_body_separates_the_snapshot_from_the_extras(led):
    body = json.loads(messages.webhook_body(
        "escalation", ctx(led, level=2, paged=["Dana"]), delivery_id="d-1", timestamp=1700000000,
    ))  # fmt: skip

    assert body["event"] == "incident.escalation"
    assert body["delivery_id"] == "d-1"
    assert body["timestamp"] == 1700000000
    assert set(body["incident"]) == set(SNAPSHOT_KEYS)
    assert body["data"] == {"level": 2, "paged": ["Dana"]}


def test_digest_lists_each_incident_or_says_there_are_none(bob):
    first = factories.declare(actor=bob, severity="P3", title="Typo on pricing page")

    listed = messages.text("digest", {"date": "2026-11-28", "incidents": [ctx(first)]})
    empty = messages.text("digest", {"date": "2026-11-28", "incidents": []})

    assert listed.startswith("📋 DIGEST 2026-11-28: 1 low-severity incident\n")
    assert f"- {first.ref} [Investigating] Typo on pricing page" in listed
    assert "No P3 incidents." in empty


def test_escalation_to_slack_mentions_paged_member_ids_only():
    from incidents.notify.messages import slack_message

    ctx = {
        "ref": "INC-20261128-001",
        "title": "API down",
        "severity": "P0",
        "level": 2,
        "path": "technical",
        "paged": ["Bob"],
        "url": "https://ir.example/i/1",
        "mentions": ["U0BOB", "@W0ALICE", "<!channel>", "U0BOB"],
    }
    blocks = slack_message("escalation", ctx)["blocks"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert "<@U0BOB> <@W0ALICE>" in texts
    assert not any("<!channel>" in t for t in texts)
