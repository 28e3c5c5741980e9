"""PagerDuty Events API v2 (``POST /v2/enqueue``): anything that can page
PagerDuty can page TreeBeard.

``parse_event`` validates like PagerDuty (every problem listed, in PagerDuty's
wording style, for the 400 ``{"status": "invalid event", "errors": [...]}``)
and returns the routing key with one ``ParsedAlert``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..safejson import find_problem
from .types import (
    Batch,
    ParsedAlert,
    PayloadError,
    alert_problem,
    clean_fingerprint,
    clean_url,
    load_json,
    make_title,
    normalise,
    one_line,
    parse_timestamp,
    receipt_key,
    text,
    to_float,
)

EVENT_ACTIONS = {"trigger": "firing", "acknowledge": "acknowledged", "resolve": "resolved"}
SEVERITIES = ("critical", "error", "warning", "info")
DEDUP_KEY_MAX = 255


class PagerDutyEventError(PayloadError):
    """An event PagerDuty would refuse with 400 "invalid event"; ``errors``
    lists every problem found."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message, field=None)
        self.errors = list(errors)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decode(body: Any) -> Any:
    """The body decoded strictly (``safejson``, as every entry point)."""
    try:
        return load_json(body)
    except PayloadError as exc:
        # PagerDuty's own words for a body it cannot read; ours for the rest.
        unreadable = exc.message.startswith("Body is not valid JSON")
        raise PagerDutyEventError(
            "Event object format is unrecognized",
            ["JSON parse error"] if unreadable else [exc.message],
        ) from None


def parse_event(payload: Any) -> tuple[str, ParsedAlert]:
    """Return ``(routing_key, alert)`` for one Events API v2 body.

    1. Validate, collecting every error: ``routing_key`` present;
       ``event_action`` one of trigger/acknowledge/resolve; ``dedup_key`` a
       string of at most 255 characters, required for acknowledge/resolve;
       for trigger, ``payload`` with non-blank ``summary``, ``source`` and
       ``severity`` (critical/error/warning/info, any case); ``links`` and
       ``images`` arrays when present.
    2. Map: trigger -> firing, acknowledge -> acknowledged, resolve -> resolved;
       ``summary`` -> title (one line, 200 chars; the full text goes to the
       description when cut), ``severity`` -> source_severity, ``component`` ->
       service, source/component/group/class/client -> labels,
       ``custom_details`` -> annotations (as text) and, where numeric, values;
       ``timestamp`` -> starts_at (an unreadable timestamp is ignored rather
       than losing the alert, but one out of range is an error: no page could
       show it); the first link (else ``client_url``) -> url.
    3. Keys: fingerprint = ``dedup_key``. **A trigger without ``dedup_key``
       gets fingerprint "" and occurrence_key ""**: the caller generates the
       dedup key (as PagerDuty does, returning it in the 202) and the
       occurrence key, so every such trigger is a new alert. Otherwise the
       occurrence key is unique to this call (``receipt_key``): like
       PagerDuty, every event counts and the dedup key does the grouping. An
       event body has no id, and an identical trigger after a resolve (or an
       identical resolve in the next cycle — their bodies never differ) is a
       new occurrence, not a replay; a repeated trigger for an open incident
       just joins it, a repeated acknowledge/resolve changes nothing.

    Every string must be storable: a NUL character or a lone surrogate is an
    error naming where it is. The routing key is left out of ``raw``: it is
    the integration's secret.
    """
    body = _decode(payload)
    if not isinstance(body, dict):
        raise PagerDutyEventError("Event object is invalid", ["Event object must be a JSON object"])
    errors: list[str] = []
    if found := find_problem(body):
        errors.append(f"'{found[0] or 'body'}' {found[1]}")

    routing_key = body.get("routing_key")
    if _blank(routing_key) or not isinstance(routing_key, str):
        errors.append("'routing_key' is missing or blank")
        routing_key = ""
    routing_key = routing_key.strip()

    action_raw = body.get("event_action")
    action = action_raw.strip().lower() if isinstance(action_raw, str) else ""
    if action not in EVENT_ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")

    dedup_raw = body.get("dedup_key")
    dedup_key = ""
    if isinstance(dedup_raw, str):
        dedup_key = dedup_raw.strip()
    elif isinstance(dedup_raw, int) and not isinstance(dedup_raw, bool):
        dedup_key = str(dedup_raw)
    elif dedup_raw is not None:
        errors.append("'dedup_key' must be a string")
    if len(dedup_key) > DEDUP_KEY_MAX:
        errors.append(f"'dedup_key' must be at most {DEDUP_KEY_MAX} characters")
    if (
        action in ("acknowledge", "resolve")
        and not dedup_key
        and (dedup_raw is None or isinstance(dedup_raw, str))
    ):
        errors.append(f"'dedup_key' is missing or blank (required to {action})")

    details_payload = body.get("payload")
    if details_payload is not None and not isinstance(details_payload, dict):
        errors.append("'payload' must be an object")
        details_payload = None
    event = details_payload or {}
    severity = ""
    if action == "trigger":
        if details_payload is None:
            errors.append("'payload' is missing (required to trigger)")
        else:
            for name in ("summary", "source", "severity"):
                if _blank(event.get(name)):
                    errors.append(f"'payload.{name}' is missing or blank")
                elif not isinstance(event.get(name), str):
                    errors.append(f"'payload.{name}' must be a string")
            if isinstance(event.get("severity"), str) and event["severity"].strip():
                severity = event["severity"].strip().lower()
                if severity not in SEVERITIES:
                    errors.append(
                        "'payload.severity' must be one of critical, error, warning, info"
                    )
    elif isinstance(event.get("severity"), str):
        severity = event["severity"].strip().lower()

    for name, required in (("links", "href"), ("images", "src")):
        items = body.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append(f"'{name}' must be an array")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or _blank(item.get(required)):
                errors.append(f"'{name}[{index}].{required}' is missing or blank")

    starts_at = None
    if action == "trigger":
        try:
            starts_at = parse_timestamp(event.get("timestamp"), field="payload.timestamp")
        except PayloadError as exc:
            errors.append(exc.message)

    if errors:
        raise PagerDutyEventError("Event object is invalid", errors)
    alert = normalise(_alert(body, action, dedup_key, event, severity, starts_at))
    if problem := alert_problem(alert):
        raise PagerDutyEventError("Event object is invalid", [f"'{problem[0]}' {problem[1]}"])
    return routing_key, alert


def batch(payload: Any, *, headers=None) -> Batch:
    """An Events API v2 event posted to an integration URL of kind ``pagerduty``."""
    return Batch([parse_event(payload)[1]])


def _alert(
    body: dict,
    action: str,
    dedup_key: str,
    event: dict,
    severity: str,
    starts_at: datetime | None,
) -> ParsedAlert:
    status = EVENT_ACTIONS[action]
    fingerprint = clean_fingerprint(dedup_key)
    summary = text(event.get("summary")).strip()

    labels = {}
    for name in ("source", "component", "group", "class"):
        if value := text(event.get(name)).strip():
            labels[name] = value
    if client := text(body.get("client")).strip():
        labels["client"] = client

    details = event.get("custom_details")
    annotations: dict[str, str] = {}
    values: dict[str, float] = {}
    extra = ""
    if isinstance(details, dict):
        for key, value in details.items():
            annotations[str(key)] = text(value)
            number = to_float(value)
            if number is not None:
                values[str(key)] = number
    elif details not in (None, ""):
        extra = text(details)

    lines = [summary] if summary and one_line(summary) != summary else []
    lines += [f"{k}: {v}" for k, v in annotations.items()]
    if extra:
        lines.append(extra)

    links = [clean_url(link.get("href")) for link in body.get("links") or []]
    url = next((link for link in links if link), "") or clean_url(body.get("client_url"))

    raw = {k: v for k, v in body.items() if k != "routing_key"}
    verb = {"acknowledged": "Acknowledged", "resolved": "Resolved"}.get(status, "Triggered")
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(summary, fallback=f"{verb}: {dedup_key}" if dedup_key else verb),
        description="\n".join(lines),
        source_severity=severity,
        service=labels.get("component", ""),
        labels=labels,
        annotations=annotations,
        values=values,
        starts_at=starts_at,
        url=url,
        occurrence_key=receipt_key(fingerprint, status) if fingerprint else "",
        raw=raw,
    )


__all__ = ["EVENT_ACTIONS", "SEVERITIES", "PagerDutyEventError", "parse_event"]
