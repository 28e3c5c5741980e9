"""Property-based tests of every ingestion parser: whatever arrives, a parser
returns alerts that the database and every page can hold, or raises its own
error type (``PayloadError``; ``PagerDutyEventError`` for PagerDuty), never
anything else.

No database: parsers are pure. Bounded examples keep each test to seconds.
"""

from __future__ import annotations

import time
from datetime import UTC

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from incidents.ingest import KINDS, parse, parse_batch
from incidents.ingest.alertmanager import parse_alertmanager
from incidents.ingest.datadog import parse_datadog
from incidents.ingest.generic import parse_generic
from incidents.ingest.grafana import parse_grafana
from incidents.ingest.pagerduty import PagerDutyEventError, parse_event
from incidents.ingest.sentry import parse_sentry
from incidents.ingest.severity import LEVELS, suggest_severity
from incidents.ingest.types import ParsedAlert, PayloadError, parse_timestamp, to_float
from tests.ingest_support import (
    FAR_EAST,
    FAR_WEST,
    SHAPES,
    any_text,
    assert_batch,
    assert_storable,
    bounded,
    hostile_body,
    inbound_samples,
    iso_times,
    json_values,
    label_maps,
    mutated,
    sample,
    scalars,
)

BOUNDED = bounded(50)
STRICT_PARSERS = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "datadog": parse_datadog,
    "sentry": parse_sentry,
    "generic": parse_generic,
}


def parse_or_refuse(kind: str, payload) -> None:
    """The property: a Batch of storable alerts, or PayloadError."""
    try:
        batch = parse_batch(kind, payload)
    except PayloadError as exc:
        assert isinstance(exc.message, str) and exc.message
        return
    assert_batch(batch)
    try:
        alerts = STRICT_PARSERS[kind](payload)
    except PayloadError:
        assert batch.refused, "the strict parser refuses only what the batch refused"
        return
    assert not batch.refused
    for alert in alerts:
        assert_storable(alert)


@pytest.mark.parametrize("kind", KINDS)
@BOUNDED
@given(data=st.data())
def test_every_parser_returns_storable_alerts_or_payload_error_for_any_json(kind, data):
    payload = data.draw(st.one_of(json_values, SHAPES[kind]))
    parse_or_refuse(kind, payload)


@pytest.mark.parametrize("kind", KINDS)
@BOUNDED
@given(data=st.data())
def test_every_parser_gives_the_same_answer_for_the_bytes_on_the_wire(kind, data):
    payload = data.draw(SHAPES[kind])
    parse_or_refuse(kind, hostile_body(payload))


GENERIC_EXAMPLE = {  # the example of parse_generic's docstring, batched
    "alerts": [
        {
            "title": "Checkout 5xx above 5%",
            "status": "firing",
            "dedup_key": "checkout-5xx",
            "severity": "critical",
            "service": "checkout",
            "description": "Longer text, Markdown welcome.",
            "labels": {"env": "prod", "region": "eu-1"},
            "values": {"error_rate": 0.072, "p95_latency_ms": 3400},
            "url": "https://grafana.example.com/d/abc",
            "timestamp": "2026-11-28T00:59:31Z",
        }
    ]
}
MUTABLE = [
    *((kind, name) for kind in KINDS if kind != "generic" for name in inbound_samples(kind)),
    ("generic", None),
]


@pytest.mark.parametrize("kind, name", MUTABLE)
@bounded(25)
@given(data=st.data())
def test_real_payloads_mutated_field_by_field_never_break_a_parser(kind, name, data):
    payload = data.draw(mutated(sample(name) if name else GENERIC_EXAMPLE))
    parse_or_refuse(kind, payload)


def _pd_property(payload) -> None:
    try:
        routing_key, alert = parse_event(payload)
    except PagerDutyEventError as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)
        return
    assert isinstance(routing_key, str) and routing_key
    assert_storable(alert, keys_left_to_caller=True)


@BOUNDED
@given(payload=st.one_of(json_values, SHAPES["pagerduty"]))
def test_pagerduty_parse_event_returns_a_storable_alert_or_its_own_error(payload):
    _pd_property(payload)
    _pd_property(hostile_body(payload))


PD_SAMPLES = [n for n in inbound_samples("pagerduty") if "events_v2" in n]


@pytest.mark.parametrize("name", PD_SAMPLES)
@bounded(30)
@given(data=st.data())
def test_pagerduty_samples_mutated_field_by_field(name, data):
    _pd_property(data.draw(mutated(sample(name))))


@BOUNDED
@given(value=st.one_of(scalars, iso_times, json_values, st.datetimes(timezones=st.timezones())))
@example("9999-12-31T23:59:59-12:00")
@example(1e20)
@example("0000-01-01T00:00:00Z")
@example(10**400)
def test_parse_timestamp_gives_a_time_every_zone_can_show_or_none_or_payload_error(value):
    for strict in (False, True):
        try:
            moment = parse_timestamp(value, strict=strict, field="t")
        except PayloadError as exc:
            assert exc.field == "t"
            continue
        except ValueError:
            assert strict, "only strict parsing raises ValueError"
            continue
        if moment is not None:
            assert moment.tzinfo is UTC
            moment.astimezone(FAR_EAST)
            moment.astimezone(FAR_WEST)


@BOUNDED
@given(value=st.one_of(scalars, json_values))
def test_to_float_is_finite_or_none(value):
    number = to_float(value)
    assert number is None or (isinstance(number, float) and abs(number) < float("inf"))


parsed_alerts = st.builds(
    ParsedAlert,
    fingerprint=any_text,
    status=st.sampled_from(["firing", "resolved", "acknowledged"]),
    title=any_text,
    description=any_text,
    source_severity=st.one_of(st.sampled_from(["critical", "P1", "sev2", "warn"]), any_text),
    labels=st.dictionaries(any_text, any_text, max_size=4),
    annotations=st.dictionaries(any_text, any_text, max_size=4),
    values=st.dictionaries(
        st.sampled_from(["error_rate", "p95_latency_ms", "5xx_ratio", "x"]),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=3,
    ),
)
mappings = st.one_of(
    st.none(),
    st.dictionaries(any_text, st.one_of(st.sampled_from(LEVELS), scalars), max_size=4),
)


@BOUNDED
@given(alert=parsed_alerts, mapping=mappings)
def test_severity_suggestion_is_always_a_level_with_reasons(alert, mapping):
    level, reasons = suggest_severity(alert, mapping)
    assert level in LEVELS
    assert reasons and all(isinstance(r, str) and r for r in reasons)
    assert suggest_severity(alert, mapping) == (level, reasons)


@BOUNDED
@given(labels=label_maps, text=any_text)
def test_severity_of_any_parsed_generic_alert(labels, text):
    try:
        (alert,) = parse("generic", {"title": text or "x", "labels": labels, "severity": text})
    except PayloadError:
        return
    level, reasons = suggest_severity(alert)
    assert level in LEVELS and reasons


@pytest.mark.parametrize(
    "kind, body",
    [
        # a Datadog title bracket full of spaces: the transition pattern retried
        # the rest of the text at every step
        ("datadog", {"title": "[a" + " " * 100_000 + "b] CPU high"}),
        # Grafana's valueString: every "var='" re-scanned the rest of the text
        ("grafana", {"alerts": [{"labels": {}, "valueString": "var='' " * 20_000}]}),
    ],
)
def test_hostile_text_is_parsed_in_linear_time(kind, body):
    # Quadratic before: minutes for these 100 kB; a worker stuck that long is
    # killed and the sender re-sends the same body.
    started = time.perf_counter()
    for alert in parse(kind, body):
        suggest_severity(alert)
    assert time.perf_counter() - started < 5


def test_grafana_value_string_is_read_one_bracket_at_a_time():
    text = "[ var='A' labels={a=b} value=2.47e+09 ], [ var='B' labels={} value=-3 ], [ var='C' ]"
    (alert,) = parse("grafana", {"alerts": [{"labels": {}, "valueString": text}]})
    assert alert.values == {"A": 2.47e09, "B": -3.0}
