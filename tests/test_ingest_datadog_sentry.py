"""Datadog and Sentry payloads parsed (incidents/ingest/datadog.py, sentry.py):
real samples replayed field by field, refusals naming the field. No database."""

from __future__ import annotations

import copy

import pytest

from incidents.ingest import parse
from incidents.ingest.datadog import parse_datadog
from incidents.ingest.sentry import parse_sentry
from tests.ingest_support import sample
from tests.parser_support import refusal, utc

# --- Datadog ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "datadog/webhook_default_payload_template.json",
        "datadog/webhook_recommended_custom_payload_template.json",
    ],
)
def test_datadog_unrendered_templates_are_accepted_with_variables_as_empty(name):
    payload = sample(name)
    (only,) = parse_datadog(payload)
    assert only.status == "firing"
    assert only.title == "Datadog alert"  # "$EVENT_TITLE" is no title
    assert only.description == "" and only.labels == {} and only.annotations == {}
    assert only.values == {} and only.url == "" and only.source_severity == ""
    assert only.starts_at is None and only.ends_at is None
    assert len(only.fingerprint) == 16
    assert only.raw == payload
    again = parse_datadog(copy.deepcopy(payload))[0]
    assert again.fingerprint == only.fingerprint
    # no $ID and no $DATE: nothing tells a retry from a new notification, so each counts
    assert again.occurrence_key != only.occurrence_key


DD_DEFAULT_RENDERED = {  # Datadog's default template as delivered (test notification)
    "body": "%%%\n@webhook-relay-test\n\nTest notification triggered by someone.\n\n- - -\n\n"
    "[[Monitor Status](https://app.datadoghq.com/monitors#18692904?)] · "
    "[[Edit Monitor](https://app.datadoghq.com/monitors#18692904/edit)]\n%%%",
    "last_updated": "1591216985000",
    "event_type": "service_check",
    "title": "[P2] [Triggered] [TEST] Host Cluster Alert",
    "date": "1591216985000",
    "org": {"id": "415600", "name": "Puppet"},
    "id": "5485379890863845239",
}


def test_datadog_default_template_rendered():
    (only,) = parse_datadog(DD_DEFAULT_RENDERED)
    assert only.fingerprint == "18692904"  # the monitor id, from the body's link
    assert only.status == "firing"  # from the title's [Triggered]
    assert only.title == "[TEST] Host Cluster Alert"
    assert only.description.startswith("@webhook-relay-test\n\nTest notification")
    assert "%%%" not in only.description
    assert only.source_severity == "p2"  # the title's [P2]
    assert only.labels == {"event_type": "service_check", "org": "Puppet"}
    assert only.annotations == {"event_title": "[P2] [Triggered] [TEST] Host Cluster Alert"}
    assert only.starts_at == utc(2020, 6, 3, 20, 43, 5)  # "$DATE": epoch ms as a string
    assert only.values == {}


DD_CUSTOM_TRIGGERED = {
    "body": "%%%\nerror rate above threshold\n%%%",
    "last_updated": "1732755600000",
    "event_type": "query_alert_monitor",
    "title": "[Triggered on {service:checkout}] Checkout error rate",
    "date": "1732755600000",
    "org": {"id": "1234", "name": "TreeBeard"},
    "id": "7345129873412",
    "alert_id": "98765",
    "alert_cycle_key": "$ALERT_CYCLE_KEY",
    "aggreg_key": "",
    "alert_transition": "Triggered",
    "alert_type": "error",
    "alert_priority": "P1",
    "alert_title": "Checkout error rate",
    "alert_status": "checkout.errors over service:checkout was > 0.05 on average",
    "alert_scope": "service:checkout",
    "alert_metric": "checkout.errors",
    "alert_query": "avg(last_5m):avg:checkout.errors{*} by {service} > 0.05",
    "hostname": "",
    "link": "https://app.datadoghq.com/event/event?id=7345129873412",
    "priority": "normal",
    "tags": "service:checkout,env:prod,team:payments",
    "text_only_msg": "error rate above threshold",
}


def test_datadog_custom_template_trigger_and_recovery():
    fired = parse_datadog(DD_CUSTOM_TRIGGERED)[0]
    assert fired.fingerprint == "98765/service:checkout"  # $ALERT_ID / $ALERT_SCOPE
    assert fired.status == "firing"
    assert fired.title == "Checkout error rate"
    assert fired.description == "error rate above threshold"
    assert fired.source_severity == "p1"
    assert fired.service == "checkout"
    assert fired.labels == {
        "service": "checkout",
        "env": "prod",
        "team": "payments",
        "scope": "service:checkout",
        "event_type": "query_alert_monitor",
        "metric": "checkout.errors",
        "org": "TreeBeard",
        "priority": "normal",
    }
    assert fired.annotations["transition"] == "Triggered"
    assert fired.annotations["alert_query"] == DD_CUSTOM_TRIGGERED["alert_query"]
    assert "cycle_key" not in fired.annotations  # "$ALERT_CYCLE_KEY" was not substituted
    assert fired.starts_at == utc(2024, 11, 28, 1, 0) and fired.ends_at is None
    assert fired.url == "https://app.datadoghq.com/event/event?id=7345129873412"

    recovered = parse_datadog(
        dict(
            DD_CUSTOM_TRIGGERED,
            alert_transition="Recovered",
            alert_type="success",
            id="7345129873999",
            date="1732756200000",
            title="[Recovered on {service:checkout}] Checkout error rate",
        )
    )[0]
    assert recovered.fingerprint == fired.fingerprint
    assert recovered.status == "resolved"
    assert recovered.title == "Checkout error rate"
    assert recovered.ends_at == utc(2024, 11, 28, 1, 10) and recovered.starts_at is None
    assert recovered.occurrence_key != fired.occurrence_key
    assert (
        parse_datadog(copy.deepcopy(DD_CUSTOM_TRIGGERED))[0].occurrence_key == fired.occurrence_key
    )


def test_datadog_aggregation_key_is_the_fingerprint_when_sent():
    payload = dict(DD_CUSTOM_TRIGGERED, aggreg_key="f1d2d2f924e986ac")
    assert parse_datadog(payload)[0].fingerprint == "f1d2d2f924e986ac"


@pytest.mark.parametrize(
    "transition, status",
    [
        ("Triggered", "firing"),
        ("Re-Triggered", "firing"),
        ("Warn", "firing"),
        ("Re-Warn", "firing"),
        ("No Data", "firing"),
        ("Re-No Data", "firing"),
        ("Renotify", "firing"),
        ("Recovered", "resolved"),
    ],
)
def test_datadog_transitions(transition, status):
    assert parse_datadog(dict(DD_CUSTOM_TRIGGERED, alert_transition=transition))[0].status == status
    bare = {"title": f"[{transition} on {{host:web-1}}] CPU high", "id": "1"}
    only = parse_datadog(bare)[0]
    assert only.status == status
    assert only.title == "CPU high"
    assert only.labels == {"scope": "host:web-1"}


@pytest.mark.parametrize(
    "alert_type, status, severity",
    [("error", "firing", "error"), ("warning", "firing", "warning"), ("success", "resolved", "")],
)
def test_datadog_alert_type_without_transition(alert_type, status, severity):
    (only,) = parse_datadog({"title": "Disk usage", "alert_type": alert_type, "id": "9"})
    assert (only.status, only.source_severity) == (status, severity)


# --- Sentry --------------------------------------------------------------------------


def test_sentry_issue_alert_triggered():
    payload = sample("sentry/issue_alert_event_alert_triggered_docs.json")
    (only,) = parse_sentry(payload, resource="event_alert")
    assert only.fingerprint == "1117540176"  # the issue id
    assert only.status == "firing"
    assert only.title == "ReferenceError: heck is not defined"
    assert only.description == (
        "Sentry alert rule “Very Important Alert Rule!” triggered.\nCulprit: ?(<anonymous>)"
    )
    assert only.source_severity == "error"
    assert only.service == "front-end"  # from the event's API url
    assert only.labels["browser"] == "Chrome 75.0.3770"  # tags: a list of [key, value]
    assert only.labels["handled"] == "no"
    assert only.labels["project"] == "front-end"
    assert only.annotations == {
        "triggered_rule": "Very Important Alert Rule!",
        "culprit": "?(<anonymous>)",
    }
    assert only.starts_at == utc(2019, 8, 19, 21, 6, 17, 677000)
    assert only.url == (
        "https://sentry.io/organizations/test-org/issues/1117540176/events/"
        "e4874d664c3540c1a32eab185f12c5ab/"
    )
    assert only.raw == payload
    # the header is only a hint: the body alone gives the same alert
    assert parse_sentry(payload) == [only]


def test_sentry_issue_created_and_its_lifecycle():
    payload = sample("sentry/issue_created_docs.json")
    (created,) = parse("sentry", payload, headers={"Sentry-Hook-Resource": "issue"})
    assert created.fingerprint == "1170820242"
    assert created.status == "firing"
    assert created.title == "ReferenceError: blooopy is not defined"
    assert created.description == "Culprit: ?(runner)"
    assert created.source_severity == "error"
    assert created.service == "front-end"
    assert created.labels == {
        "project": "front-end",
        "level": "error",
        "platform": "javascript",
        "short_id": "FRONT-END-9",
        "status": "unresolved",
        "substatus": "escalating",
    }
    assert created.values == {"count": 1.0, "userCount": 1.0}  # "count": "1" is a string
    assert created.starts_at == utc(2019, 8, 19, 20, 58, 37, 391000)
    assert created.url == ""  # "permalink": null

    resolved = copy.deepcopy(payload)
    resolved["action"] = "resolved"
    resolved["data"]["issue"]["status"] = "resolved"
    assigned = copy.deepcopy(payload)
    assigned["action"] = "assigned"
    assigned["data"]["issue"]["assignedTo"] = {"type": "user", "id": "7", "name": "Bob"}
    archived = copy.deepcopy(payload)
    archived["action"] = "archived"
    archived["data"]["issue"]["status"] = "ignored"
    results = [parse_sentry(p)[0] for p in (resolved, assigned, archived)]
    assert [r.status for r in results] == ["resolved", "acknowledged", "resolved"]
    assert {r.fingerprint for r in results} == {"1170820242"}
    assert results[1].annotations["assigned_to"] == "Bob"
    assert len({created.occurrence_key, *(r.occurrence_key for r in results)}) == 4


def test_sentry_installation_webhook_is_no_alert():
    assert parse_sentry(sample("sentry/installation_created_docs.json")) == []
    assert (
        parse(
            "sentry",
            sample("sentry/installation_created_docs.json"),
            headers={"sentry-hook-resource": "installation"},
        )
        == []
    )


SENTRY_METRIC_RESOLVED = {  # getsentry/sentry-docs metric-alerts.mdx example
    "action": "resolved",
    "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
    "data": {
        "description_text": "1000 events in the last 10 minutes\\nFilter: level:error",
        "description_title": "Resolved: Too many errors",
        "metric_alert": {
            "alert_rule": {
                "aggregate": "count()",
                "dataset": "events",
                "id": "7",
                "name": "Too many errors",
                "projects": ["bar"],
                "query": "level:error",
                "time_window": 10,
                "triggers": [],
            },
            "date_closed": None,
            "date_created": "2020-09-13T12:26:40.000000Z",
            "date_detected": "2020-09-13T12:26:40.000000Z",
            "date_started": "2020-09-13T12:26:40.000000Z",
            "id": "4",
            "identifier": "1",
            "projects": ["bar"],
            "status": 2,
            "title": "Sacred Marmot",
            "type": 2,
        },
        "web_url": "https://sentry.io/organizations/baz/alerts/1/",
    },
    "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},
}


def test_sentry_metric_alert_critical_then_resolved():
    (resolved,) = parse_sentry(SENTRY_METRIC_RESOLVED)
    assert resolved.fingerprint == "metric_alert:4"
    assert resolved.status == "resolved"
    assert resolved.title == "Too many errors"
    assert resolved.description == "1000 events in the last 10 minutes\nFilter: level:error"
    assert resolved.service == "bar"
    assert resolved.labels == {
        "alert_rule": "Too many errors",
        "aggregate": "count()",
        "dataset": "events",
        "query": "level:error",
        "projects": "bar",
    }
    assert resolved.starts_at == utc(2020, 9, 13, 12, 26, 40)
    assert resolved.url == "https://sentry.io/organizations/baz/alerts/1/"

    critical = copy.deepcopy(SENTRY_METRIC_RESOLVED)
    critical["action"] = "critical"
    critical["data"]["description_title"] = "Critical: Too many errors"
    critical["data"]["metric_value"] = 1000
    (fired,) = parse_sentry(critical)
    assert (fired.status, fired.source_severity) == ("firing", "critical")
    assert fired.fingerprint == resolved.fingerprint
    assert fired.values == {"count()": 1000.0}
    assert fired.occurrence_key != resolved.occurrence_key
    warning = dict(critical, action="warning")
    assert parse_sentry(warning)[0].source_severity == "warning"


def test_sentry_legacy_webhooks_plugin():
    legacy = {
        "id": "27379932",
        "project": "project-slug",
        "project_name": "Project Name",
        "culprit": "raven.scripts.runner in main",
        "level": "error",
        "message": "This is an example Python exception",
        "url": "https://sentry.io/acme/project-slug/issues/27379932/?referrer=webhooks_plugin",
        "triggering_rules": ["Send to webhooks"],
        "event": {"event_id": "ab2aa1b1", "title": "This is an example Python exception"},
    }
    (only,) = parse_sentry(legacy)
    assert (only.fingerprint, only.status, only.source_severity) == ("27379932", "firing", "error")
    assert only.title == "This is an example Python exception"
    assert only.service == "project-slug"
    assert only.annotations == {"triggering_rules": "Send to webhooks"}


def test_sentry_refusals_name_the_field():
    assert refusal(parse_sentry, {"action": "created"})[0] == "data"
    assert refusal(parse_sentry, {"action": "created", "data": {}}, resource="issue") == (
        "data.issue",
        "data.issue must be an object",
    )
    assert parse_sentry({"action": "created", "data": {"comment": "hi"}}) == []
