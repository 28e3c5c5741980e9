"""Nothing internal reaches the public: with a secret planted in every
internal field of a published incident (title, summary, impact, services,
root cause, resolution, internal updates, the responders' names and
addresses, an alert's payload, the reference), no public page, JSON
endpoint, feed, calendar, badge, subscriber mail or webhook carries any of it."""

from __future__ import annotations

import json

import pytest

from incidents import services as incident_services
from incidents.notify import outbox
from statuspage import services
from statuspage.models import Component, PublicIncident
from tests import factories
from tests.api_support import token_client

pytestmark = pytest.mark.django_db

STATUS = "status.treebeard.com"
SECRET = "LEAK-7c1d-internal"


@pytest.fixture
def leaky(alice, http_recorder, smtp_sink, settings):
    """A published, then resolved, incident whose every internal field holds
    SECRET; an email and a webhook subscriber told of it."""
    settings.NOTIFY_EMAIL_MAX_PER_MINUTE = 1000
    carol = factories.responder(f"carol-{SECRET}")
    carol.first_name, carol.last_name, carol.email = SECRET, SECRET, f"{SECRET}@corp.test"
    carol.save()
    services.subscriber_add(actor=alice, kind="email", address="ann@example.com")
    services.subscriber_add(actor=alice, kind="webhook", endpoint=http_recorder.url("/status-hook"))
    api = services.component_create(actor=alice, name="API")
    incident = factories.declare(
        actor=carol,
        title=f"title {SECRET}",
        summary=f"summary {SECRET}",
        impact=f"impact {SECRET}",
        services=[f"svc-{SECRET}".lower()],
    )
    incident_services.incident_assign_role(
        incident=incident, actor=carol, role="communications_lead", user=carol
    )
    factories.alert(
        incident,
        title=f"alert {SECRET}",
        manager=alice,
        labels={"secret": SECRET},
        annotations={"runbook": SECRET},
    )
    incident_services.incident_post_update(
        incident=incident, actor=carol, message=f"internal note {SECRET}"
    )
    services.incident_publish(
        actor=carol,
        incident=incident,
        title="Slow API responses",
        impact="minor",
        message="We are looking into slow responses.",
        components=[{"id": api.code, "status": "degraded_performance"}],
    )
    # A public update through incidents' own endpoint, and an internal one.
    response = token_client(carol).post(
        f"/api/v1/incidents/{incident.ref}/updates/",
        {
            "message": "We found the cause.",
            "status": "identified",
            "visibility": "public",
            "components": [{"id": api.code, "status": "partial_outage"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    incident_services.incident_post_update(
        incident=incident, actor=carol, message=f"another internal note {SECRET}"
    )
    incident_services.incident_resolve(
        incident=incident,
        actor=carol,
        root_cause=f"root cause {SECRET}",
        resolution=f"resolution {SECRET}",
    )
    public = PublicIncident.objects.get(incident=incident)
    services.public_update_post(
        actor=carol, public_incident=public, status="resolved", body="All is well again."
    )
    return {"incident": incident, "public": public, "component": api, "carol": carol}


def public_urls(leaky) -> list[str]:
    public, component = leaky["public"], leaky["component"]
    return [
        "/",
        "/history",
        "/history.atom",
        "/history.rss",
        "/maintenance.ics",
        "/badge.svg",
        f"/badge.svg?component={component.code}",
        f"/incidents/{public.code}",
        f"/components/{component.code}/history.atom",
        f"/components/{component.code}/history.rss",
        "/subscribe",
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
    ]


def forbidden(leaky) -> list[str]:
    carol = leaky["carol"]
    return [SECRET, SECRET.lower(), leaky["incident"].ref, carol.username, carol.email]


def test_no_public_page_json_feed_calendar_or_badge_carries_anything_internal(client, leaky):
    assert Component.objects.get().status == "operational"  # resolved: restored
    for root in ("", "/status"):
        host = STATUS if root == "" else "testserver"
        for url in public_urls(leaky):
            path = (root + url) if url != "/" or root == "" else "/status/"
            response = client.get(path, HTTP_HOST=host)
            assert response.status_code == 200, path
            body = response.content.decode()
            for word in forbidden(leaky):
                assert word not in body, f"{word!r} leaked on {host}{path}"
    page = client.get(f"/incidents/{leaky['public'].code}", HTTP_HOST=STATUS).content.decode()
    assert "We found the cause." in page and "All is well again." in page


def test_no_subscriber_mail_or_webhook_carries_anything_internal(leaky, http_recorder, smtp_sink):
    from incidents.models import Notification

    rows = Notification.objects.filter(message_kind__in=["status_email", "status_webhook"])
    assert rows.count() >= 4
    for row in rows:
        snapshot = json.dumps(row.context)
        for word in forbidden(leaky):
            assert word not in snapshot, (word, row.message_kind)
        assert outbox.deliver(row.pk) == "delivered"

    requests = http_recorder.requests_to("/status-hook")
    assert requests
    for request in requests:
        for word in forbidden(leaky):
            assert word.encode() not in request.body
    messages = smtp_sink.wait_for(len(rows) - len(requests))
    for message in messages:
        for word in forbidden(leaky):
            assert word not in message.as_string()
