"""The pure alert-parsing layer (incidents/ingest/) as a whole: ``parse()``
a lookup by kind, timestamps, every inbound sample on disk, and the guide's
severity criteria one rule at a time (each tool's own parser has its test
module: test_ingest_alertmanager, _datadog_sentry, _generic_pagerduty).

No database: these tests never touch a model.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone

import pytest

from incidents.ingest import KINDS, parse
from incidents.ingest.pagerduty import parse_event
from incidents.ingest.severity import DEFAULT_SEVERITY, NO_SIGNAL_REASON, suggest_severity
from incidents.ingest.types import ParsedAlert, parse_timestamp
from tests.ingest_support import SAMPLES, sample
from tests.parser_support import alert, utc

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
