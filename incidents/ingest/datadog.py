"""Datadog Webhooks integration (monitor notifications via ``@webhook-…``)."""

from __future__ import annotations

import re
from typing import Any

from .common import load_object, one_alert, status_word
from .types import (
    Batch,
    ParsedAlert,
    clean_fingerprint,
    clean_url,
    derive_fingerprint,
    make_title,
    occurrence_key,
    parse_timestamp,
    receipt_key,
    text,
    to_float,
)

# A template variable Datadog left unsubstituted, e.g. "$ALERT_ID" or "$TAGS[env]".
_DD_UNSET = re.compile(r"^\$[A-Z][A-Z0-9_]*(?:\[[^\]]*\])?$")
# Leading "[P1]", "[Triggered on {host:web-1}]", "[Recovered]" in $EVENT_TITLE.
_DD_BRACKET = re.compile(r"^\s*\[(?P<inner>[^\]]*)\]\s*")
# The word is short ("Re-No Data"): bounded, or a long bracket of spaces made
# the lazy match retry the rest of the text at every step (quadratic).
_DD_TRANSITION = re.compile(r"^(?P<word>[A-Za-z][A-Za-z -]{0,30}?)(?:\s+on\s+\{(?P<scope>.*)\})?$")
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
    payload = load_object(payload)
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
        or status_word(get("status"))
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

    date_field = next((n for n in ("date", "last_updated", "timestamp") if get(n)), "date")
    when = parse_timestamp(get(date_field), field=date_field)
    event_id = get("id", "event_id")
    return one_alert(
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
    )


def batch(payload: Any, *, headers=None) -> Batch:
    return Batch(parse_datadog(payload))


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
