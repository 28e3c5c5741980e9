"""Each monitoring tool's webhook payload -> a list of ``ParsedAlert``s.

Liberal in what we accept (real tools send nulls, empty maps, numbers as
strings, Go zero times, nanosecond fractions), exact in what we extract, and
``PayloadError`` naming the field only for input that can never be valid:
a 4xx makes Alertmanager and Datadog drop the notification for good.

One payload may hold several alerts (Alertmanager/Grafana groups); each is
processed on its own, keyed by its own fingerprint, with its own status: a
group whose status is "firing" may contain resolved alerts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .types import (
    ParsedAlert,
    PayloadError,
    clean_fingerprint,
    clean_url,
    content_digest,
    derive_fingerprint,
    make_title,
    occurrence_key,
    one_line,
    parse_timestamp,
    receipt_key,
    str_map,
    text,
    to_float,
)

KINDS = ("alertmanager", "grafana", "datadog", "sentry", "generic")

# Labels that name the affected service, most specific first.
SERVICE_LABELS = (
    "service",
    "service_name",
    "app",
    "application",
    "app_kubernetes_io_name",
    "component",
    "job",
)
SEVERITY_LABELS = ("severity", "priority", "level")


def parse(
    kind: str, payload: Any, *, headers: Mapping[str, str] | None = None
) -> list[ParsedAlert]:
    """Parse ``payload`` (decoded JSON, or the raw body as bytes) sent by a
    tool of ``kind``. ``headers`` is optional: Sentry's ``Sentry-Hook-Resource``
    is used as a hint, but every body is understood on its own."""
    if kind == "alertmanager":
        return parse_alertmanager(payload)
    if kind == "grafana":
        return parse_grafana(payload)
    if kind == "datadog":
        return parse_datadog(payload)
    if kind == "sentry":
        return parse_sentry(payload, resource=_header(headers, "Sentry-Hook-Resource"))
    if kind == "generic":
        return parse_generic(payload)
    if kind == "pagerduty":
        from .pagerduty import parse_event

        return [parse_event(payload)[1]]
    raise ValueError(f"unknown alert kind {kind!r}; expected one of {', '.join(KINDS)}")


# --- shared helpers ------------------------------------------------------------


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower().replace("_", "-").removeprefix("http-") == wanted:
            return str(value)
    return None


def _load(payload: Any) -> Any:
    """Raw bodies (bytes) and double-encoded JSON strings are decoded."""
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            return json.loads(bytes(payload))
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadError(f"body is not valid JSON: {exc}") from None
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError:
            return payload  # a bare string: refused by the caller's type check
    return payload


def _require_object(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise PayloadError(f"the body must be a JSON object, not {_json_type(payload)}")
    return payload


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _first(mapping: Mapping[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = mapping.get(key)
        if value:
            return value.strip()
    return ""


def _float_map(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    numbers = {}
    for key, item in value.items():
        number = to_float(item)
        if number is not None:
            numbers[str(key)] = number
    return numbers


# --- Alertmanager and Grafana (unified alerting) ----------------------------------

# Per-alert states of Alertmanager/Grafana webhooks and of Alertmanager's API.
_AM_STATUS = {
    "firing": "firing",
    "active": "firing",
    "suppressed": "firing",
    "unprocessed": "firing",
    "alerting": "firing",
    "pending": "firing",
    "nodata": "firing",
    "no_data": "firing",
    "resolved": "resolved",
    "inactive": "resolved",
    "ok": "resolved",
    "normal": "resolved",
}

# Grafana's "valueString": [ var='A' labels={...} value=2.47e+09 ], [ var='B' ... ]
_VALUE_STRING = re.compile(
    r"var='(?P<var>[^']*)'[^\]]*?\bvalue=(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
)


def parse_alertmanager(payload: Any) -> list[ParsedAlert]:
    """Prometheus Alertmanager ``webhook_configs`` payload (``version`` "4").

    Also accepted: a JSON array of alerts as posted to Alertmanager's own
    ``/api/v2/alerts`` (no fingerprint: one is derived from the labels; no
    status: resolved once ``endsAt`` has passed) and Grafana's payload, which
    is a superset of this one.
    """
    return _parse_am_like(payload, grafana=False)


def parse_grafana(payload: Any) -> list[ParsedAlert]:
    """Grafana unified alerting webhook contact point (``version`` "1").

    Per alert as in Alertmanager, plus ``values`` (refID -> number; may be
    absent or ``null``, then read from ``valueString``) and the dashboard/panel
    links. The group's ``title``/``message`` are rendered templates, used only
    when an alert has no name or description of its own. Legacy Grafana
    alerting (``ruleName``/``state``/``evalMatches``, Grafana <= 8) is accepted.
    """
    payload = _load(payload)
    if (
        isinstance(payload, dict)
        and "alerts" not in payload
        and ("ruleName" in payload or "evalMatches" in payload or "ruleId" in payload)
    ):
        return [_parse_grafana_legacy(payload)]
    return _parse_am_like(payload, grafana=True)


def _parse_am_like(payload: Any, *, grafana: bool) -> list[ParsedAlert]:
    payload = _load(payload)
    if isinstance(payload, list):  # Alertmanager API v2 body: an array of alerts
        group: dict = {}
        items, prefix = payload, ""
    else:
        group = _require_object(payload)
        items, prefix = group.get("alerts"), "alerts"
        if items is None:
            raise PayloadError("alerts is required (the list of alerts)", field="alerts")
        if not isinstance(items, list):
            raise PayloadError("alerts must be a list", field="alerts")
    parsed = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]"
        if not isinstance(item, dict):
            raise PayloadError(f"{where} must be an object", field=where)
        parsed.append(_am_alert(item, where, group=group, grafana=grafana, alone=len(items) == 1))
    return parsed


def _am_status(item: dict, where: str, ends_at: datetime | None) -> str:
    raw = item.get("status")
    if isinstance(raw, dict):  # GET /api/v2/alerts: {"state": "active", ...}
        raw = raw.get("state")
    if raw is None or raw == "":
        # Posted to Alertmanager's API: resolved once endsAt has passed.
        return "resolved" if ends_at and ends_at <= datetime.now(UTC) else "firing"
    if not isinstance(raw, str):
        raise PayloadError(f"{where}.status must be a string", field=f"{where}.status")
    status = _AM_STATUS.get(raw.strip().lower())
    if status is None:
        raise PayloadError(
            f"{where}.status must be 'firing' or 'resolved', not {raw!r}", field=f"{where}.status"
        )
    return status


def _am_alert(item: dict, where: str, *, group: dict, grafana: bool, alone: bool) -> ParsedAlert:
    labels = str_map(item.get("labels"), f"{where}.labels")
    annotations = str_map(item.get("annotations"), f"{where}.annotations")
    starts_at = parse_timestamp(item.get("startsAt"))
    ends_at = parse_timestamp(item.get("endsAt"))
    status = _am_status(item, where, ends_at)
    fingerprint = clean_fingerprint(item.get("fingerprint")) or derive_fingerprint(
        "labels", sorted(labels.items())
    )

    alertname = labels.get("alertname", "").strip()
    summary = (annotations.get("summary") or annotations.get("title") or "").strip()
    headline = (
        f"{alertname}: {summary}"
        if alertname and summary and summary != alertname
        else alertname or summary
    )
    description = annotations.get("description") or annotations.get("message") or ""
    if grafana and not description and alone and isinstance(group.get("message"), str):
        description = group["message"].strip()

    values = _float_map(item.get("values"))
    if grafana and not values and isinstance(item.get("valueString"), str):
        for match in _VALUE_STRING.finditer(item["valueString"]):
            number = to_float(match["value"])
            if number is not None:
                values[match["var"]] = number

    link_fields = ("dashboardURL", "panelURL", "generatorURL") if grafana else ("generatorURL",)
    url = next((u for u in (clean_url(item.get(f)) for f in link_fields) if u), "") or clean_url(
        group.get("externalURL")
    )

    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(
            headline,
            group.get("title") if grafana and alone else None,
            fallback=f"Alert {fingerprint}",
        ),
        description=description,
        source_severity=_first(labels, SEVERITY_LABELS).lower(),
        service=_first(labels, SERVICE_LABELS),
        labels=labels,
        annotations=annotations,
        values=values,
        starts_at=starts_at,
        ends_at=ends_at,
        url=url,
        # A repeat notification of the same firing alert keeps its startsAt, so
        # it is the same occurrence; firing again later starts a new one.
        occurrence_key=occurrence_key(
            fingerprint, status, starts_at, ends_at if status == "resolved" else None
        ),
        raw=item,
    )


# Legacy Grafana alerting states (ok, paused -> the rule will never clear it).
_GRAFANA_LEGACY_STATUS = {
    "alerting": "firing",
    "no_data": "firing",
    "pending": "firing",
    "ok": "resolved",
    "paused": "resolved",
}


def _parse_grafana_legacy(payload: dict) -> ParsedAlert:
    state = str(payload.get("state") or "alerting").strip().lower()
    status = _GRAFANA_LEGACY_STATUS.get(state)
    if status is None:
        raise PayloadError(
            f"state must be one of {', '.join(_GRAFANA_LEGACY_STATUS)}, not {state!r}",
            field="state",
        )
    matches = payload.get("evalMatches") or []
    if not isinstance(matches, list):
        raise PayloadError("evalMatches must be a list", field="evalMatches")
    values = {}
    for match in matches:
        if isinstance(match, dict) and (number := to_float(match.get("value"))) is not None:
            values[text(match.get("metric")) or f"value{len(values)}"] = number
    rule_id = payload.get("ruleId")
    identity = ["grafana-legacy", text(payload.get("orgId"))]
    identity += [text(rule_id)] if rule_id else [text(payload.get("ruleName"))]
    fingerprint = derive_fingerprint(*identity)
    labels = str_map(payload.get("tags"), "tags")
    title = payload.get("ruleName") or re.sub(r"^\[[^\]]*\]\s*", "", text(payload.get("title")))
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(title, fallback="Grafana alert"),
        description=text(payload.get("message")),
        source_severity=_first(labels, SEVERITY_LABELS).lower(),
        service=_first(labels, SERVICE_LABELS),
        labels=labels,
        values=values,
        url=clean_url(payload.get("ruleUrl")),
        # Legacy payloads carry no time: each notification is its own occurrence.
        occurrence_key=receipt_key(fingerprint, status),
        raw=payload,
    )


# --- Datadog ---------------------------------------------------------------------

# A template variable Datadog left unsubstituted, e.g. "$ALERT_ID" or "$TAGS[env]".
_DD_UNSET = re.compile(r"^\$[A-Z][A-Z0-9_]*(?:\[[^\]]*\])?$")
# Leading "[P1]", "[Triggered on {host:web-1}]", "[Recovered]" in $EVENT_TITLE.
_DD_BRACKET = re.compile(r"^\s*\[(?P<inner>[^\]]*)\]\s*")
_DD_TRANSITION = re.compile(r"^(?P<word>[A-Za-z][A-Za-z -]*?)(?:\s+on\s+\{(?P<scope>.*)\})?$")
_DD_MONITOR = re.compile(r"/monitors(?:/|#)(\d+)")
_DD_TRANSITIONS = {
    "triggered": "firing",
    "re-triggered": "firing",
    "warn": "firing",
    "re-warn": "firing",
    "warning": "firing",
    "no data": "firing",
    "re-no data": "firing",
    "renotify": "firing",
    "alert": "firing",
    "recovered": "resolved",
    "recovery": "resolved",
    "ok": "resolved",
    "resolved": "resolved",
    "success": "resolved",
}
_DD_ALERT_TYPE_STATUS = {"error": "firing", "warning": "firing", "success": "resolved"}
# Top-level fields that are identifiers or times, never measurements.
_DD_NOT_VALUES = {
    "id",
    "event_id",
    "alert_id",
    "monitor_id",
    "alert_cycle_key",
    "aggreg_key",
    "aggregation_key",
    "aggregate_key",
    "date",
    "last_updated",
    "timestamp",
    "org_id",
    "priority",
    "alert_priority",
    "severity",
    "hostname",
    "host",
}


def parse_datadog(payload: Any) -> list[ParsedAlert]:
    """Datadog Webhooks integration (monitor notifications via ``@webhook-…``).

    There is no fixed schema: the body is the user's template with ``$VARIABLES``
    substituted as strings. Fields are found by the names of Datadog's default
    template and of the documented variables (``title``/``$EVENT_TITLE``,
    ``body``/``$EVENT_MSG``, ``text_only_msg``, ``id``/``$ID``, ``alert_id``,
    ``aggreg_key``, ``alert_cycle_key``, ``alert_transition``, ``alert_type``,
    ``alert_status``, ``alert_priority``, ``priority``, ``tags``, ``alert_scope``,
    ``hostname``, ``link``, ``date``, ``last_updated``…), case-insensitively.
    Variables left unsubstituted (``"$ALERT_ID"``) count as empty.

    1. Status: ``alert_transition`` ("Recovered" -> resolved; "Triggered",
       "Re-Triggered", "Warn", "No Data", "Renotify"… -> firing), else
       ``alert_type`` ("success" -> resolved, "error"/"warning" -> firing), else
       the title's "[Recovered]" / "[Triggered on {…}]" prefix, else firing.
    2. Fingerprint: ``aggreg_key``; else the monitor id (``alert_id``, or the
       ``/monitors/<id>`` link in ``link``/``body``) plus the alert's scope
       (``alert_scope`` or the title's ``{host:…}``) as ``<id>/<scope>``; else
       derived from the title without its status prefix and the host.
    3. Occurrence: ``$ID`` (one per notification), else the date, else each
       notification is its own occurrence.
    """
    payload = _require_object(_load(payload))
    fields = {str(k).lower(): v for k, v in payload.items()}

    def get(*names: str) -> str:
        for name in names:
            value = fields.get(name)
            if isinstance(value, str):
                value = value.strip()
                if value and not _DD_UNSET.match(value):
                    return value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                return text(value)
        return ""

    event_title = get("title", "event_title")
    title, title_priority, title_transition, title_scope = _dd_split_title(event_title)
    transition = get("alert_transition", "transition")
    alert_type = get("alert_type").lower()
    alert_status = get("alert_status")
    status = (
        _DD_TRANSITIONS.get(transition.lower())
        or _generic_status_word(get("status"))
        or _DD_TRANSITIONS.get(alert_status.lower())
        or _DD_ALERT_TYPE_STATUS.get(alert_type)
        or _DD_TRANSITIONS.get(title_transition.lower())
        or "firing"
    )

    labels = _dd_tags(fields.get("tags") if not _dd_unset(fields.get("tags")) else None)
    scope = get("alert_scope", "scope") or title_scope
    if scope in ("*", "*:*"):
        scope = ""
    for key, value in (
        ("host", get("hostname", "host")),
        ("scope", scope),
        ("event_type", get("event_type")),
        ("metric", get("alert_metric")),
        ("org", _dd_org(fields.get("org"), get("org_name"))),
        ("priority", get("priority") if get("priority").lower() in ("normal", "low") else ""),
    ):
        if value and key not in labels:
            labels[key] = value

    priority = get("alert_priority", "severity")
    if not priority and re.fullmatch(r"(?i)p[0-5]", get("priority")):
        priority = get("priority")
    source_severity = (
        priority
        or title_priority
        or (alert_type if alert_type in ("error", "warning", "info") else "")
    ).lower()

    body = get("text_only_msg", "body", "event_msg", "message", "text", "description")
    description = re.sub(r"^\s*%%%\s*|\s*%%%\s*$", "", body).strip()
    link = get("link", "url", "alert_link", "event_link")
    monitor_id = get("alert_id", "monitor_id")
    if not monitor_id and (found := _DD_MONITOR.search(f"{link} {body}")):
        monitor_id = found.group(1)
    aggreg_key = get("aggreg_key", "aggregation_key", "aggregate_key")
    if aggreg_key:
        fingerprint = clean_fingerprint(aggreg_key)
    elif monitor_id:
        fingerprint = clean_fingerprint(f"{monitor_id}/{scope}" if scope else monitor_id)
    else:
        fingerprint = derive_fingerprint(
            "datadog", title or get("alert_title"), labels.get("host", "")
        )

    annotations = {}
    for key, names in (
        ("event_title", ("title", "event_title")),
        ("alert_title", ("alert_title",)),
        ("alert_status", ("alert_status",)),
        ("alert_query", ("alert_query",)),
        ("transition", ("alert_transition", "transition")),
        ("alert_type", ("alert_type",)),
        ("cycle_key", ("alert_cycle_key",)),
        ("snapshot", ("snapshot",)),
    ):
        if value := get(*names):
            annotations[key] = value

    values = {}
    for key, value in fields.items():
        number = None if key in _DD_NOT_VALUES or _dd_unset(value) else to_float(value)
        if number is not None:
            values[key] = number

    when = parse_timestamp(get("date", "last_updated", "timestamp"))
    event_id = get("id", "event_id")
    return [
        ParsedAlert(
            fingerprint=fingerprint,
            status=status,
            title=make_title(
                title,
                get("alert_title"),
                description.splitlines()[0] if description else "",
                fallback=f"Datadog monitor {monitor_id}" if monitor_id else "Datadog alert",
            ),
            description=description,
            source_severity=source_severity,
            service=labels.get("service", ""),
            labels=labels,
            annotations=annotations,
            values=values,
            starts_at=when if status != "resolved" else None,
            ends_at=when if status == "resolved" else None,
            url=clean_url(link),
            occurrence_key=occurrence_key(
                fingerprint, status, transition or alert_type, event_id or when.isoformat()
            )
            if event_id or when
            else receipt_key(fingerprint, status),
            raw=payload,
        )
    ]


def _dd_unset(value: Any) -> bool:
    return isinstance(value, str) and bool(_DD_UNSET.match(value.strip()))


def _dd_split_title(title: str) -> tuple[str, str, str, str]:
    """ "[P1] [Triggered on {host:web-1}] CPU high" -> ("CPU high", "P1",
    "Triggered", "host:web-1"). Other brackets ("[TEST]") stay in the title."""
    priority = transition = scope = ""
    rest = title
    while match := _DD_BRACKET.match(rest):
        inner = match["inner"].strip()
        if not priority and re.fullmatch(r"(?i)p[0-5]", inner):
            priority = inner
        elif (
            not transition
            and (word := _DD_TRANSITION.match(inner))
            and word["word"].strip().lower() in _DD_TRANSITIONS
        ):
            transition, scope = word["word"].strip(), (word["scope"] or "").strip()
        else:
            break
        rest = rest[match.end() :]
    return rest.strip(), priority, transition, scope


def _dd_tags(value: Any) -> dict[str, str]:
    """ "$TAGS" ("env:prod,service:api,critical") -> {"env": "prod", ...}; a tag
    without a colon maps to ""."""
    if isinstance(value, dict):
        return {str(k): text(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [text(v) for v in value]
    elif isinstance(value, str):
        items = value.split(",")
    else:
        return {}
    tags = {}
    for item in items:
        item = item.strip()
        if item:
            key, _, val = item.partition(":")
            tags.setdefault(key.strip(), val.strip())
    return tags


def _dd_org(value: Any, name: str) -> str:
    if isinstance(value, dict):
        org = text(value.get("name")).strip()
        return "" if _dd_unset(org) else org
    return name


# --- Sentry ---------------------------------------------------------------------

_SENTRY_ISSUE_STATUS = {
    "created": "firing",
    "unresolved": "firing",
    "regressed": "firing",
    "escalating": "firing",
    "resolved": "resolved",
    "archived": "resolved",
    "ignored": "resolved",
    "assigned": "acknowledged",
}
_SENTRY_METRIC_STATUS = {"critical": "firing", "warning": "firing", "resolved": "resolved"}
_SENTRY_PROJECT_IN_URL = re.compile(r"/projects/[^/]+/([^/]+)/")
_SENTRY_ISSUE_IN_URL = re.compile(r"/issues/(\d+)")
# Resources that are not alerts: acknowledged with no alert.
_SENTRY_NOT_ALERTS = ("installation", "comment", "seer", "preprod_artifact")


def parse_sentry(payload: Any, *, resource: str | None = None) -> list[ParsedAlert]:
    """Sentry integration-platform webhooks (and the legacy WebHooks plugin).

    The resource is read from the body (``data.event`` + ``triggered_rule`` ->
    ``event_alert``, ``data.issue`` -> ``issue``, ``data.metric_alert`` ->
    ``metric_alert``, ``data.error`` -> ``error``, ``data.installation`` ->
    ``installation``); the ``Sentry-Hook-Resource`` header (``resource``) only
    decides when the body is ambiguous.

    - ``event_alert`` (issue alert rule fired, action "triggered"): firing,
      fingerprint = the issue id, title = the event's title, severity = level.
    - ``issue``: created/unresolved -> firing; resolved, archived/ignored ->
      resolved (the team closed it in Sentry); assigned -> acknowledged.
      Fingerprint = the issue id, so it joins that issue's event alerts.
    - ``metric_alert``: critical/warning -> firing with that severity,
      resolved -> resolved. Fingerprint ``metric_alert:<incident id>``.
    - ``installation``, ``comment``, ``seer``…: not alerts -> ``[]``.
    """
    payload = _require_object(_load(payload))
    data = payload.get("data")
    if data is None and (
        "triggering_rules" in payload or ("event" in payload and "project" in payload)
    ):
        return [_sentry_legacy_plugin(payload)]
    if not isinstance(data, dict):
        raise PayloadError("data must be an object (the Sentry webhook's resource)", field="data")
    action = text(payload.get("action")).strip().lower()
    hint = (resource or "").strip().lower()
    if isinstance(data.get("metric_alert"), dict):
        kind = "metric_alert"
    elif isinstance(data.get("event"), dict):
        kind = "event_alert"
    elif isinstance(data.get("issue"), dict):
        kind = "issue"
    elif isinstance(data.get("error"), dict):
        kind = "error"
    elif hint in ("metric_alert", "event_alert", "issue", "error"):
        field = {"event_alert": "event"}.get(hint, hint)
        raise PayloadError(f"data.{field} must be an object", field=f"data.{field}")
    else:
        return []  # installation, comment, seer…: nothing to alert on
    if kind == "metric_alert":
        return [_sentry_metric_alert(payload, data, action)]
    if kind == "issue":
        return [_sentry_issue(payload, data["issue"], action)]
    event = data["event"] if kind == "event_alert" else data["error"]
    issue_alert = data.get("issue_alert") if isinstance(data.get("issue_alert"), dict) else {}
    rule = text(data.get("triggered_rule") or issue_alert.get("title")).strip()
    return [_sentry_event(payload, event, rule=rule)]


def _sentry_tags(value: Any) -> dict[str, str]:
    """Event tags: [[key, value], …], [{"key":…, "value":…}, …] or an object."""
    if isinstance(value, dict):
        return {str(k): text(v) for k, v in value.items()}
    tags: dict[str, str] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list | tuple) and len(item) == 2:
            tags.setdefault(text(item[0]), text(item[1]))
        elif isinstance(item, dict) and "key" in item:
            tags.setdefault(text(item["key"]), text(item.get("value")))
    return tags


def _sentry_event(payload: dict, event: dict, *, rule: str) -> ParsedAlert:
    issue_id = clean_fingerprint(event.get("issue_id") or event.get("group_id"))
    if not issue_id and (found := _SENTRY_ISSUE_IN_URL.search(text(event.get("issue_url")))):
        issue_id = found.group(1)
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    title = (
        event.get("title")
        or " ".join(
            part for part in (text(metadata.get("type")), text(metadata.get("value"))) if part
        )
        or event.get("message")
    )
    fingerprint = issue_id or derive_fingerprint("sentry", event.get("hashes"), title)
    labels = _sentry_tags(event.get("tags"))
    project = text(event.get("project_slug")) or (
        found.group(1) if (found := _SENTRY_PROJECT_IN_URL.search(text(event.get("url")))) else ""
    )
    for key, value in (
        ("project", project),
        ("level", text(event.get("level"))),
        ("platform", text(event.get("platform"))),
        ("environment", text(event.get("environment"))),
    ):
        if value:
            labels.setdefault(key, value)
    culprit = text(event.get("culprit")).strip()
    annotations = {k: v for k, v in (("triggered_rule", rule), ("culprit", culprit)) if v}
    description = "\n".join(
        line
        for line in (
            f"Sentry alert rule “{rule}” triggered." if rule else "",
            text(event.get("message")).strip() if event.get("message") != title else "",
            f"Culprit: {culprit}" if culprit else "",
        )
        if line
    )
    event_id = text(event.get("event_id") or event.get("id"))
    return ParsedAlert(
        fingerprint=fingerprint,
        status="firing",
        title=make_title(title, fallback=f"Sentry issue {fingerprint}"),
        description=description,
        source_severity=text(event.get("level")).strip().lower(),
        service=project,
        labels=labels,
        annotations=annotations,
        starts_at=parse_timestamp(event.get("datetime")) or parse_timestamp(event.get("timestamp")),
        url=clean_url(event.get("web_url"))
        or clean_url(event.get("issue_url"))
        or clean_url(event.get("url")),
        # Each event is a new occurrence; the same event may fire several rules.
        occurrence_key=occurrence_key(
            fingerprint, "firing", event_id or content_digest(event), rule
        ),
        raw=payload,
    )


def _sentry_issue(payload: dict, issue: dict, action: str) -> ParsedAlert:
    status = _SENTRY_ISSUE_STATUS.get(action) or _SENTRY_ISSUE_STATUS.get(
        text(issue.get("status")).lower(), "firing"
    )
    assigned = issue.get("assignedTo")
    if status == "acknowledged" and not assigned:
        status = "firing"  # un-assigned: nobody owns it any more
    fingerprint = clean_fingerprint(issue.get("id")) or derive_fingerprint(
        "sentry", issue.get("shortId"), issue.get("title")
    )
    project = issue.get("project") if isinstance(issue.get("project"), dict) else {}
    slug = text(project.get("slug") or project.get("name"))
    labels = {
        k: v
        for k, v in (
            ("project", slug),
            ("level", text(issue.get("level"))),
            ("platform", text(issue.get("platform"))),
            ("short_id", text(issue.get("shortId"))),
            ("status", text(issue.get("status"))),
            ("substatus", text(issue.get("substatus"))),
        )
        if v
    }
    culprit = text(issue.get("culprit")).strip()
    annotations = {"culprit": culprit} if culprit else {}
    if isinstance(assigned, dict):
        annotations["assigned_to"] = text(
            assigned.get("name") or assigned.get("email") or assigned.get("id")
        )
    metadata = issue.get("metadata") if isinstance(issue.get("metadata"), dict) else {}
    description = "\n".join(
        line
        for line in (
            text(metadata.get("value")).strip()
            if text(metadata.get("value")) not in text(issue.get("title"))
            else "",
            f"Culprit: {culprit}" if culprit else "",
        )
        if line
    )
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(issue.get("title"), fallback=f"Sentry issue {fingerprint}"),
        description=description,
        source_severity=text(issue.get("level")).strip().lower(),
        service=slug,
        labels=labels,
        annotations=annotations,
        values=_float_map({"count": issue.get("count"), "userCount": issue.get("userCount")}),
        starts_at=parse_timestamp(issue.get("firstSeen")),
        url=clean_url(issue.get("web_url"))
        or clean_url(issue.get("permalink"))
        or clean_url(issue.get("url")),
        # A regression brings a new lastSeen; a new assignee a new assignedTo.
        occurrence_key=occurrence_key(fingerprint, status, action, issue.get("lastSeen"), assigned),
        raw=payload,
    )


def _sentry_metric_alert(payload: dict, data: dict, action: str) -> ParsedAlert:
    incident = data["metric_alert"]
    rule = incident.get("alert_rule") if isinstance(incident.get("alert_rule"), dict) else {}
    status = _SENTRY_METRIC_STATUS.get(action) or (
        "resolved" if incident.get("status") == 2 else "firing"
    )  # IncidentStatus.CLOSED
    incident_id = clean_fingerprint(incident.get("id") or incident.get("identifier"))
    fingerprint = (
        f"metric_alert:{incident_id}"
        if incident_id
        else derive_fingerprint("sentry-metric-alert", rule.get("id"), rule.get("name"))
    )
    projects = [
        text(p)
        for p in incident.get("projects") or rule.get("projects") or []
        if isinstance(p, str | int)
    ]
    labels = {
        k: v
        for k, v in (
            ("alert_rule", text(rule.get("name"))),
            ("aggregate", text(rule.get("aggregate"))),
            ("dataset", text(rule.get("dataset"))),
            ("query", text(rule.get("query"))),
            ("environment", text(rule.get("environment"))),
            ("projects", ",".join(projects)),
        )
        if v
    }
    values = {}
    if (number := to_float(data.get("metric_value"))) is not None:
        values[text(rule.get("aggregate")) or "metric_value"] = number
    started = incident.get("date_started") or incident.get("date_detected")
    # The docs' example carries a literal backslash-n; real newlines pass as they are.
    description = text(data.get("description_text")).replace("\\n", "\n").strip()
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(
            rule.get("name"),
            data.get("description_title"),
            incident.get("title"),
            fallback=f"Sentry metric alert {incident_id}",
        ),
        description=description,
        source_severity=action if action in ("critical", "warning") else "",
        service=projects[0] if projects else "",
        labels=labels,
        annotations={
            k: v
            for k, v in (
                ("description_title", text(data.get("description_title"))),
                ("incident_title", text(incident.get("title"))),
            )
            if v
        },
        values=values,
        starts_at=parse_timestamp(started),
        ends_at=parse_timestamp(incident.get("date_closed")),
        url=clean_url(data.get("web_url")),
        occurrence_key=occurrence_key(
            fingerprint, status, action, started, incident.get("date_closed")
        ),
        raw=payload,
    )


def _sentry_legacy_plugin(payload: dict) -> ParsedAlert:
    """Sentry's legacy "WebHooks" plugin: {id, project, level, culprit, message,
    url, triggering_rules, event}."""
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    fingerprint = clean_fingerprint(payload.get("id")) or derive_fingerprint(
        "sentry", payload.get("project"), payload.get("message")
    )
    project = text(payload.get("project_slug") or payload.get("project"))
    rules = payload.get("triggering_rules")
    rules_text = ", ".join(text(r) for r in rules) if isinstance(rules, list) else ""
    culprit = text(payload.get("culprit")).strip()
    event_id = text(event.get("event_id") or event.get("id"))
    return ParsedAlert(
        fingerprint=fingerprint,
        status="firing",
        title=make_title(
            event.get("title"), payload.get("message"), fallback=f"Sentry issue {fingerprint}"
        ),
        description=f"Culprit: {culprit}" if culprit else "",
        source_severity=text(payload.get("level")).strip().lower(),
        service=project,
        labels={
            k: v
            for k, v in (
                ("project", project),
                ("level", text(payload.get("level"))),
                ("logger", text(payload.get("logger"))),
            )
            if v
        },
        annotations={"triggering_rules": rules_text} if rules_text else {},
        starts_at=parse_timestamp(event.get("datetime")) or parse_timestamp(event.get("timestamp")),
        url=clean_url(payload.get("url")),
        occurrence_key=occurrence_key(fingerprint, "firing", event_id or content_digest(payload)),
        raw=payload,
    )


# --- generic JSON ------------------------------------------------------------------

_GENERIC_STATUS = {
    "firing": "firing",
    "fire": "firing",
    "triggered": "firing",
    "trigger": "firing",
    "alerting": "firing",
    "alert": "firing",
    "problem": "firing",
    "open": "firing",
    "active": "firing",
    "resolved": "resolved",
    "resolve": "resolved",
    "ok": "resolved",
    "recovered": "resolved",
    "closed": "resolved",
    "cleared": "resolved",
    "clear": "resolved",
    "normal": "resolved",
    "acknowledged": "acknowledged",
    "acknowledge": "acknowledged",
    "ack": "acknowledged",
    "acked": "acknowledged",
}


def _generic_status_word(value: str) -> str | None:
    return _GENERIC_STATUS.get(value.strip().lower()) if value else None


def parse_generic(payload: Any) -> list[ParsedAlert]:
    """TreeBeard's generic alert JSON, for scripts and tools without a parser.

    ``POST /api/v1/integrations/<token>/generic/`` with one alert::

        {
          "title": "Checkout 5xx above 5%",        # required, non-blank string
          "status": "firing",                      # firing | resolved | acknowledged
          "dedup_key": "checkout-5xx",             # or "fingerprint"
          "severity": "critical",                  # your tool's label or P0..P3
          "service": "checkout",
          "description": "Longer text, Markdown welcome.",
          "labels": {"env": "prod", "region": "eu-1"},
          "values": {"error_rate": 0.072, "p95_latency_ms": 3400},
          "url": "https://grafana.example.com/d/abc",
          "timestamp": "2026-11-28T00:59:31Z"
        }

    or several at once: ``{"alerts": [ {…}, {…} ]}`` (a bare JSON array of
    alerts is accepted too). Each alert is handled on its own.

    Fields:

    - ``title`` (required): one line, cut to 200 characters.
    - ``status`` (default ``firing``): also accepted ``triggered``/``alerting``
      (firing), ``ok``/``recovered``/``closed`` (resolved), ``ack`` (acknowledged).
    - ``dedup_key`` or ``fingerprint`` (string or number): alerts with the same
      key are the same ongoing problem — they join one incident, and
      ``resolved`` with that key resolves it. Without one, the key is derived
      from title, service and labels (never from the description or values).
    - ``severity``: the tool's own label (``critical``, ``error``/``high``,
      ``warning``, ``info``/``low``…) or ``P0``..``P3``; the integration's
      severity mapping applies to it.
    - ``service``: the affected service's name.
    - ``description``: free text (``message`` is accepted as an alias).
    - ``labels`` (and ``annotations``): objects of strings (numbers and
      booleans are turned into strings).
    - ``values``: numeric signals, e.g. ``error_rate`` (0.072 or 7.2 — a
      value ≤ 1 is a fraction), ``p95_latency_ms``; a string with a unit
      (``"7.2%"``, ``"3.4s"``) is kept as is in ``annotations``.
    - ``url``: an http(s) link back to the source.
    - ``timestamp``: ISO 8601 / RFC 3339 (or epoch seconds/milliseconds) of
      the event: when it started for ``firing``, when it ended for
      ``resolved``. Send it: it is what tells a retry of the same
      notification (same key: recorded once) from a new one. Without it every
      POST counts, like a PagerDuty event: a repeated ``firing`` joins the
      open incident of its dedup key, a repeated ``resolved`` changes nothing.

    Errors answer 400 and name the field, e.g. ``alerts[2].labels must be an object``.
    """
    payload = _load(payload)
    if isinstance(payload, list):
        items, prefix = payload, ""
    else:
        payload = _require_object(payload)
        if "alerts" not in payload:
            return [_generic_alert(payload, "")]
        items, prefix = payload["alerts"], "alerts"
        if not isinstance(items, list):
            raise PayloadError("alerts must be a list of alert objects", field="alerts")
    alerts = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]"
        if not isinstance(item, dict):
            raise PayloadError(f"{where} must be an object", field=where)
        alerts.append(_generic_alert(item, f"{where}."))
    return alerts


def _generic_alert(item: dict, prefix: str) -> ParsedAlert:
    def where(name: str) -> str:
        return f"{prefix}{name}"

    def string(name: str, *, numbers: bool = False) -> str:
        value = item.get(name)
        if value is None:
            return ""
        if isinstance(value, str):
            return value.strip()
        if numbers and isinstance(value, int | float) and not isinstance(value, bool):
            return text(value)
        raise PayloadError(f"{where(name)} must be a string", field=where(name))

    if "title" not in item or item["title"] is None:
        raise PayloadError(f"{where('title')} is required", field=where("title"))
    title = string("title")
    if not title:
        raise PayloadError(f"{where('title')} must not be blank", field=where("title"))

    status_word = string("status")
    status = _generic_status_word(status_word) if status_word else "firing"
    if status is None:
        raise PayloadError(
            f"{where('status')} must be one of firing, resolved, acknowledged "
            f"(not {status_word!r})",
            field=where("status"),
        )

    labels = _scalar_map(item.get("labels"), where("labels"))
    annotations = _scalar_map(item.get("annotations"), where("annotations"))
    raw_values = item.get("values")
    if raw_values is not None and not isinstance(raw_values, dict):
        raise PayloadError(f"{where('values')} must be an object", field=where("values"))
    values = {}
    for key, value in (raw_values or {}).items():
        number = to_float(value)
        if number is not None:
            values[str(key)] = number
        elif isinstance(value, str) and value.strip():
            annotations.setdefault(str(key), value.strip())  # "7.2%", "3400ms": unit kept
        else:
            name = where(f"values.{key}")
            raise PayloadError(f"{name} must be a number", field=name)

    times = {}
    for name in ("timestamp", "starts_at", "ends_at"):
        value = item.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PayloadError(f"{where(name)} must be an ISO 8601 date-time", field=where(name))
        try:
            times[name] = parse_timestamp(value, strict=True)
        except ValueError:
            raise PayloadError(
                f"{where(name)} must be an ISO 8601 date-time, like 2026-11-28T00:59:31Z",
                field=where(name),
            ) from None
    stamp = times.get("timestamp")
    starts_at = times.get("starts_at") or (stamp if status != "resolved" else None)
    ends_at = times.get("ends_at") or (stamp if status == "resolved" else None)

    service = string("service")
    key = string("dedup_key", numbers=True) or string("fingerprint", numbers=True)
    fingerprint = clean_fingerprint(key) or derive_fingerprint(
        "generic", one_line(title), service, sorted(labels.items())
    )
    when = stamp or starts_at or ends_at
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(title, fallback="Alert"),
        description=string("description") or string("message"),
        source_severity=string("severity", numbers=True).lower(),
        service=service,
        labels=labels,
        annotations=annotations,
        values=values,
        starts_at=starts_at,
        ends_at=ends_at,
        url=clean_url(string("url")),
        occurrence_key=occurrence_key(fingerprint, status, when.isoformat())
        if when
        else receipt_key(fingerprint, status),
        raw=item,
    )


def _scalar_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object", field=where)
    result = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            name = f"{where}.{key}"
            raise PayloadError(f"{name} must be a string, number or boolean", field=name)
        result[str(key)] = text(item)
    return result


__all__ = [
    "KINDS",
    "parse",
    "parse_alertmanager",
    "parse_datadog",
    "parse_generic",
    "parse_grafana",
    "parse_sentry",
]
