"""Alert ingestion through the HTTP endpoints, replaying real tools' payloads."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from incidents.models import Alert, AlertAction, EventKind, Incident, Status, TimelineEvent
from incidents.services.integrations import integration_create
from tests.ingest_support import SAMPLES, sample

pytestmark = pytest.mark.django_db


def raw_sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def integration(alice):
    def make(kind: str = "alertmanager", **options):
        return integration_create(actor=alice, name=f"{kind} test", kind=kind, **options)

    return make


def post(client, token: str, kind: str, body, **extra):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/integrations/{token}/{kind}/",
        data=data,
        content_type="application/json",
        **extra,
    )


def snapshot():
    return (
        Incident.objects.count(),
        Alert.objects.count(),
        TimelineEvent.objects.count(),
        sorted(Incident.objects.values_list("status", "alert_count")),
    )


# --- Alertmanager ------------------------------------------------------------


def test_alertmanager_firing_opens_one_incident_per_fingerprint(client, integration):
    _, token = integration("alertmanager")
    response = post(
        client, token, "alertmanager", raw_sample("alertmanager/webhook_v4_firing.raw.json")
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "accepted"
    assert body["alerts"] == 2
    assert [r["action"] for r in body["results"]] == ["opened", "opened"]
    assert len(body["incidents"]) == 2
    incidents = Incident.objects.order_by("ref")
    assert [i.severity for i in incidents] == ["P0", "P0"]  # severity=critical, 12% / 9% 5xx
    assert all(i.source == "monitoring" and i.alert_count == 1 for i in incidents)
    assert {s.name for i in incidents for s in i.services.all()} == {"checkout"}
    declared = TimelineEvent.objects.filter(kind=EventKind.DECLARED).first()
    assert declared.detail["severity_reasons"], "the severity's reasons are on the timeline"
    assert "Severity:" in declared.message


def test_replaying_the_same_payload_changes_nothing(client, integration):
    _, token = integration("alertmanager")
    body = raw_sample("alertmanager/webhook_v4_firing.raw.json")
    assert post(client, token, "alertmanager", body).status_code == 202
    before = snapshot()
    again = post(client, token, "alertmanager", body)
    assert again.status_code == 202
    assert [r["duplicate"] for r in again.json()["results"]] == [True, True]
    assert snapshot() == before


def test_partially_resolved_group_is_processed_per_alert(client, integration):
    _, token = integration("alertmanager")
    post(client, token, "alertmanager", sample("alertmanager/webhook_v4_firing.json"))
    response = post(
        client,
        token,
        "alertmanager",
        sample("alertmanager/webhook_v4_firing_partially_resolved.json"),
    )
    assert response.status_code == 202
    results = {r["fingerprint"]: r for r in response.json()["results"]}
    assert results["1c5d859e845f39a3"]["action"] == "resolved"
    assert results["2f27ba89bcf30e12"]["status"] == "firing"
    resolved = (
        Incident.objects.filter(alerts__fingerprint="1c5d859e845f39a3", status="resolved")
        .distinct()
        .get()
    )
    assert "cleared" in resolved.root_cause
    assert Incident.objects.filter(status=Status.INVESTIGATING).count() == 1

    final = post(
        client, token, "alertmanager", raw_sample("alertmanager/webhook_v4_resolved.raw.json")
    )
    assert final.status_code == 202
    assert not Incident.objects.exclude(status=Status.RESOLVED).exists()


def test_auto_resolve_off_only_notes_the_clear_on_the_timeline(client, integration):
    _, token = integration("alertmanager", auto_resolve=False)
    post(client, token, "alertmanager", sample("alertmanager/webhook_v4_firing.json"))
    response = post(client, token, "alertmanager", sample("alertmanager/webhook_v4_resolved.json"))
    assert {r["action"] for r in response.json()["results"]} == {"noted"}
    assert not Incident.objects.filter(status=Status.RESOLVED).exists()
    assert (
        TimelineEvent.objects.filter(
            kind=EventKind.ALERT_RECEIVED, message__contains="cleared"
        ).count()
        == 2
    )


def test_new_occurrence_of_a_fingerprint_joins_the_open_incident(client, integration):
    _, token = integration("alertmanager")
    payload = sample("alertmanager/webhook_v4_firing.json")
    post(client, token, "alertmanager", payload)
    for alert in payload["alerts"]:
        alert["startsAt"] = "2026-11-28T01:10:00Z"
    response = post(client, token, "alertmanager", payload)
    assert [r["action"] for r in response.json()["results"]] == ["joined", "joined"]
    assert Incident.objects.count() == 2
    assert sorted(Incident.objects.values_list("alert_count", flat=True)) == [2, 2]
    assert Alert.objects.count() == 4


def test_firing_after_resolution_opens_a_new_incident(client, integration):
    _, token = integration("alertmanager")
    post(client, token, "alertmanager", sample("alertmanager/webhook_v4_firing.json"))
    post(client, token, "alertmanager", sample("alertmanager/webhook_v4_resolved.json"))
    payload = sample("alertmanager/webhook_v4_firing.json")
    for alert in payload["alerts"]:
        alert["startsAt"] = "2026-11-28T03:00:00Z"
    response = post(client, token, "alertmanager", payload)
    assert [r["action"] for r in response.json()["results"]] == ["opened", "opened"]
    assert Incident.objects.count() == 4


# --- other tools ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, name",
    [
        ("grafana", "grafana/webhook_docs_example_firing.json"),
        ("grafana", "grafana/webhook_source_test_fixture_firing.json"),
        ("sentry", "sentry/issue_alert_event_alert_triggered_docs.json"),
        ("sentry", "sentry/issue_created_docs.json"),
        ("alertmanager", "alertmanager/webhook_v4_firing.json"),
    ],
)
def test_real_payloads_open_incidents(client, integration, kind, name):
    _, token = integration(kind)
    response = post(client, token, kind, sample(name))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["alerts"] >= 1
    assert body["incidents"], body
    assert Alert.objects.filter(kind=kind).count() == body["alerts"]
    alert = Alert.objects.filter(kind=kind).first()
    assert alert.raw, "the raw payload is stored"
    assert alert.action == AlertAction.OPENED
    # replay: nothing new
    before = snapshot()
    assert post(client, token, kind, sample(name)).status_code == 202
    assert snapshot() == before


def test_sentry_installation_webhook_is_accepted_without_an_incident(client, integration):
    _, token = integration("sentry")
    response = post(client, token, "sentry", sample("sentry/installation_created_docs.json"))
    assert response.status_code == 202
    assert response.json()["alerts"] == 0
    assert not Incident.objects.exists()


def test_datadog_default_template_rendered_payload_opens_an_incident(client, integration):
    _, token = integration("datadog")
    rendered = {
        "body": "%%%\nCPU above 95% on web-1\n%%%",
        "last_updated": "1732755600000",
        "event_type": "query_alert_monitor",
        "title": "[Triggered on {host:web-1}] Database down on web-1",
        "date": "1732755600000",
        "org": {"id": "1234", "name": "TreeBeard"},
        "id": "7345129873412",
        "alert_id": "98765",
        "alert_transition": "Triggered",
        "alert_type": "error",
        "priority": "normal",
        "tags": "service:api,env:prod",
        "link": "https://app.datadoghq.com/event/event?id=7345129873412",
        "aggreg_key": "f1d2d2f924e986ac",
    }
    response = post(client, token, "datadog", rendered)
    assert response.status_code == 202, response.content
    incident = Incident.objects.get()
    assert incident.severity == "P0"  # "Database down" is a P0 criterion of the guide
    recovered = dict(
        rendered,
        alert_transition="Recovered",
        alert_type="success",
        id="7345129873999",
        title="[Recovered on {host:web-1}] Database down on web-1",
    )
    assert post(client, token, "datadog", recovered).status_code == 202
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED


def test_generic_payload_and_severity_from_error_rate(client, integration):
    _, token = integration("generic")
    response = post(
        client,
        token,
        "generic",
        {
            "title": "Checkout errors",
            "dedup_key": "checkout-5xx",
            "service": "checkout",
            "values": {"error_rate": 0.031},
        },
    )
    assert response.status_code == 202, response.content
    assert Incident.objects.get().severity == "P1"  # 2-5 % error rate


def test_integration_severity_mapping_overrides_the_label(client, integration):
    _, token = integration("alertmanager", severity_mapping={"critical": "P2"})
    payload = sample("alertmanager/webhook_v4_firing.json")
    for alert in payload["alerts"]:
        alert["annotations"] = {"summary": "Something odd"}
    post(client, token, "alertmanager", payload)
    assert set(Incident.objects.values_list("severity", flat=True)) == {"P2"}


# --- PagerDuty Events API v2 ---------------------------------------------------


def enqueue(client, body):
    return client.post("/v2/enqueue", data=json.dumps(body), content_type="application/json")


def test_pagerduty_trigger_acknowledge_resolve_cycle(client, integration):
    _, token = integration("pagerduty")
    trigger = sample("pagerduty/events_v2_trigger_docs_example.json")
    trigger["routing_key"] = token
    trigger.pop("dedup_key")
    response = enqueue(client, trigger)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Event processed"
    dedup_key = body["dedup_key"]
    assert dedup_key
    incident = Incident.objects.get()
    assert incident.status == Status.INVESTIGATING

    ack = sample("pagerduty/events_v2_acknowledge_docs_example.json")
    ack.update(routing_key=token, dedup_key=dedup_key)
    response = enqueue(client, ack)
    assert response.status_code == 202
    assert response.json()["dedup_key"] == dedup_key
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None

    resolve = sample("pagerduty/events_v2_resolve_docs_example.json")
    resolve.update(routing_key=token, dedup_key=dedup_key)
    assert enqueue(client, resolve).status_code == 202
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds.count(EventKind.ALERT_RECEIVED) == 3


def test_pagerduty_invalid_event_answers_like_pagerduty(client, integration):
    _, token = integration("pagerduty")
    response = enqueue(
        client,
        {
            "routing_key": token,
            "event_action": "trigger",
            "payload": {"source": "x", "severity": "error"},
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert any("summary" in e for e in body["errors"])
    assert not Alert.objects.exists()


def test_pagerduty_unknown_routing_key_is_404_and_writes_nothing(client, db):
    body = sample("pagerduty/events_v2_trigger_docs_example.json")
    body["routing_key"] = "0" * 32
    response = enqueue(client, body)
    assert response.status_code == 404
    assert response.json()["status"] == "invalid event"
    assert not Alert.objects.exists() and not Incident.objects.exists()


# --- refusals ----------------------------------------------------------------


def test_unknown_or_disabled_token_is_404_and_writes_nothing(client, integration):
    integration_row, token = integration("alertmanager")
    payload = sample("alertmanager/webhook_v4_firing.json")
    assert post(client, "f" * 32, "alertmanager", payload).status_code == 404
    integration_row.enabled = False
    integration_row.save()
    assert post(client, token, "alertmanager", payload).status_code == 404
    assert not Alert.objects.exists()


def test_unknown_kind_is_404(client, integration):
    _, token = integration("alertmanager")
    assert post(client, token, "nagios", {"x": 1}).status_code == 404


def test_malformed_json_is_400_and_writes_nothing(client, integration):
    _, token = integration("alertmanager")
    response = post(client, token, "alertmanager", b'{"alerts": [')
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert not Alert.objects.exists()


def test_payload_missing_required_fields_is_400_naming_the_field(client, integration):
    _, token = integration("generic")
    response = post(client, token, "generic", {"status": "firing"})
    assert response.status_code == 400
    assert "title" in response.json()["detail"]
    assert not Alert.objects.exists() and not Incident.objects.exists()


def test_body_over_one_mebibyte_is_413(client, integration):
    _, token = integration("generic")
    big = json.dumps({"title": "x", "description": "y" * (1024 * 1024)})
    response = post(client, token, "generic", big.encode())
    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_ingestion_is_rate_limited_per_integration(client, integration):
    cache.clear()
    _, token = integration("generic", rate_limit_per_minute=2)
    _, other = integration("generic")
    for i in range(2):
        assert post(client, token, "generic", {"title": f"t{i}"}).status_code == 202
    limited = post(client, token, "generic", {"title": "t3"})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert Alert.objects.count() == 2
    assert post(client, other, "generic", {"title": "other"}).status_code == 202
