"""Telling subscribers: who is told of which change (components, groups, a
component added to a subscribed group later), webhook bodies in
Statuspage's shapes with a verifiable signature, email with the one-click
unsubscribe headers, and nothing internal in anything sent."""

from __future__ import annotations

import json

import pytest

from incidents import clock
from incidents.models import NotificationStatus
from incidents.notify import outbox
from incidents.notify.transports import verify_signature
from statuspage import services
from statuspage.models import Subscriber
from statuspage.services import subscribers as subs
from tests import factories
from tests.sp_subs_support import (
    STATUS,
    add_email,
    deliver_all,
    deliveries_of,
    make_layout,
    status_rows,
    text_of,
    told,
)

pytestmark = pytest.mark.django_db

SECRET = "S3CR3T-internal-only"


@pytest.fixture
def layout(alice):
    return make_layout(alice)


@pytest.fixture
def audience(alice, layout) -> dict:
    """One subscriber of each kind of choice, and one never confirmed."""
    return {
        "all": add_email(alice, "all@example.com"),
        "api": add_email(alice, "api@example.com", components=[layout["api"]]),
        "group": add_email(alice, "group@example.com", groups=[layout["public"]]),
        "billing": add_email(alice, "billing@example.com", components=[layout["billing"]]),
        "pending": subs.subscriber_request(
            address="pending@example.com", components=(), groups=(), ip="203.0.113.9"
        ),
    }


def set_status(alice, component, status):
    return services.component_set_status(actor=alice, component=component, status=status)


def test_a_component_change_tells_its_subscribers_its_groups_and_everyones(alice, layout, audience):
    set_status(alice, layout["web"], "major_outage")

    assert told(message_kind="status_email", context__template="component") == {
        "all@example.com",
        "group@example.com",
    }
    set_status(alice, layout["billing"], "partial_outage")
    assert told(context__component__name="Billing") == {"all@example.com", "billing@example.com"}


def test_a_component_added_to_a_subscribed_group_later_is_included(alice, layout, audience):
    later = services.component_create(actor=alice, name="Status API", group=layout["public"])

    set_status(alice, later, "degraded_performance")

    assert told(context__component__name="Status API") == {"all@example.com", "group@example.com"}


def test_unconfirmed_subscribers_get_nothing_but_their_confirmation(alice, layout, audience):
    set_status(alice, layout["api"], "major_outage")

    pending = audience["pending"]
    assert [d.event for d in deliveries_of(pending)] == ["subscription.confirm"]


def publish(alice, components, *, title="Payments are failing", **internal):
    incident = factories.declare(actor=alice, **internal)
    return services.incident_publish(
        actor=alice,
        incident=incident,
        title=title,
        impact="major",
        message="We are looking into failed payments.",
        components=components,
    )


def test_a_public_update_tells_the_subscribers_of_its_components(alice, layout, audience):
    public = publish(alice, [{"id": layout["api"].code, "status": "partial_outage"}])

    assert told(context__template="incident") == {
        "all@example.com",
        "api@example.com",
        "group@example.com",
    }
    services.public_update_post(
        actor=alice, public_incident=public, status="resolved", body="Fixed."
    )
    assert len(status_rows(context__template="incident")) == 6


def test_an_incident_naming_no_component_tells_everyone_confirmed(alice, layout, audience):
    publish(alice, [])

    assert told(context__template="incident") == {
        "all@example.com",
        "api@example.com",
        "group@example.com",
        "billing@example.com",
    }


def test_the_same_update_told_twice_writes_one_row_per_subscriber(alice, layout, audience):
    from statuspage.services.notify import incident_updated

    public = publish(alice, [])
    update = public.updates.get()
    assert incident_updated(update=update) == 0
    assert len(status_rows(context__template="incident")) == 4


@pytest.fixture
def hook(alice, http_recorder) -> Subscriber:
    return services.subscriber_add(
        actor=alice, kind="webhook", endpoint=http_recorder.url("/status-hook")
    )


def delivered_body(http_recorder, subscriber) -> dict:
    assert deliver_all() == ["delivered"]
    (request,) = http_recorder.requests_to("/status-hook")
    assert verify_signature(
        subscriber.secret,
        request.body,
        request.headers["x-treebeard-signature"],
        request.headers["x-treebeard-timestamp"],
        now=clock.now(),
    )
    assert request.headers["content-type"] == "application/json"
    return json.loads(request.body)


def test_a_webhook_gets_statuspages_component_update_signed(alice, layout, hook, http_recorder):
    set_status(alice, layout["api"], "major_outage")

    body = delivered_body(http_recorder, hook)

    assert set(body) >= {"meta", "page", "component_update", "component"}
    assert set(body["meta"]) == {"unsubscribe", "documentation", "generated_at"}
    assert body["meta"]["unsubscribe"].startswith("https://status.treebeard.com/unsubscribe/")
    assert set(body["page"]) == {"id", "status_indicator", "status_description"}
    assert body["page"]["status_indicator"] == "major"
    update = body["component_update"]
    assert {k: update[k] for k in ("old_status", "new_status", "component_id")} == {
        "old_status": "operational",
        "new_status": "major_outage",
        "component_id": layout["api"].code,
    }
    assert {"created_at", "id"} <= set(update)
    component = body["component"]
    assert component["id"] == layout["api"].code and component["status"] == "major_outage"
    assert component["group_id"] == layout["public"].code
    assert (hook.deliveries.get().event, status_rows()[0].status) == (
        "component.update",
        NotificationStatus.DELIVERED,
    )


def test_a_webhook_gets_statuspages_incident_with_its_updates(alice, layout, hook, http_recorder):
    public = publish(alice, [{"id": layout["api"].code, "status": "partial_outage"}])

    body = delivered_body(http_recorder, hook)

    incident = body["incident"]
    for key in (
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "started_at",
        "monitoring_at",
        "resolved_at",
        "shortlink",
        "page_id",
        "incident_updates",
        "components",
    ):
        assert key in incident, key
    assert (incident["id"], incident["name"], incident["impact"]) == (
        public.code,
        "Payments are failing",
        "major",
    )
    (update,) = incident["incident_updates"]
    assert update["incident_id"] == public.code
    assert update["body"] == "We are looking into failed payments."
    assert update["affected_components"][0]["new_status"] == "partial_outage"
    assert [c["id"] for c in incident["components"]] == [layout["api"].code]
    assert incident["page_id"] == body["page"]["id"]


def test_a_webhook_answering_410_fails_for_good_and_500_is_retried(
    alice, layout, hook, http_recorder
):
    http_recorder.script("/status-hook", [(500, {}, "busy"), (410, {}, "gone")])
    set_status(alice, layout["api"], "major_outage")
    (row,) = status_rows()

    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    row.next_attempt_at = clock.now()
    row.save(update_fields=["next_attempt_at"])
    assert outbox.deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.last_status_code) == (NotificationStatus.FAILED, 410)
    from treebeard_ir.celery import app

    app.control.purge()  # the retry was published as a countdown


def test_nothing_is_sent_to_a_subscriber_gone_before_delivery(alice, layout, hook, http_recorder):
    set_status(alice, layout["api"], "major_outage")
    (row,) = status_rows()
    services.subscriber_delete(actor=alice, subscriber=hook)

    assert outbox.deliver(row.pk) == "failed"
    assert http_recorder.requests_to("/status-hook") == []


def test_subscriber_mail_carries_one_click_unsubscribe(client, alice, layout, smtp_sink):
    ann = add_email(alice, "ann@example.com")
    set_status(alice, layout["api"], "major_outage")
    deliver_all()
    (message,) = smtp_sink.wait_for(1)

    assert "API" in message["Subject"]
    assert "major outage" in text_of(message)
    header = str(message["List-Unsubscribe"]).strip()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = header.strip("<>").removeprefix(f"https://{STATUS}")
    response = client.post(path, {"List-Unsubscribe": "One-Click"}, HTTP_HOST=STATUS)
    assert response.status_code == 200
    assert not Subscriber.objects.filter(pk=ann.pk).exists()


def test_nothing_internal_reaches_subscribers(alice, layout, hook, http_recorder, smtp_sink):
    add_email(alice, "ann@example.com")
    incident = factories.declare(
        actor=alice,
        title=f"title {SECRET}",
        summary=f"summary {SECRET}",
        impact=f"impact {SECRET}",
        services=["payments-internal"],
    )
    services.incident_publish(
        actor=alice,
        incident=incident,
        title="Payments are slow",
        impact="minor",
        message="Some payments take longer than usual.",
        components=[{"id": layout["api"].code, "status": "degraded_performance"}],
    )

    rows = status_rows()
    assert rows and all(row.incident_id is None for row in rows)
    for row in rows:
        snapshot = json.dumps(row.context)
        assert SECRET not in snapshot and incident.ref not in snapshot
        assert "payments-internal" not in snapshot and "alice" not in snapshot.lower()
    deliver_all()
    (request,) = http_recorder.wait_for(1)
    assert SECRET.encode() not in request.body and incident.ref.encode() not in request.body
    (message,) = smtp_sink.wait_for(1)
    assert SECRET not in message.as_string() and incident.ref not in message.as_string()


def test_maintenance_events_tell_the_subscribers_of_its_components(
    alice, layout, audience, hook, http_recorder
):
    from datetime import timedelta

    from statuspage.models import Maintenance
    from statuspage.services.notify import maintenance_event

    now = clock.now()
    maintenance = Maintenance.objects.create(
        name="Database upgrade",
        scheduled_for=now + timedelta(days=1),
        scheduled_until=now + timedelta(days=1, hours=2),
        created_at=now,
        updated_at=now,
    )
    maintenance.components.set([layout["billing"]])

    assert maintenance_event(maintenance=maintenance, update=None, event="scheduled") == 3
    assert maintenance_event(maintenance=maintenance, update=None, event="scheduled") == 0

    assert told(context__template="maintenance") == {
        "all@example.com",
        "billing@example.com",
        hook.endpoint,
    }
    row = status_rows(message_kind="status_webhook")[0]
    assert outbox.deliver(row.pk) == "delivered"
    (request,) = http_recorder.requests_to("/status-hook")
    incident = json.loads(request.body)["incident"]
    assert (incident["id"], incident["impact"]) == (maintenance.code, "maintenance")
    assert incident["scheduled_for"] and incident["scheduled_until"]
    assert [c["name"] for c in incident["components"]] == ["Billing"]
