"""What the ingestion tests share: an alert to record, hypothesis
strategies for hostile alert payloads, and the check that a parsed alert
fits what stores and shows it.

The check is written against the models and the time zones, not against the
parser's own validator: a parser passes when the database and every page
could hold what it returned.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from incidents.ingest.types import STATUSES, Batch, ParsedAlert
from incidents.models import Alert, Incident, Service

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "payloads"

_occurrences = itertools.count(1)


def alert(fingerprint: str = "disk", status: str = "firing", *, key: str = "") -> ParsedAlert:
    """One notification for ``alert_record``; each call is a new occurrence
    unless ``key`` repeats one."""
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=f"{fingerprint} is {status}",
        occurrence_key=key or f"occurrence-{next(_occurrences)}",
    )


# The furthest zones east and west of UTC: a time every page can show must
# convert into both.
FAR_EAST, FAR_WEST = ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12")


def bounded(examples: int) -> settings:
    """Few examples and no deadline, so each test takes seconds; the health
    checks that measure time are off, as the machine is shared and slow."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


# Values that broke (or nearly broke) ingestion, mixed into everything drawn.
HOSTILE_TEXT = [
    "",
    "   ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u2028",
    "İ" * 101,
    "x" * 1001,
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:00:01Z",
    "2026-11-28T01:00:00Z",
    "100000000000000000000",
    "1e20",
    "-1",
    "NaN",
    "Infinity",
    "firing",
    "resolved",
    "acknowledged",
    "trigger",
    "acknowledge",
    "resolve",
    "critical",
    "P1",
    "Recovered",
    "[Triggered on {host:web-1}] Database down",
    "$ALERT_ID",
    "https://example.com/x",
    "http://example.com/\x00",
    "javascript:alert(1)",
    "error rate 12%",
    "p95 latency 4000ms",
]
HOSTILE_NUMBERS = [0, -1, 1, 2**63, 10**30, -(10**30), 10**99, 1e20, 1e308, -1e308, 1.5]

FIELD_NAMES = sorted(
    {
        # Alertmanager / Grafana
        *("alerts", "status", "labels", "annotations", "startsAt", "endsAt", "fingerprint"),
        *("generatorURL", "values", "valueString", "dashboardURL", "panelURL", "externalURL"),
        *("title", "message", "ruleName", "evalMatches", "ruleId", "state", "tags", "orgId"),
        *("ruleUrl", "metric", "value", "alertname", "summary", "description", "severity"),
        # Datadog
        *("body", "last_updated", "event_type", "date", "org", "id", "alert_id", "link"),
        *("alert_transition", "alert_type", "priority", "aggreg_key", "alert_scope"),
        *("hostname", "alert_status", "alert_priority", "text_only_msg", "alert_title"),
        # Sentry
        *("action", "data", "event", "issue", "metric_alert", "error", "installation"),
        *("triggered_rule", "issue_alert", "project", "triggering_rules", "issue_id"),
        *("group_id", "issue_url", "metadata", "type", "project_slug", "level", "platform"),
        *("environment", "culprit", "event_id", "datetime", "timestamp", "web_url", "url"),
        *("shortId", "assignedTo", "firstSeen", "lastSeen", "count", "userCount", "name"),
        *("permalink", "alert_rule", "aggregate", "dataset", "query", "projects"),
        *("date_started", "date_detected", "date_closed", "metric_value", "identifier"),
        *("description_text", "description_title"),
        # generic
        *("dedup_key", "service", "starts_at", "ends_at"),
        # PagerDuty Events API v2
        *("routing_key", "event_action", "payload", "source", "component", "group", "class"),
        *("custom_details", "links", "images", "href", "src", "client", "client_url"),
    }
)

any_text = st.one_of(
    # every code point, lone surrogates included
    st.text(alphabet=st.characters(exclude_categories=()), max_size=20),
    st.sampled_from(HOSTILE_TEXT),
)
iso_times = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from(["", ".5", ".123456789"]),
    st.sampled_from(["", "Z", "+14:00", "-12:00", "+0530", "-02", " UTC"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
    iso_times,
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), any_text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=12,
)


def objects(names: tuple[str, ...], value=json_values) -> st.SearchStrategy[dict]:
    """Objects with any subset of ``names``, each holding anything."""
    return st.fixed_dictionaries({}, optional={name: value for name in names})


label_maps = st.one_of(st.dictionaries(keys, scalars, max_size=4), json_values)
am_alert = st.fixed_dictionaries(
    {},
    optional={
        "status": st.one_of(st.sampled_from(["firing", "resolved"]), json_values),
        "labels": label_maps,
        "annotations": label_maps,
        "startsAt": st.one_of(iso_times, scalars),
        "endsAt": st.one_of(iso_times, scalars),
        "fingerprint": scalars,
        "generatorURL": scalars,
        "values": label_maps,
        "valueString": any_text,
        "dashboardURL": scalars,
    },
)
SHAPES: dict[str, st.SearchStrategy] = {
    "alertmanager": st.one_of(
        st.fixed_dictionaries(
            {"alerts": st.lists(st.one_of(am_alert, json_values), max_size=4)},
            optional={"externalURL": scalars, "title": scalars, "message": scalars},
        ),
        st.lists(am_alert, max_size=3),
    ),
    "datadog": objects(tuple(FIELD_NAMES), st.one_of(scalars, iso_times)),
    "sentry": st.fixed_dictionaries(
        {
            "action": st.one_of(
                st.sampled_from(["created", "resolved", "assigned", "critical", "triggered"]),
                scalars,
            ),
            "data": st.one_of(
                st.dictionaries(
                    st.sampled_from(["issue", "event", "metric_alert", "error"]),
                    objects(tuple(FIELD_NAMES), st.one_of(scalars, iso_times, json_values)),
                    min_size=1,
                    max_size=2,
                ),
                json_values,
            ),
        }
    ),
    "generic": st.one_of(
        objects(
            ("title", "status", "dedup_key", "severity", "service", "labels", "values"),
            st.one_of(scalars, label_maps),
        ),
        st.fixed_dictionaries(
            {"alerts": st.lists(objects(("title", "status", "labels", "timestamp")), max_size=4)}
        ),
    ),
    "pagerduty": st.fixed_dictionaries(
        {
            "routing_key": st.one_of(st.just("0" * 32), scalars),
            "event_action": st.one_of(
                st.sampled_from(["trigger", "acknowledge", "resolve"]), scalars
            ),
        },
        optional={
            "dedup_key": scalars,
            "payload": objects(
                ("summary", "source", "severity", "timestamp", "component", "custom_details"),
                st.one_of(st.sampled_from(["critical", "error"]), iso_times, scalars),
            ),
            "links": st.one_of(st.lists(objects(("href", "text"), scalars), max_size=2), scalars),
            "client_url": scalars,
        },
    ),
}
SHAPES["grafana"] = SHAPES["alertmanager"]


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def inbound_samples(kind: str) -> list[str]:
    return [
        f"{kind}/{path.name}"
        for path in sorted((SAMPLES / kind).glob("*.json"))
        if not any(word in path.name for word in ("response", "headers", "captured"))
    ]


def field_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``value`` (keys and list indexes), the
    root left out: the places a mutation can change one field."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += field_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += field_paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw, payload: Any) -> Any:
    """A real payload with one to three of its fields (or containers)
    replaced by something hostile, or deleted."""
    body = copy.deepcopy(payload)
    for _ in range(draw(st.integers(1, 3))):
        paths = field_paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return body


def hostile_body(value: Any) -> bytes:
    """What a sender would put on the wire: NaN as ``NaN``, surrogates and NUL
    as escapes, huge integers as digits."""
    try:
        return json.dumps(value).encode()
    except ValueError:  # an int past str()'s digit limit
        return b'{"n": ' + b"9" * 5000 + b"}"


# --- the check -------------------------------------------------------------------


def _max(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _storable_text(value: str, where: str) -> None:
    assert "\x00" not in value, f"{where} holds a NUL"
    value.encode("utf-8")  # a lone surrogate raises here


def _walk(value: Any, where: str, depth: int = 0) -> None:
    assert depth <= 64, f"{where} is nested too deep"
    if isinstance(value, str):
        _storable_text(value, where)
    elif isinstance(value, float):
        assert math.isfinite(value), f"{where} is not finite"
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{where} has a key that is not text"
            _storable_text(key, where)
            _walk(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", depth + 1)
    else:
        assert value is None or isinstance(value, bool | int), f"{where}: {type(value)}"


def assert_storable(alert: ParsedAlert, *, keys_left_to_caller: bool = False) -> None:
    """Every field of ``alert`` fits its column, and every time converts into
    the furthest zones east and west. ``keys_left_to_caller``: a PagerDuty
    trigger without ``dedup_key`` leaves fingerprint and occurrence key empty."""
    assert isinstance(alert, ParsedAlert)
    assert alert.status in STATUSES
    assert isinstance(alert.title, str) and alert.title.strip()
    assert len(alert.title) <= min(_max(Alert, "title"), _max(Incident, "title"))
    assert "\n" not in alert.title
    if not keys_left_to_caller:
        assert alert.fingerprint and alert.occurrence_key
    assert len(alert.fingerprint) <= _max(Alert, "fingerprint")
    assert len(alert.occurrence_key) <= _max(Alert, "occurrence_key")
    assert len(alert.source_severity) <= _max(Alert, "source_severity")
    assert len(alert.url) <= _max(Alert, "url")
    assert alert.url == "" or alert.url.startswith(("http://", "https://"))
    assert alert.service == alert.service.strip()
    assert len(alert.service) <= _max(Alert, "service")
    assert len(alert.service.lower()) <= _max(Service, "name")
    for name in ("fingerprint", "occurrence_key", "title", "description", "source_severity"):
        _storable_text(getattr(alert, name), name)
    _storable_text(alert.service, "service")
    _storable_text(alert.url, "url")
    for name in ("labels", "annotations"):
        mapping = getattr(alert, name)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
        _walk(mapping, name)
    assert all(isinstance(k, str) and isinstance(v, float) for k, v in alert.values.items())
    _walk(alert.values, "values")
    for name in ("starts_at", "ends_at"):
        moment = getattr(alert, name)
        if moment is not None:
            assert moment.utcoffset() == timedelta(0), name
            moment.astimezone(FAR_EAST)
            moment.astimezone(FAR_WEST)
    assert isinstance(alert.raw, dict)
    _walk(alert.raw, "raw")
    json.dumps(alert.raw, allow_nan=False)


def assert_batch(batch: Batch, *, items: int | None = None) -> None:
    assert isinstance(batch, Batch)
    for alert in batch.alerts:
        assert_storable(alert)
    for refusal in batch.refused:
        assert isinstance(refusal.index, int) and refusal.index >= 0
        assert isinstance(refusal.message, str) and refusal.message
        assert refusal.field is None or isinstance(refusal.field, str)
        assert refusal.fingerprint is None or len(refusal.fingerprint) <= 128
        json.dumps(refusal.as_dict())
    if items is not None:
        assert len(batch.alerts) + len(batch.refused) <= items
