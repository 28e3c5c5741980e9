"""The pure alert-parsing layer (incidents/ingest/): every real sample payload
replayed field by field, the refusals naming the field, PagerDuty's event
validation, and the guide's severity criteria one rule at a time.

No database: these tests never touch a model.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from incidents.ingest import KINDS, parse
from incidents.ingest.alertmanager import parse_alertmanager
from incidents.ingest.datadog import parse_datadog
from incidents.ingest.generic import parse_generic
from incidents.ingest.grafana import parse_grafana
from incidents.ingest.pagerduty import PagerDutyEventError, parse_event
from incidents.ingest.sentry import parse_sentry
from incidents.ingest.severity import DEFAULT_SEVERITY, NO_SIGNAL_REASON, suggest_severity
from incidents.ingest.types import ParsedAlert, PayloadError, parse_timestamp

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "payloads"


def sample(name: str):
    return json.loads((SAMPLES / name).read_text())


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def alert(**fields) -> ParsedAlert:
    fields.setdefault("fingerprint", "fp")
    fields.setdefault("status", "firing")
    fields.setdefault("title", "Something happened")
    return ParsedAlert(**fields)


AM_URL = (
    "http://prometheus.example.com:9090/graph?g0.expr=job%3Acheckout_5xx%3Aratio5m"
    "+%3E+0.05&g0.tab=1"
)
AM_TITLE = "HighErrorRate: High 5xx error rate on checkout"


def am_labels(instance: str) -> dict:
    return {
        "alertname": "HighErrorRate",
        "instance": instance,
        "job": "checkout",
        "service": "checkout",
        "severity": "critical",
    }


def am_annotations(rate: str) -> dict:
    return {
        "description": f"5xx rate is {rate} over the last 5 minutes",
        "runbook_url": "https://runbooks.example.com/HighErrorRate",
        "summary": "High 5xx error rate on checkout",
    }


# --- Alertmanager ------------------------------------------------------------------


def test_alertmanager_firing_sample_gives_one_alert_per_fingerprint():
    payload = sample("alertmanager/webhook_v4_firing.json")
    first, second = parse_alertmanager(payload)

    assert first == ParsedAlert(
        fingerprint="1c5d859e845f39a3",
        status="firing",
        title=AM_TITLE,
        description="5xx rate is 12% over the last 5 minutes",
        source_severity="critical",
        service="checkout",
        labels=am_labels("checkout-1:8080"),
        annotations=am_annotations("12%"),
        values={},
        starts_at=utc(2026, 11, 28, 0, 59, 31),
        ends_at=None,  # Go zero time "0001-01-01T00:00:00Z"
        url=AM_URL,
        occurrence_key=first.occurrence_key,
        raw=payload["alerts"][0],
    )
    assert second.fingerprint == "2f27ba89bcf30e12"
    assert second.status == "firing"
    assert second.labels["instance"] == "checkout-2:8080"
    assert second.description == "5xx rate is 9% over the last 5 minutes"
    assert second.ends_at is None
    assert len(first.occurrence_key) == 64
    assert first.occurrence_key != second.occurrence_key


def test_alertmanager_raw_wire_bytes_parse_like_the_pretty_sample():
    """Go escapes & as \\u0026 and ends the body with a newline."""
    raw = (SAMPLES / "alertmanager/webhook_v4_firing.raw.json").read_bytes()
    assert b"\\u0026" in raw and raw.endswith(b"\n")
    from_bytes = parse("alertmanager", raw)
    assert from_bytes == parse("alertmanager", sample("alertmanager/webhook_v4_firing.json"))
    assert from_bytes[0].url == AM_URL
    resolved = parse("alertmanager", sample("alertmanager/webhook_v4_resolved.raw.json"))
    assert resolved == parse("alertmanager", sample("alertmanager/webhook_v4_resolved.json"))


def test_alertmanager_partially_resolved_group_is_parsed_per_alert():
    payload = sample("alertmanager/webhook_v4_firing_partially_resolved.json")
    assert payload["status"] == "firing"
    cleared, still_firing = parse_alertmanager(payload)
    assert (cleared.fingerprint, cleared.status) == ("1c5d859e845f39a3", "resolved")
    assert cleared.starts_at == utc(2026, 11, 28, 0, 59, 31)
    assert cleared.ends_at == utc(2026, 11, 28, 0, 59, 41)
    assert (still_firing.fingerprint, still_firing.status) == ("2f27ba89bcf30e12", "firing")
    assert still_firing.ends_at is None

    firing = parse_alertmanager(sample("alertmanager/webhook_v4_firing.json"))
    # The still-firing alert is the same occurrence as in the first notification
    # (a replay of it); the cleared one is a new occurrence: its resolution.
    assert still_firing.occurrence_key == firing[1].occurrence_key
    assert cleared.occurrence_key != firing[0].occurrence_key


def test_alertmanager_resolved_sample():
    alerts = parse_alertmanager(sample("alertmanager/webhook_v4_resolved.json"))
    assert [(a.fingerprint, a.status) for a in alerts] == [
        ("1c5d859e845f39a3", "resolved"),
        ("2f27ba89bcf30e12", "resolved"),
    ]
    assert [a.ends_at for a in alerts] == [utc(2026, 11, 28, 0, 59, 41)] * 2
    partial = parse_alertmanager(sample("alertmanager/webhook_v4_firing_partially_resolved.json"))
    # checkout-1's resolution was already announced in the partial group: same occurrence.
    assert alerts[0].occurrence_key == partial[0].occurrence_key
    assert alerts[1].occurrence_key != partial[1].occurrence_key


def test_alertmanager_occurrence_key_is_stable_across_replays_and_new_per_start():
    payload = sample("alertmanager/webhook_v4_firing.json")
    keys = [a.occurrence_key for a in parse_alertmanager(payload)]
    assert keys == [a.occurrence_key for a in parse_alertmanager(copy.deepcopy(payload))]
    later = copy.deepcopy(payload)
    for item in later["alerts"]:
        item["startsAt"] = "2026-11-28T01:10:00Z"
    again = parse_alertmanager(later)
    assert [a.fingerprint for a in again] == ["1c5d859e845f39a3", "2f27ba89bcf30e12"]
    assert not set(keys) & {a.occurrence_key for a in again}


def test_alertmanager_nanosecond_start_time_parses():
    payload = sample("alertmanager/webhook_v4_firing.json")
    payload["alerts"][0]["startsAt"] = "2026-11-28T01:04:00.081164095Z"
    assert parse_alertmanager(payload)[0].starts_at == utc(2026, 11, 28, 1, 4, 0, 81164)


def test_alertmanager_api_v2_bodies_are_accepted_with_derived_fingerprints(time_machine):
    time_machine.move_to(utc(2026, 11, 28, 1, 0, 0), tick=False)
    firing = parse_alertmanager(sample("alertmanager/api_v2_post_alerts_firing.json"))
    resolve = parse_alertmanager(sample("alertmanager/api_v2_post_alerts_resolve.json"))
    assert [a.status for a in firing] == ["firing", "firing"]
    assert [a.status for a in resolve] == ["resolved", "resolved"]  # endsAt 00:59:41 passed
    assert [a.fingerprint for a in firing] == [a.fingerprint for a in resolve]
    assert all(len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0 for a in firing)
    assert firing[0].fingerprint != firing[1].fingerprint
    assert firing[0].title == AM_TITLE
    assert firing[0].starts_at == utc(2026, 11, 28, 0, 59, 31)
    assert resolve[0].ends_at == utc(2026, 11, 28, 0, 59, 41)

    time_machine.move_to(utc(2026, 11, 28, 0, 59, 35), tick=False)
    early = parse_alertmanager(sample("alertmanager/api_v2_post_alerts_resolve.json"))
    assert [a.status for a in early] == ["firing", "firing"]  # endsAt still ahead


def test_alertmanager_api_v2_get_response_shape():
    (only,) = parse_alertmanager(sample("alertmanager/api_v2_get_alerts_response.json"))
    assert only.fingerprint == "70cdc2d46ed44804"
    assert only.status == "firing"  # status {"state": "active"}
    assert only.title == "MinimalAlert"
    assert only.service == "api"
    assert only.annotations == {}
    assert only.starts_at == utc(2026, 11, 28, 1, 4, 0, 81000)


def test_alertmanager_derived_fingerprint_ignores_label_order_and_time():
    payload = sample("alertmanager/webhook_v4_firing.json")
    for item in payload["alerts"]:
        del item["fingerprint"]
    one = parse_alertmanager(payload)[0]
    shuffled = copy.deepcopy(payload)
    shuffled["alerts"][0]["labels"] = dict(reversed(list(payload["alerts"][0]["labels"].items())))
    shuffled["alerts"][0]["startsAt"] = "2026-11-29T00:00:00Z"
    other = parse_alertmanager(shuffled)[0]
    assert one.fingerprint == other.fingerprint
    assert len(one.fingerprint) == 16
    assert one.occurrence_key != other.occurrence_key


def test_alertmanager_title_falls_back_without_summary_or_alertname():
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull"},
                "annotations": {},
                "fingerprint": "aaaaaaaaaaaaaaaa",
                "startsAt": "2026-11-28T00:00:00Z",
            },
            {
                "status": "firing",
                "labels": {"team": "db"},
                "annotations": None,
                "fingerprint": "bbbbbbbbbbbbbbbb",
            },
        ],
    }
    named, anonymous = parse_alertmanager(payload)
    assert named.title == "DiskFull"
    assert anonymous.title == "Alert bbbbbbbbbbbbbbbb"
    assert anonymous.annotations == {} and anonymous.starts_at is None
    assert anonymous.url == ""


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"version": "4"}, "alerts", "alerts is required (the list of alerts)"),
        ({"alerts": {"a": 1}}, "alerts", "alerts must be a list"),
        ({"alerts": [{"labels": {}}, "x"]}, "alerts[1]", "alerts[1] must be an object"),
        (
            {"alerts": [{"labels": {}}, {}, {"labels": ["a"]}]},
            "alerts[2].labels",
            "alerts[2].labels must be an object",
        ),
        (
            {"alerts": [{"labels": {}, "annotations": "x"}]},
            "alerts[0].annotations",
            "alerts[0].annotations must be an object",
        ),
        (
            {"alerts": [{"labels": {}, "status": "exploding"}]},
            "alerts[0].status",
            "alerts[0].status must be 'firing' or 'resolved', not 'exploding'",
        ),
    ],
)
def test_alertmanager_invalid_payloads_name_the_field(body, field, message):
    with pytest.raises(PayloadError) as caught:
        parse_alertmanager(body)
    assert caught.value.field == field
    assert caught.value.message == message
    assert str(caught.value) == message


@pytest.mark.parametrize("body", ["just text", 42, None, True])
def test_a_body_that_is_not_a_json_object_is_refused(body):
    for kind in KINDS:
        with pytest.raises(PayloadError, match="must be a JSON object"):
            parse(kind, body)


def test_invalid_json_bytes_are_refused():
    with pytest.raises(PayloadError, match="not valid JSON"):
        parse("alertmanager", b'{"alerts": [')


# --- Grafana -----------------------------------------------------------------------


def test_grafana_docs_example_with_offsets_and_values():
    payload = sample("grafana/webhook_docs_example_firing.json")
    memory, cpu = parse_grafana(payload)
    assert memory == ParsedAlert(
        fingerprint="c6eadffa33fcdf37",
        status="firing",
        title="High memory usage: This alert was triggered for zone us-1",
        description="The system has high memory usage",
        source_severity="",
        service="",
        labels={"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
        annotations={
            "description": "The system has high memory usage",
            "runbook_url": "https://myrunbook.com/runbook/1234",
            "summary": "This alert was triggered for zone us-1",
        },
        values={"B": 44.23943737541908, "C": 1.0},
        # "2021-10-12T09:51:03.157076+02:00"
        starts_at=utc(2021, 10, 12, 7, 51, 3, 157076),
        ends_at=None,
        url="https://play.grafana.org/alerting/1afz29v7z/edit",  # dashboardURL is ""
        occurrence_key=memory.occurrence_key,
        raw=payload["alerts"][0],
    )
    assert cpu.fingerprint == "bc97ff14869b13e3"
    assert cpu.title == "High CPU usage: This alert was triggered for zone eu-1"
    assert cpu.starts_at == utc(2021, 10, 12, 7, 56, 3, 157076)
    assert cpu.values == {"B": 44.23943737541908, "C": 1.0}


def test_grafana_source_fixture_with_zero_start_and_null_values():
    payload = sample("grafana/webhook_source_test_fixture_firing.json")
    (only,) = parse_grafana(payload)
    assert only.fingerprint == "fac0861a85de433a"
    assert only.status == "firing"
    assert only.title == "alert1"
    assert only.description == "Custom message"  # the group's message: one alert, no description
    assert only.labels == {"alertname": "alert1", "lbl1": "val1"}
    assert only.annotations == {"ann1": "annv1"}
    assert only.values == {}  # "values": null, "valueString": ""
    assert only.starts_at is None and only.ends_at is None  # both Go zero time
    assert only.url == "http://localhost/d/abcd?orgId=1"  # dashboardURL first
    assert parse_grafana(copy.deepcopy(payload))[0].occurrence_key == only.occurrence_key


GRAFANA9_RESOLVED = {  # shape of a real Grafana 9 notification: no "values" key at all
    "receiver": "Webhook test",
    "status": "resolved",
    "orgId": 1,
    "version": "1",
    "state": "ok",
    "title": "[RESOLVED]  (Test alert true)",
    "message": "**Resolved**",
    "groupKey": '{}/{test="true"}:{}',
    "truncatedAlerts": 0,
    "groupLabels": {},
    "alerts": [
        {
            "status": "resolved",
            "labels": {"alertname": "Test alert", "test": "true"},
            "annotations": {
                "description": "This is a description",
                "summary": "This is a summary field, failure on <no value>",
            },
            "startsAt": "2022-06-17T00:41:00.782137894Z",
            "endsAt": "2022-06-17T00:51:24.067337833Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view",
            "fingerprint": "d8a21484c9c25a60",
            "silenceURL": "https://grafana.example.com/alerting/silence/new",
            "dashboardURL": "",
            "panelURL": "",
            "valueString": "[ var='B0' metric='Value' labels={__name__=rabbitmq_queues, "
            "instance=otherhost.example.com} value=24 ]",
        }
    ],
}


def test_grafana_9_resolved_reads_values_from_value_string_and_nanoseconds():
    (only,) = parse_grafana(GRAFANA9_RESOLVED)
    assert only.status == "resolved"
    assert only.fingerprint == "d8a21484c9c25a60"
    assert only.title == "Test alert: This is a summary field, failure on <no value>"
    assert only.values == {"B0": 24.0}
    assert only.starts_at == utc(2022, 6, 17, 0, 41, 0, 782137)
    assert only.ends_at == utc(2022, 6, 17, 0, 51, 24, 67337)
    assert only.url == "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view"


def test_grafana_11_values_and_multi_value_string():
    payload = copy.deepcopy(GRAFANA9_RESOLVED)
    item = payload["alerts"][0]
    item.update(
        status="firing",
        values={"A": 2473545728, "B": 0, "C": 1, "minute": 9},
        endsAt="0001-01-01T00:00:00Z",
        dashboardURL="https://play.grafana.org/d/ece9fb32?orgId=1",
    )
    (only,) = parse_grafana(payload)
    assert only.values == {"A": 2473545728.0, "B": 0.0, "C": 1.0, "minute": 9.0}
    assert only.url == "https://play.grafana.org/d/ece9fb32?orgId=1"
    assert only.ends_at is None
    del item["values"]
    item["valueString"] = (
        "[ var='A' labels={instance=node_exporter:9100} value=2.473545728e+09 ]"
        ", [ var='C' labels={} value=1 ]"
    )
    assert parse_grafana(payload)[0].values == {"A": 2473545728.0, "C": 1.0}


def test_grafana_legacy_alerting_payload():
    legacy = {
        "dashboardId": 1,
        "evalMatches": [
            {"value": 100, "metric": "High value", "tags": None},
            {"value": 200, "metric": "Higher Value", "tags": None},
        ],
        "message": "Someone is testing the alert notification within grafana.",
        "orgId": 0,
        "panelId": 1,
        "ruleId": 0,
        "ruleName": "Test rule",
        "ruleUrl": "http://localhost:3000/",
        "state": "alerting",
        "tags": {},
        "title": "[Alerting] Test notification",
    }
    (firing,) = parse_grafana(legacy)
    assert firing.status == "firing"
    assert firing.title == "Test rule"
    assert firing.description == "Someone is testing the alert notification within grafana."
    assert firing.values == {"High value": 100.0, "Higher Value": 200.0}
    assert firing.url == "http://localhost:3000/"
    (ok,) = parse_grafana(dict(legacy, state="ok", evalMatches=[]))
    assert ok.status == "resolved"
    assert ok.fingerprint == firing.fingerprint
    assert ok.occurrence_key != firing.occurrence_key


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
    with pytest.raises(PayloadError) as caught:
        parse_sentry({"action": "created"})
    assert caught.value.field == "data"
    with pytest.raises(PayloadError) as caught:
        parse_sentry({"action": "created", "data": {}}, resource="issue")
    assert (caught.value.field, caught.value.message) == (
        "data.issue",
        "data.issue must be an object",
    )
    assert parse_sentry({"action": "created", "data": {"comment": "hi"}}) == []


# --- generic JSON ------------------------------------------------------------------


GENERIC_FULL = {
    "title": "Checkout 5xx above 5%",
    "status": "firing",
    "dedup_key": "checkout-5xx",
    "severity": "Critical",
    "service": "checkout",
    "description": "Longer text.",
    "labels": {"env": "prod", "replicas": 3, "canary": False},
    "values": {"error_rate": 0.072, "p95_latency_ms": 3400, "ratio_text": "7.2%"},
    "url": "https://grafana.example.com/d/abc",
    "timestamp": "2026-11-28T02:59:31+02:00",
}


def test_generic_full_alert():
    (only,) = parse_generic(GENERIC_FULL)
    assert only == ParsedAlert(
        fingerprint="checkout-5xx",
        status="firing",
        title="Checkout 5xx above 5%",
        description="Longer text.",
        source_severity="critical",
        service="checkout",
        labels={"env": "prod", "replicas": "3", "canary": "false"},
        annotations={"ratio_text": "7.2%"},  # a value with a unit is kept as text
        values={"error_rate": 0.072, "p95_latency_ms": 3400.0},
        starts_at=utc(2026, 11, 28, 0, 59, 31),
        ends_at=None,
        url="https://grafana.example.com/d/abc",
        occurrence_key=only.occurrence_key,
        raw=GENERIC_FULL,
    )
    resolved = parse_generic(
        dict(GENERIC_FULL, status="resolved", timestamp="2026-11-28T01:30:00Z")
    )[0]
    assert resolved.fingerprint == "checkout-5xx"
    assert (resolved.starts_at, resolved.ends_at) == (None, utc(2026, 11, 28, 1, 30))
    assert resolved.occurrence_key != only.occurrence_key
    assert parse_generic(copy.deepcopy(GENERIC_FULL))[0].occurrence_key == only.occurrence_key


def test_generic_minimal_alert_and_derived_fingerprint():
    (only,) = parse_generic({"title": "Disk almost full"})
    assert only.status == "firing"
    assert len(only.fingerprint) == 16
    assert only.starts_at is None and only.values == {} and only.labels == {}
    # the key comes from identity (title, service, labels), not from changing text
    again = parse_generic({"title": "Disk almost full", "description": "92% used"})[0]
    assert again.fingerprint == only.fingerprint
    assert again.occurrence_key != only.occurrence_key
    # without a timestamp every POST counts (a retry joins the open incident)
    assert parse_generic({"title": "Disk almost full"})[0].occurrence_key != only.occurrence_key
    other = parse_generic({"title": "Disk almost full", "service": "db"})[0]
    assert other.fingerprint != only.fingerprint
    assert parse_generic({"title": "x", "fingerprint": 1234})[0].fingerprint == "1234"


def test_generic_batch_and_aliases():
    alerts = parse_generic(
        {
            "alerts": [
                {"title": "A", "status": "resolved", "dedup_key": "a"},
                {"title": "B", "status": "ACK", "fingerprint": "b"},
                {"title": "C", "status": "triggered", "message": "via alias"},
            ]
        }
    )
    assert [(a.fingerprint, a.status) for a in alerts] == [
        ("a", "resolved"),
        ("b", "acknowledged"),
        (alerts[2].fingerprint, "firing"),
    ]
    assert alerts[2].description == "via alias"
    assert parse_generic([{"title": "bare array"}])[0].title == "bare array"
    assert parse_generic({"alerts": []}) == []


def test_generic_title_is_one_line_of_at_most_200_characters():
    (only,) = parse_generic({"title": "Line one\n  line two " + "x" * 300})
    assert len(only.title) == 200
    assert only.title.startswith("Line one line two xxx")
    assert only.title.endswith("…")


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"status": "firing"}, "title", "title is required"),
        ({"title": "   "}, "title", "title must not be blank"),
        ({"title": 5}, "title", "title must be a string"),
        (
            {"title": "x", "status": "exploded"},
            "status",
            "status must be one of firing, resolved, acknowledged (not 'exploded')",
        ),
        ({"title": "x", "labels": ["a"]}, "labels", "labels must be an object"),
        (
            {"title": "x", "labels": {"a": {"b": 1}}},
            "labels.a",
            "labels.a must be a string, number or boolean",
        ),
        ({"title": "x", "values": [1]}, "values", "values must be an object"),
        ({"title": "x", "values": {"rate": None}}, "values.rate", "values.rate must be a number"),
        (
            {"title": "x", "timestamp": "yesterday"},
            "timestamp",
            "timestamp must be an ISO 8601 date-time, like 2026-11-28T00:59:31Z",
        ),
        ({"title": "x", "dedup_key": ["a"]}, "dedup_key", "dedup_key must be a string"),
        ({"alerts": {"title": "x"}}, "alerts", "alerts must be a list of alert objects"),
        ({"alerts": [{"title": "a"}, "b"]}, "alerts[1]", "alerts[1] must be an object"),
        (
            {"alerts": [{"title": "a"}, {"title": "b"}, {"title": "c", "labels": "x"}]},
            "alerts[2].labels",
            "alerts[2].labels must be an object",
        ),
        (
            {"alerts": [{"title": "a"}, {"severity": "critical"}]},
            "alerts[1].title",
            "alerts[1].title is required",
        ),
    ],
)
def test_generic_refusals_name_the_field(body, field, message):
    with pytest.raises(PayloadError) as caught:
        parse_generic(body)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_generic_format_is_documented_on_parse_generic():
    doc = parse_generic.__doc__
    for name in (
        "title",
        "status",
        "dedup_key",
        "fingerprint",
        "severity",
        "service",
        "description",
        "labels",
        "values",
        "url",
        "timestamp",
        '"alerts"',
    ):
        assert name in doc


# --- PagerDuty Events API v2 ---------------------------------------------------------


def test_pagerduty_trigger_docs_example():
    payload = sample("pagerduty/events_v2_trigger_docs_example.json")
    routing_key, only = parse_event(payload)
    assert routing_key == "samplekeyhere"
    assert only.fingerprint == "samplekeyhere"
    assert only.status == "firing"
    assert only.title == "Example alert on host1.example.com"
    assert only.source_severity == "info"
    assert only.service == "postgres"
    assert only.labels == {
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/"
        "api-stats-prod-003",
        "component": "postgres",
        "group": "prod-datapipe",
        "class": "deploy",
        "client": "Sample Monitoring Service",
    }
    assert only.annotations == {"ping time": "1500ms", "load avg": "0.75"}
    assert only.values == {"load avg": 0.75}
    assert only.description == "ping time: 1500ms\nload avg: 0.75"
    assert only.starts_at == utc(2015, 7, 17, 8, 42, 58, 315000)  # "+0000"
    assert only.url == "https://example.com/"
    assert "routing_key" not in only.raw  # the integration's secret stays out of storage
    assert only.raw["payload"] == payload["payload"]
    assert len(only.occurrence_key) == 64


def test_pagerduty_every_event_is_its_own_occurrence():
    """Like PagerDuty: an event has no id, and an identical trigger after a
    resolve (or the next cycle's identical resolve) is new, not a replay. The
    dedup key groups them; a repeated trigger joins the open incident."""
    trigger = sample("pagerduty/events_v2_trigger_docs_example.json")
    resolve = sample("pagerduty/events_v2_resolve_docs_example.json")
    first, again = parse_event(trigger)[1], parse_event(copy.deepcopy(trigger))[1]
    assert first.fingerprint == again.fingerprint == "samplekeyhere"
    assert first.occurrence_key != again.occurrence_key
    assert parse_event(resolve)[1].occurrence_key != parse_event(resolve)[1].occurrence_key


def test_pagerduty_trigger_openapi_example():
    routing_key, only = parse_event(sample("pagerduty/events_v2_trigger_openapi_example.json"))
    assert routing_key == "e93facc04764012d7bfb002500d5d1a6"
    assert (only.fingerprint, only.status) == ("srv01/mysql", "firing")
    assert only.title == "DISK at 99% on machine prod-datapipe03.example.com"
    assert (only.source_severity, only.service) == ("critical", "mysql")
    assert only.annotations["free space"] == "1%"
    assert only.values == {"load avg": 0.75}
    assert only.url == "http://pagerduty.example.com"


def test_pagerduty_acknowledge_and_resolve_docs_examples():
    ack_key, ack = parse_event(sample("pagerduty/events_v2_acknowledge_docs_example.json"))
    res_key, res = parse_event(sample("pagerduty/events_v2_resolve_docs_example.json"))
    assert (ack_key, res_key) == ("routingkeyhere", "routingkeyhere")
    assert (ack.fingerprint, ack.status, ack.title) == (
        "dedupkeyhere",
        "acknowledged",
        "Acknowledged: dedupkeyhere",
    )
    assert (res.fingerprint, res.status, res.title) == (
        "dedupkeyhere",
        "resolved",
        "Resolved: dedupkeyhere",
    )
    assert ack.occurrence_key != res.occurrence_key
    assert res.raw == {"dedup_key": "dedupkeyhere", "event_action": "resolve"}


def test_pagerduty_trigger_without_dedup_key_leaves_the_keys_to_the_caller():
    payload = sample("pagerduty/events_v2_trigger_docs_example.json")
    del payload["dedup_key"]
    _, only = parse_event(payload)
    assert only.fingerprint == ""
    assert only.occurrence_key == ""
    assert only.title == "Example alert on host1.example.com"


def test_pagerduty_long_dedup_key_is_hashed_to_fit_the_column():
    payload = sample("pagerduty/events_v2_resolve_docs_example.json")
    payload["dedup_key"] = "k" * 255
    first = parse_event(payload)[1].fingerprint
    assert first.startswith("sha256:") and len(first) == 71
    assert parse_event(copy.deepcopy(payload))[1].fingerprint == first


@pytest.mark.parametrize(
    "change, errors",
    [
        (lambda e: e["payload"].pop("summary"), ["'payload.summary' is missing or blank"]),
        (lambda e: e["payload"].update(summary="  "), ["'payload.summary' is missing or blank"]),
        (
            lambda e: e.update(event_action="explode"),
            ["'event_action' must be one of trigger, acknowledge, resolve"],
        ),
        (
            lambda e: e.pop("event_action"),
            ["'event_action' must be one of trigger, acknowledge, resolve"],
        ),
        (lambda e: e.pop("routing_key"), ["'routing_key' is missing or blank"]),
        (
            lambda e: e["payload"].update(severity="fatal"),
            ["'payload.severity' must be one of critical, error, warning, info"],
        ),
        (lambda e: e.pop("payload"), ["'payload' is missing (required to trigger)"]),
        (
            lambda e: e.update(payload="text"),
            ["'payload' must be an object", "'payload' is missing (required to trigger)"],
        ),
        (lambda e: e.update(dedup_key="k" * 256), ["'dedup_key' must be at most 255 characters"]),
        (lambda e: e.update(links={"href": "x"}), ["'links' must be an array"]),
        (lambda e: e.update(images=[{"alt": "x"}]), ["'images[0].src' is missing or blank"]),
        (
            lambda e: (e["payload"].pop("source"), e["payload"].pop("severity")),
            ["'payload.source' is missing or blank", "'payload.severity' is missing or blank"],
        ),
    ],
)
def test_pagerduty_invalid_trigger_lists_every_error(change, errors):
    event = sample("pagerduty/events_v2_trigger_openapi_example.json")
    change(event)
    with pytest.raises(PagerDutyEventError) as caught:
        parse_event(event)
    assert caught.value.errors == errors
    assert caught.value.message == "Event object is invalid"
    assert isinstance(caught.value, PayloadError)


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_pagerduty_acknowledge_or_resolve_needs_a_dedup_key(action):
    with pytest.raises(PagerDutyEventError) as caught:
        parse_event({"routing_key": "abc", "event_action": action})
    assert caught.value.errors == [f"'dedup_key' is missing or blank (required to {action})"]


def test_pagerduty_is_liberal_about_case_and_bad_timestamps():
    event = sample("pagerduty/events_v2_trigger_openapi_example.json")
    event.update(event_action="Trigger")
    event["payload"].update(severity="WARNING", timestamp="not a time")
    _, only = parse_event(event)
    assert (only.status, only.source_severity, only.starts_at) == ("firing", "warning", None)


@pytest.mark.parametrize("body", [[1, 2], "text", None, b"{not json"])
def test_pagerduty_body_must_be_a_json_object(body):
    with pytest.raises(PagerDutyEventError) as caught:
        parse_event(body)
    assert caught.value.errors in (["Event object must be a JSON object"], ["JSON parse error"])


# --- parse() dispatch and timestamps ----------------------------------------------------


def test_parse_dispatches_every_kind_and_refuses_unknown_ones():
    assert KINDS == ("alertmanager", "grafana", "datadog", "sentry", "generic")
    assert parse("generic", {"title": "x"})[0].title == "x"
    (pd,) = parse("pagerduty", sample("pagerduty/events_v2_resolve_docs_example.json"))
    assert pd.status == "resolved"
    with pytest.raises(ValueError, match="unknown alert kind"):
        parse("nagios", {})


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
        ("2026-11-28T01:04:00.081164095Z", utc(2026, 11, 28, 1, 4, 0, 81164)),
        ("2021-10-12T09:51:03.157076+02:00", utc(2021, 10, 12, 7, 51, 3, 157076)),
        ("2015-07-17T08:42:58.315+0000", utc(2015, 7, 17, 8, 42, 58, 315000)),
        ("2026-11-27T19:00:00-06:00", utc(2026, 11, 28, 1, 0)),
        ("2026-11-28 01:00:00", utc(2026, 11, 28, 1, 0)),
        ("2026-11-28", utc(2026, 11, 28)),
        ("1732755600000", utc(2024, 11, 28, 1, 0)),
        (1566248777.677, utc(2019, 8, 19, 21, 6, 17, 677000)),
        ("Sat, 28 Nov 2026 01:00:00 +0000", utc(2026, 11, 28, 1, 0)),
        ("soon", None),
    ],
)
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


def test_parse_timestamp_is_utc_aware_and_strict_on_request():
    parsed = parse_timestamp(datetime(2026, 11, 28, 3, 0, tzinfo=timezone(timedelta(hours=2))))
    assert parsed == utc(2026, 11, 28, 1, 0) and parsed.tzinfo is UTC
    with pytest.raises(ValueError):
        parse_timestamp("soon", strict=True)


# --- every inbound sample on disk --------------------------------------------------------

NOT_INBOUND = ("response", "headers", "captured")


def inbound_samples() -> list[tuple[str, str]]:
    found = []
    for kind in ("alertmanager", "grafana", "datadog", "sentry", "pagerduty"):
        for path in sorted((SAMPLES / kind).glob("*.json")):
            if not any(word in path.name for word in NOT_INBOUND):
                found.append((kind, f"{kind}/{path.name}"))
    return found


def carries_time_or_id(kind: str, payload) -> bool:
    """Whether the body tells a retry from a new occurrence (see receipt_key)."""
    if kind == "pagerduty":
        return False
    if kind == "datadog":
        return any(
            str(payload.get(k) or "") and not re.fullmatch(r"\$[A-Z_]+", payload[k])
            for k in ("id", "date", "last_updated")
        )
    return True


def parse_sample(kind: str, name: str) -> list[ParsedAlert]:
    payload = sample(name)
    if kind == "pagerduty":
        return [parse_event(payload)[1]]
    return parse(kind, payload)


@pytest.mark.parametrize("kind, name", inbound_samples())
def test_every_inbound_sample_parses_into_well_formed_alerts(kind, name, time_machine):
    time_machine.move_to(utc(2026, 11, 28, 2, 0), tick=False)
    alerts = parse_sample(kind, name)
    for parsed in alerts:
        assert parsed.status in ("firing", "resolved", "acknowledged")
        assert parsed.title and len(parsed.title) <= 200 and "\n" not in parsed.title
        assert parsed.fingerprint and len(parsed.fingerprint) <= 128
        assert len(parsed.occurrence_key) == 64
        assert parsed.source_severity == parsed.source_severity.lower()
        for moment in (parsed.starts_at, parsed.ends_at):
            assert moment is None or moment.utcoffset() == timedelta(0)
        assert all(
            isinstance(k, str) and isinstance(v, str)
            for m in (parsed.labels, parsed.annotations)
            for k, v in m.items()
        )
        assert all(isinstance(v, float) for v in parsed.values.values())
        assert parsed.url == "" or parsed.url.startswith(("http://", "https://"))
        assert isinstance(parsed.raw, dict) and parsed.raw
        json.dumps(parsed.raw)  # storable as JSON
        severity, reasons = suggest_severity(parsed)
        assert severity in ("P0", "P1", "P2", "P3") and reasons
    # replaying the same notification gives the same alerts, and the same
    # occurrence keys wherever the body carries a time or an id
    replay = parse_sample(kind, name)
    if carries_time_or_id(kind, sample(name)):
        assert [asdict(a) for a in replay] == [asdict(a) for a in alerts]
    else:
        for parsed in (*alerts, *replay):
            parsed.occurrence_key = ""
        assert [asdict(a) for a in replay] == [asdict(a) for a in alerts]


def test_the_samples_this_suite_replays_exist():
    names = {name for _, name in inbound_samples()}
    assert {
        "alertmanager/webhook_v4_firing.json",
        "alertmanager/webhook_v4_firing.raw.json",
        "alertmanager/webhook_v4_firing_partially_resolved.json",
        "alertmanager/webhook_v4_resolved.json",
        "alertmanager/webhook_v4_resolved.raw.json",
        "grafana/webhook_docs_example_firing.json",
        "grafana/webhook_source_test_fixture_firing.json",
        "datadog/webhook_default_payload_template.json",
        "datadog/webhook_recommended_custom_payload_template.json",
        "sentry/issue_alert_event_alert_triggered_docs.json",
        "sentry/issue_created_docs.json",
        "sentry/installation_created_docs.json",
        "pagerduty/events_v2_trigger_docs_example.json",
        "pagerduty/events_v2_trigger_openapi_example.json",
        "pagerduty/events_v2_acknowledge_docs_example.json",
        "pagerduty/events_v2_resolve_docs_example.json",
    } <= names


# --- severity: one rule at a time -------------------------------------------------------


@pytest.mark.parametrize(
    "label, level",
    [
        ("critical", "P0"),
        ("CRITICAL", "P0"),
        ("fatal", "P0"),
        ("error", "P1"),
        ("high", "P1"),
        ("warning", "P2"),
        ("warn", "P2"),
        ("info", "P3"),
        ("low", "P3"),
        ("P0", "P0"),
        ("p1", "P1"),
        ("SEV-2", "P2"),
        ("sev3", "P3"),
        ("P5", "P3"),
        ("1", "P1"),
    ],
)
def test_source_severity_label_maps_to_the_guide(label, level):
    assert suggest_severity(alert(source_severity=label)) == (
        level,
        [f"source severity '{label.lower()}' → {level}"],
    )


def test_integration_mapping_overrides_label():
    severity, reasons = suggest_severity(alert(source_severity="critical"), {"critical": "P2"})
    assert (severity, reasons) == ("P2", ["source severity 'critical' → P2 (integration mapping)"])
    assert suggest_severity(alert(source_severity="Page"), {"page": "p1"})[0] == "P1"
    # an invalid level in the mapping is ignored: the default applies
    assert suggest_severity(alert(source_severity="critical"), {"critical": "urgent"})[0] == "P0"
    # the mapping covers only the labels it names
    assert suggest_severity(alert(source_severity="warning"), {"critical": "P2"})[0] == "P2"


def test_integration_mapping_does_not_silence_other_signals():
    severity, reasons = suggest_severity(
        alert(source_severity="critical", values={"error_rate": 0.08}), {"critical": "P2"}
    )
    assert severity == "P0"
    assert reasons == [
        "source severity 'critical' → P2 (integration mapping)",
        "error rate 8% > 5% → P0",
    ]


def test_unknown_label_is_noted_and_defaults():
    assert suggest_severity(alert(source_severity="page")) == (
        "P2",
        [
            "source severity 'page' is not a known level (map it in the integration's severity "
            "mapping)",
            NO_SIGNAL_REASON,
        ],
    )


def test_error_rate_above_5_percent_is_p0():
    assert suggest_severity(alert(values={"error_rate": 7.2})) == (
        "P0",
        ["error rate 7.2% > 5% → P0"],
    )
    assert suggest_severity(alert(values={"error_rate": 0.07}))[0] == "P0"  # a fraction: 7 %


def test_error_rate_between_2_and_5_percent_is_p1():
    assert suggest_severity(alert(values={"error_rate": 0.031})) == (
        "P1",
        ["error rate 3.1% in 2-5% → P1"],
    )
    assert suggest_severity(alert(values={"error_rate": 5}))[0] == "P1"  # "> 5 %" is strict
    assert suggest_severity(alert(values={"error_rate": 2}))[0] == "P1"


def test_error_rate_between_1_and_2_percent_is_p2():
    assert suggest_severity(alert(values={"error_rate_percent": 1.5})) == (
        "P2",
        ["error rate 1.5% in 1-2% → P2"],
    )


def test_error_rate_below_1_percent_is_p3():
    assert suggest_severity(alert(values={"error_rate": 0.004})) == (
        "P3",
        ["error rate 0.4% < 1% → P3"],
    )
    # a key saying "percent" means percent even at or below 1
    assert suggest_severity(alert(values={"error_rate_percent": 0.5}))[0] == "P3"


@pytest.mark.parametrize(
    "fields, level",
    [
        ({"values": {"errorRate": 0.06}}, "P0"),
        ({"labels": {"error rate": "7.2%"}}, "P0"),
        ({"annotations": {"error_rate": "3%"}}, "P1"),
        ({"annotations": {"ErrorRatePercent": "0.5"}}, "P3"),
        ({"values": {"http_5xx_ratio": 0.012}}, "P2"),
        ({"values": {"failure_rate()": 0.09}}, "P0"),  # Sentry metric alert aggregate
    ],
)
def test_error_rate_is_found_under_common_names_and_units(fields, level):
    assert suggest_severity(alert(**fields))[0] == level


def test_error_rate_thresholds_are_not_measurements():
    assert suggest_severity(
        alert(values={"error_rate_threshold": 0.5}, annotations={"error_rate_slo": "99%"})
    ) == (DEFAULT_SEVERITY, [NO_SIGNAL_REASON])


def test_error_rate_in_the_alert_text():
    assert suggest_severity(alert(title="Checkout", description="5xx rate is 12% over 5m")) == (
        "P0",
        ["error rate 12% > 5% → P0"],
    )
    assert suggest_severity(alert(title="Error rate at 3.5% on search"))[0] == "P1"
    # a threshold in the text is not a measurement
    assert suggest_severity(alert(title="Error rate below 5% target"))[0] == DEFAULT_SEVERITY


def test_p95_latency_over_3s_is_at_least_p1():
    reason = "P95 latency 3.4 s > 3 s → at least P1"
    assert suggest_severity(alert(values={"p95_latency_ms": 3400})) == ("P1", [reason])
    assert suggest_severity(alert(values={"latency_p95": "3.4s"})) == ("P1", [reason])
    assert suggest_severity(alert(annotations={"p95": "3400ms"})) == ("P1", [reason])
    assert suggest_severity(alert(values={"p95_latency_seconds": 3.4})) == ("P1", [reason])
    assert suggest_severity(alert(values={"P95Latency": 3400})) == ("P1", [reason])  # bare ≥100: ms
    assert suggest_severity(alert(title="API P95 latency 3.4s"))[0] == "P1"
    # "at least": a low-severity label does not pull it down
    assert suggest_severity(alert(source_severity="info", values={"p95": 4.0}))[0] == "P1"


def test_p95_latency_at_or_under_3s_is_no_signal():
    assert suggest_severity(alert(values={"p95_latency_ms": 2900})) == (
        DEFAULT_SEVERITY,
        [NO_SIGNAL_REASON],
    )
    assert suggest_severity(alert(values={"p95_latency_seconds": 3.0}))[0] == DEFAULT_SEVERITY
    assert suggest_severity(alert(values={"p95_latency_threshold_ms": 9000}))[0] == "P2"


def test_p95_latency_does_not_lower_a_p0():
    assert suggest_severity(alert(source_severity="critical", values={"p95": 5}))[0] == "P0"


@pytest.mark.parametrize(
    "fields, phrase, criterion",
    [
        ({"title": "Complete outage of checkout"}, "complete outage", "complete outage"),
        ({"title": "API is down"}, "api is down", "API completely unavailable"),
        (
            {"description": "The API completely unavailable since 01:00"},
            "api completely unavailable",
            "API completely unavailable",
        ),
        ({"title": "All API pods crashed"}, "all api pods crashed", "API completely unavailable"),
        ({"title": "Data loss in orders"}, "data loss", "data loss"),
        (
            {"description": "Possible data corruption in invoices"},
            "data corruption",
            "data corruption",
        ),
        ({"title": "Security breach detected"}, "security breach", "security breach"),
        ({"title": "Database down"}, "database down", "datastore down"),
        ({"title": "Postgres down on db-1"}, "postgres down", "datastore down"),
        ({"title": "PostgreSQL is down"}, "postgresql is down", "datastore down"),
        ({"title": "Redis unavailable"}, "redis unavailable", "datastore down"),
        ({"labels": {"alertname": "PostgresqlDown"}}, "postgresql down", "datastore down"),
        ({"labels": {"alertname": "redis_down"}}, "redis down", "datastore down"),
    ],
)
def test_guide_keywords_are_p0(fields, phrase, criterion):
    fields.setdefault("title", "Alert")
    assert suggest_severity(alert(**fields)) == (
        "P0",
        [f"'{phrase}' in the alert: {criterion} → P0"],
    )


@pytest.mark.parametrize(
    "title",
    [
        "Slow database queries",
        "Redis cache hit rate down",
        "SLO breach on checkout",
        "Upstream returned 503 Service Unavailable",
        "Database replica lag high",
        "Partial outage of search",
    ],
)
def test_near_miss_phrases_are_not_p0(title):
    assert suggest_severity(alert(title=title))[0] == DEFAULT_SEVERITY


def test_urls_are_not_read_for_keywords():
    assert (
        suggest_severity(
            alert(annotations={"runbook_url": "https://runbooks.example.com/database-down"})
        )[0]
        == DEFAULT_SEVERITY
    )


def test_most_severe_signal_wins_and_every_reason_is_given():
    severity, reasons = suggest_severity(
        alert(
            title="Redis unavailable",
            source_severity="warning",
            values={"error_rate": 0.015, "p95_latency_ms": 4200},
        )
    )
    assert severity == "P0"
    assert reasons == [
        "source severity 'warning' → P2",
        "error rate 1.5% in 1-2% → P2",
        "P95 latency 4.2 s > 3 s → at least P1",
        "'redis unavailable' in the alert: datastore down → P0",
    ]
    assert suggest_severity(alert(source_severity="info", values={"error_rate": 0.03}))[0] == "P1"


def test_no_signal_defaults_to_p2():
    assert suggest_severity(alert(title="Something odd")) == ("P2", [NO_SIGNAL_REASON])
    assert DEFAULT_SEVERITY == "P2"


def test_severity_is_deterministic():
    subject = alert(
        title="Database down", source_severity="error", values={"error_rate": 0.2, "p95": 4}
    )
    assert len({json.dumps(suggest_severity(subject)) for _ in range(5)}) == 1


@pytest.mark.parametrize(
    "kind, name, expected",
    [
        (
            "alertmanager",
            "alertmanager/webhook_v4_firing.json",
            [
                ("P0", ["source severity 'critical' → P0", "error rate 12% > 5% → P0"]),
                ("P0", ["source severity 'critical' → P0", "error rate 9% > 5% → P0"]),
            ],
        ),
        ("grafana", "grafana/webhook_docs_example_firing.json", [("P2", [NO_SIGNAL_REASON])] * 2),
        (
            "sentry",
            "sentry/issue_alert_event_alert_triggered_docs.json",
            [("P1", ["source severity 'error' → P1"])],
        ),
        (
            "pagerduty",
            "pagerduty/events_v2_trigger_docs_example.json",
            [("P3", ["source severity 'info' → P3"])],
        ),
        (
            "pagerduty",
            "pagerduty/events_v2_trigger_openapi_example.json",
            [("P0", ["source severity 'critical' → P0"])],
        ),
    ],
)
def test_severity_of_the_real_samples(kind, name, expected):
    assert [suggest_severity(a) for a in parse_sample(kind, name)] == expected
