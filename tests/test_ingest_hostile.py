"""Hostile input at the ingestion endpoints: a 4xx naming the field and
nothing written, never a 5xx (senders re-send on a 5xx for ever), and in a
batch the good alerts kept while the bad ones are listed as refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.ingest.types import ParsedAlert
from incidents.models import Alert, Incident, TimelineEvent
from incidents.services.alerts import NOT_STORED, alert_record
from incidents.services.integrations import integration_create
from tests.ingest_support import SHAPES, bounded, hostile_body, json_values, mutated, sample

pytestmark = pytest.mark.django_db

DEEP = b"[" * 200 + b"]" * 200
HUGE_INT = b"9" * 5000


@pytest.fixture
def token(alice):
    def make(kind: str = "generic") -> str:
        return integration_create(actor=alice, name=f"{kind} hostile", kind=kind)[1]

    return make


def post(client, token: str, kind: str, body) -> object:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(
        f"/api/v1/integrations/{token}/{kind}/", data=data, content_type="application/json"
    )


def enqueue(client, body) -> object:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/v2/enqueue", data=data, content_type="application/json")


def nothing_written() -> bool:
    return not (
        Alert.objects.exists() or Incident.objects.exists() or TimelineEvent.objects.exists()
    )


def am_alert(instance: str, **changes) -> dict:
    alert = {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "instance": instance, "service": "checkout"},
        "annotations": {"summary": "High 5xx error rate"},
        "startsAt": "2026-11-28T00:59:31Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": f"fp-{instance}",
    }
    alert.update(changes)
    return alert


# --- one body, one problem: 400 naming the field -------------------------------------

HOSTILE_BODIES = [
    ("generic", b'{"title": "a\\u0000b"}', "title"),
    ("generic", b'{"title": "\\ud800"}', "title"),
    ("generic", b'{"title": "x", "labels": {"\\udfff": "v"}}', "labels.<key>"),
    ("generic", b'{"title": "x", "values": {"rate": NaN}}', None),
    ("generic", b'{"title": "x", "values": {"rate": -Infinity}}', None),
    ("generic", b'{"title": "x", "values": {"rate": 1e999}}', None),
    ("generic", b'{"title": "x", "labels": ' + DEEP + b"}", None),
    ("generic", b'{"title": "x", "values": {"rate": ' + HUGE_INT + b"}}", None),
    ("generic", b'{"title": "caf\xe9"}', None),
    ("generic", b'{"title": "x", "timestamp": 1e20}', "timestamp"),
    ("generic", b'{"title": "x", "timestamp": "9999-12-31T23:59:59-12:00"}', "timestamp"),
    ("generic", b'{"title": "x", "timestamp": "0000-01-01T00:00:00Z"}', "timestamp"),
    ("generic", b'{"title": ["x"]}', "title"),
    ("generic", b'{"title": "x", "labels": [1]}', "labels"),
    ("generic", b'{"alerts": {"title": "x"}}', "alerts"),
    ("generic", b'"just text"', None),
    ("generic", b"42", None),
    ("generic", b"null", None),
    ("generic", b"true", None),
    ("generic", b"", None),
    ("alertmanager", b'{"alerts": {"labels": {}}}', "alerts"),
    ("alertmanager", json.dumps({"alerts": [am_alert("a", labels=["x"])]}), "alerts[0].labels"),
    (
        "alertmanager",
        json.dumps({"alerts": [am_alert("a\x00b")]}),
        "alerts[0].labels.instance",
    ),
    (
        "alertmanager",
        json.dumps({"alerts": [am_alert("a", startsAt="9999-12-31T23:59:59-12:00")]}),
        "alerts[0].startsAt",
    ),
    (
        "alertmanager",
        json.dumps({"alerts": [am_alert("a", endsAt="0000-01-01T00:00:00Z")]}),
        "alerts[0].endsAt",
    ),
    ("alertmanager", json.dumps({"alerts": [am_alert("a", startsAt=1e20)]}), "alerts[0].startsAt"),
    ("alertmanager", json.dumps([1, "x"]), "[0]"),
    ("alertmanager", b'{"alerts": [], "externalURL": "http://\\u0000"}', "externalURL"),
    ("grafana", json.dumps({"alerts": [am_alert("a", status={"state": 5})]}), "alerts[0].status"),
    ("grafana", b'{"ruleName": "r", "state": "alerting", "message": "\\ud83d"}', "message"),
    ("datadog", {"title": "CPU", "date": "100000000000000000000"}, "date"),
    ("datadog", {"title": "CPU", "last_updated": "9999-12-31T23:59:59-12:00"}, "last_updated"),
    ("datadog", {"title": "CPU\x00"}, "title"),
    ("datadog", b"[]", None),
    (
        "sentry",
        {
            "action": "created",
            "data": {"issue": {"id": "1", "title": "x", "firstSeen": "9999-12-31T23:59:59-12:00"}},
        },
        "data.issue.firstSeen",
    ),
    ("sentry", {"action": "created", "data": ["issue"]}, "data"),
    ("sentry", b'{"action": "created", "data": {"issue": {"title": "\\udc00"}}}', None),
]


@pytest.mark.parametrize("kind, body, field", HOSTILE_BODIES)
def test_hostile_body_is_refused_with_400_naming_the_field(client, token, kind, body, field):
    response = post(client, token(kind), kind, body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert isinstance(answer["detail"], str) and answer["detail"]
    if field:
        assert field in answer["errors"], answer
    assert nothing_written()


# --- over-long values fit their columns ---------------------------------------------


def test_over_long_values_are_fitted_to_their_columns_and_the_alert_kept(client, token):
    response = post(
        client,
        token("generic"),
        "generic",
        {
            "title": "t" * 5000,
            "service": "S" * 5000,
            "dedup_key": "k" * 5000,
            "severity": "critical" + "!" * 5000,
            "labels": {"long": "v" * 50_000},
            "url": "https://example.com/" + "a" * 5000,
            "description": "d" * 100_000,
        },
    )
    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert len(alert.title) == 200 and len(alert.service) == 100
    assert len(alert.fingerprint) <= 128 and len(alert.source_severity) <= 40
    assert alert.url == "" and len(alert.labels["long"]) == 50_000
    assert [s.name for s in Incident.objects.get().services.all()] == ["s" * 100]


def test_a_service_name_that_grows_when_lower_cased_still_fits(client, token):
    # "İ".lower() is two characters: 100 of them became 200 and a 500.
    response = post(client, token("generic"), "generic", {"title": "x", "service": "İ" * 100})
    assert response.status_code == 202, response.content
    (service,) = Incident.objects.get().services.all()
    assert len(service.name) <= 100


def test_alertmanager_over_long_fingerprint_and_labels_are_kept(client, token):
    payload = {"alerts": [am_alert("a", fingerprint="f" * 5000)]}
    payload["alerts"][0]["labels"]["service"] = "x" * 1000
    response = post(client, token("alertmanager"), "alertmanager", payload)
    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert len(alert.fingerprint) <= 128 and len(alert.service) == 100


# --- batches: keep the good, list the refused ---------------------------------------


def test_alertmanager_batch_stores_the_good_alerts_and_lists_the_refused_one(client, token):
    key = token("alertmanager")
    payload = {"alerts": [am_alert("a"), am_alert("b\x00", fingerprint="fp-b"), am_alert("c")]}
    response = post(client, key, "alertmanager", payload)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["alerts"] == 2
    assert [r["fingerprint"] for r in answer["results"]] == ["fp-a", "fp-c"]
    (refused,) = answer["refused"]
    assert (refused["index"], refused["fingerprint"]) == (1, "fp-b")
    assert refused["field"] == "alerts[1].labels.instance"
    assert "NUL" in refused["message"]
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == ["fp-a", "fp-c"]
    assert Incident.objects.count() == 2
    # The sender re-sends the same batch: nothing changes, the same one is refused.
    again = post(client, key, "alertmanager", payload)
    assert again.status_code == 202
    assert [r["duplicate"] for r in again.json()["results"]] == [True, True]
    assert again.json()["refused"] == answer["refused"]
    assert Alert.objects.count() == 2


def test_grafana_batch_with_a_time_out_of_range_keeps_the_others(client, token):
    payload = sample("grafana/webhook_docs_example_firing.json")
    good = payload["alerts"][0]
    bad = dict(good, fingerprint="bad", startsAt="9999-12-31T23:59:59-12:00")
    payload["alerts"] = [good, bad, dict(good, fingerprint="third")]
    response = post(client, token("grafana"), "grafana", payload)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["alerts"] == 2
    assert answer["refused"] == [
        {
            "index": 1,
            "fingerprint": "bad",
            "field": "alerts[1].startsAt",
            "message": answer["refused"][0]["message"],
        }
    ]
    assert "out of range" in answer["refused"][0]["message"]
    assert Alert.objects.count() == 2


def test_generic_batch_refuses_wrong_types_and_surrogates_one_by_one(client, token):
    body = (
        b'{"alerts": [{"title": "good", "dedup_key": "g"},'
        b' {"title": "bad", "dedup_key": "b", "labels": ["x"]},'
        b' {"title": "\\ud800", "dedup_key": "s"},'
        b' "not an alert"]}'
    )
    response = post(client, token("generic"), "generic", body)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert [r["fingerprint"] for r in answer["results"]] == ["g"]
    assert [(r["index"], r["field"], r["fingerprint"]) for r in answer["refused"]] == [
        (1, "alerts[1].labels", "b"),
        (2, "alerts[2].title", "s"),
        (3, "alerts[3]", None),
    ]
    assert list(Alert.objects.values_list("fingerprint", flat=True)) == ["g"]


def test_a_batch_in_which_every_alert_is_bad_is_400_and_writes_nothing(client, token):
    payload = {"alerts": [am_alert("a\x00"), am_alert("b", startsAt=1e20)]}
    response = post(client, token("alertmanager"), "alertmanager", payload)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["detail"].startswith("No alert could be accepted")
    assert set(answer["errors"]) == {"alerts[0].labels.instance", "alerts[1].startsAt"}
    assert [r["index"] for r in answer["refused"]] == [0, 1]
    assert nothing_written()


# --- PagerDuty Events API v2 ------------------------------------------------------------


def pd_trigger(key: str, **payload_changes) -> dict:
    event = sample("pagerduty/events_v2_trigger_docs_example.json")
    event["routing_key"] = key
    event["payload"].update(payload_changes)
    return event


PD_HOSTILE_BODIES = [
    (b'{"routing_key": "\\ud800", "event_action": "trigger"}', "routing_key"),
    (b'{"routing_key": "k", "event_action": "trigger", "x": NaN}', "NaN"),
    (b'{"routing_key": "k", "event_action": "trigger", "n": ' + HUGE_INT + b"}", "digits"),
    (b'{"routing_key": "k", "payload": ' + DEEP + b"}", "nested"),
    (b'{"routing_key": "\xff"}', "UTF-8"),
    (b"[]", "JSON object"),
    (b"null", "JSON object"),
    (b'"trigger"', "JSON object"),
    (b"", "JSON parse error"),
]


@pytest.mark.parametrize("body, mentions", PD_HOSTILE_BODIES)
def test_pagerduty_hostile_body_is_an_invalid_event_not_a_500(client, db, body, mentions):
    response = enqueue(client, body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["status"] == "invalid event"
    assert isinstance(answer["message"], str)
    assert any(mentions in error for error in answer["errors"]), answer
    assert nothing_written()


PD_BAD_FIELDS = [
    ({"summary": "disk\x00full"}, "'payload.summary' contains a NUL"),
    ({"timestamp": "9999-12-31T23:59:59-12:00"}, "payload.timestamp"),
    ({"timestamp": 1e20}, "payload.timestamp"),
    ({"custom_details": {"\ud800": 1}}, "payload.custom_details.<key>"),
]


@pytest.mark.parametrize("changes, mentions", PD_BAD_FIELDS)
def test_pagerduty_event_with_a_bad_field_names_it_in_pagerduty_shape(
    client, token, changes, mentions
):
    response = enqueue(client, pd_trigger(token("pagerduty"), **changes))
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["status"] == "invalid event"
    assert answer["message"] == "Event object is invalid"
    assert any(mentions in error for error in answer["errors"]), answer
    assert nothing_written()


def test_pagerduty_over_long_component_and_summary_are_fitted(client, token):
    event = pd_trigger(token("pagerduty"), summary="s" * 5000, component="C" * 5000)
    event["dedup_key"] = "d" * 255
    response = enqueue(client, event)
    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert len(alert.title) == 200 and len(alert.service) == 100
    assert len(alert.fingerprint) <= 128


# --- the token in the path ---------------------------------------------------------------


PATH_SEGMENTS = ["%00", "%ED%A0%80", "%ZZ", "%C0%AF", "%F0%9F%92%A9", "x" * 5000, "..%2F..%2F"]


@pytest.mark.parametrize("segment", PATH_SEGMENTS)
def test_odd_bytes_in_the_path_token_are_refused(client, db, segment):
    response = client.post(
        f"/api/v1/integrations/{segment}/generic/",
        data=json.dumps({"title": "x"}),
        content_type="application/json",
    )
    # A NUL anywhere in a URL is refused before routing (request_guards, 400
    # naming the path); any other odd token is simply unknown (404).
    assert response.status_code == (400 if segment == "%00" else 404)
    assert response.json()["detail"]
    assert nothing_written()


# --- whatever arrives: never a 5xx -------------------------------------------------------

HTTP = bounded(20)


@pytest.mark.parametrize("kind", ["alertmanager", "grafana", "datadog", "sentry", "generic"])
@HTTP
@given(data=st.data())
def test_webhooks_never_answer_5xx_whatever_the_body(client, alice, kind, data):
    key = integration_create(actor=alice, name="prop", kind=kind)[1]
    name = {
        "alertmanager": "alertmanager/webhook_v4_firing.json",
        "grafana": "grafana/webhook_docs_example_firing.json",
        "datadog": "datadog/webhook_default_payload_template.json",
        "sentry": "sentry/issue_created_docs.json",
        "generic": "alertmanager/webhook_v4_firing.json",
    }[kind]
    payload = data.draw(st.one_of(json_values, SHAPES[kind], mutated(sample(name))))
    before = Alert.objects.count()
    response = post(client, key, kind, hostile_body(payload))
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert Alert.objects.count() == before


@HTTP
@given(data=st.data())
def test_pagerduty_enqueue_never_answers_5xx_whatever_the_body(client, alice, data):
    key = integration_create(actor=alice, name="prop", kind="pagerduty")[1]
    payload = data.draw(
        st.one_of(
            json_values,
            SHAPES["pagerduty"],
            mutated(pd_trigger(key)),
        )
    )
    if isinstance(payload, dict) and data.draw(st.booleans()):
        payload["routing_key"] = key
    before = Alert.objects.count()
    response = enqueue(client, hostile_body(payload))
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert Alert.objects.count() == before


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", b"title=%ZZ&x=%E0%A4&" + b"a=1&" * 2000),
        ("multipart/form-data; boundary=xx", b"--xx\r\nContent-Disposition: form-data\r\n\r\n"),
        ("text/plain; charset=latin-1", b"\xff\xfe\x00"),
        ("application/json; charset=utf-16", '{"title": "x"}'.encode("utf-16")),
    ],
)
def test_bodies_that_are_not_json_are_400_whatever_the_content_type(
    client, token, content_type, body
):
    # generic(): the bytes as they are, whatever charset the header names
    path = f"/api/v1/integrations/{token('generic')}/generic/"
    response = client.generic("POST", path, data=body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert nothing_written()


def test_an_alert_the_database_refuses_is_not_stored_and_the_rest_of_the_batch_is(alice):
    # The parsers never hand alert_record() such an alert; this is the net below them.
    integration, _ = integration_create(actor=alice, name="net", kind="generic")
    outcomes = alert_record(
        integration=integration,
        kind="generic",
        alerts=[
            ParsedAlert(fingerprint="good", status="firing", title="Disk full"),
            ParsedAlert(fingerprint="nul", status="firing", title="a\x00b"),
            ParsedAlert(fingerprint="surrogate", status="firing", title="\ud800"),
            ParsedAlert(fingerprint="also-good", status="firing", title="CPU high"),
        ],
    )
    assert [o.action for o in outcomes] == ["opened", NOT_STORED, NOT_STORED, "opened"]
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == ["also-good", "good"]
