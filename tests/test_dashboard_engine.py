"""The incident page shows the escalation ladder, SLA breaches and every
delivery with its outcome, including permanent failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import clock
from incidents.models import Channel, Notification, SlaBreach
from incidents.models import Deadline as DeadlineRow
from tests import factories
from tests.engine_support import staff_both_paths

pytestmark = pytest.mark.django_db


def _page(client, incident) -> str:
    response = client.get(reverse("incidents:detail", kwargs={"ref": incident.ref}))
    assert response.status_code == 200
    return response.content.decode()


def test_incident_page_shows_the_copied_escalation_ladder(client_for, bob):
    incident = factories.declare(actor=bob, severity="P0")
    html = _page(client_for(bob), incident)
    assert 'id="panel-escalation"' in html
    for name in (
        "On-call engineer",
        "Senior engineer",
        "Engineering manager",
        "VP Engineering / CTO",
    ):
        assert name in html
    assert "Technical path" in html


def test_l4_is_hidden_for_a_p1(client_for, bob):
    incident = factories.declare(actor=bob, severity="P1")
    html = _page(client_for(bob), incident)
    assert "Engineering manager" in html
    assert "VP Engineering / CTO" not in html


def test_incident_page_lists_deliveries_and_shows_a_permanent_failure(client_for, bob):
    incident = factories.declare(actor=bob, severity="P1")
    channel = Channel.objects.create(
        name="#incidents", kind="slack", target="https://hooks.slack.example/x", severities=["P1"]
    )
    now = clock.now()

    def delivery(key: str, message_kind: str, status: str, **outcome) -> None:
        Notification.objects.create(
            idempotency_key=key,
            incident=incident,
            channel=channel,
            transport="slack",
            target=channel.target,
            message_kind=message_kind,
            status=status,
            created_at=now,
            next_attempt_at=now,
            attempts=1,
            **outcome,
        )

    delivery("t:1", "initial", "delivered", delivered_at=now)
    delivery("t:2", "update", "failed", last_error="HTTP 404: no_service")
    html = _page(client_for(bob), incident)
    assert "#incidents (Slack incoming webhook)" in html
    assert "✓ Delivered" in html
    assert "✕ Failed" in html
    assert "HTTP 404: no_service" in html
    # The webhook URL is a secret: never on the page.
    assert "hooks.slack.example" not in html


def test_incident_page_shows_how_late_a_breached_promise_was_kept(client_for, bob):
    incident = factories.declare(actor=bob, severity="P1")
    deadline = DeadlineRow.objects.get(incident=incident, kind="acknowledge")
    SlaBreach.objects.create(
        incident=incident,
        deadline=deadline,
        kind="acknowledge",
        severity="P1",
        target_seconds=900,
        due_at=deadline.due_at,
        detected_at=deadline.due_at,
        met_at=deadline.due_at + timedelta(minutes=7),
    )
    html = _page(client_for(bob), incident)
    assert "SLA breaches" in html
    assert "kept 7m late" in html


def test_viewer_sees_the_panels_but_no_secret_targets(client_for, vera, bob):
    incident = factories.declare(actor=bob, severity="P2")
    html = _page(client_for(vera), incident)
    assert 'id="panel-deliveries"' in html
    assert 'id="panel-escalation"' in html


def test_the_header_shows_the_next_escalation_level_only_and_names_it(client_for, bob):
    staff_both_paths()
    incident = factories.declare(actor=bob, severity="P0")
    html = _page(client_for(bob), incident)
    head = html[html.index('class="clocks"') : html.index("</ul>", html.index('class="clocks"'))]

    assert 'data-label="L2 escalation"' in head
    assert "L2 escalation due in 14m" in head
    assert "L3 escalation" not in head and "L4 escalation" not in head
    assert 'data-label="Ack"' in head
