"""Generic JSON and PagerDuty Events API v2 parsed (incidents/ingest/generic.py,
pagerduty.py): the documented format, PagerDuty's event validation listing
every error. No database."""

from __future__ import annotations

import copy

import pytest

from incidents.ingest.generic import parse_generic
from incidents.ingest.pagerduty import PagerDutyEventError, parse_event
from incidents.ingest.types import ParsedAlert, PayloadError
from tests.ingest_support import sample
from tests.parser_support import refusal, utc

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
    assert refusal(parse_generic, body) == (field, message)


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


@pytest.mark.parametrize(
    "body, error",
    [
        ([1, 2], "Event object must be a JSON object"),
        ("text", "Event object must be a JSON object"),
        (None, "Event object must be a JSON object"),
        (b"{not json", "JSON parse error"),
    ],
)
def test_pagerduty_body_must_be_a_json_object(body, error):
    with pytest.raises(PagerDutyEventError) as caught:
        parse_event(body)
    assert caught.value.errors == [error]
