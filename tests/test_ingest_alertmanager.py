"""Alertmanager and Grafana payloads parsed (incidents/ingest/alertmanager.py,
grafana.py): real samples replayed field by field, refusals naming the field.
No database."""

from __future__ import annotations

import copy

import pytest

from incidents.ingest import KINDS, parse
from incidents.ingest.alertmanager import parse_alertmanager
from incidents.ingest.grafana import parse_grafana
from incidents.ingest.types import ParsedAlert, PayloadError
from tests.ingest_support import SAMPLES, sample
from tests.parser_support import refusal, utc

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
    assert refusal(parse_alertmanager, body) == (field, message)


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
