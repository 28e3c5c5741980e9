"""Sentry integration-platform webhooks and the legacy WebHooks plugin."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .common import float_map, header, load_object, one_alert
from .types import (
    Batch,
    ParsedAlert,
    PayloadError,
    clean_fingerprint,
    clean_url,
    content_digest,
    derive_fingerprint,
    make_title,
    occurrence_key,
    parse_timestamp,
    text,
    to_float,
)

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
    payload = load_object(payload)
    data = payload.get("data")
    if data is None and (
        "triggering_rules" in payload or ("event" in payload and "project" in payload)
    ):
        return one_alert(_sentry_legacy_plugin(payload))
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
        return one_alert(_sentry_metric_alert(payload, data, action))
    if kind == "issue":
        return one_alert(_sentry_issue(payload, data["issue"], action))
    kind_field = "event" if kind == "event_alert" else "error"
    event = data[kind_field]
    issue_alert = data.get("issue_alert") if isinstance(data.get("issue_alert"), dict) else {}
    rule = text(data.get("triggered_rule") or issue_alert.get("title")).strip()
    return one_alert(_sentry_event(payload, event, rule=rule, where=f"data.{kind_field}"))


def batch(payload: Any, *, headers: Mapping[str, str] | None = None) -> Batch:
    """``Sentry-Hook-Resource`` is a hint; every body is understood on its own."""
    return Batch(parse_sentry(payload, resource=header(headers, "Sentry-Hook-Resource")))


def _present(**fields: str) -> dict[str, str]:
    """The fields that have a value, in order: Sentry leaves unknowns empty
    or null, and a label or annotation without a value says nothing."""
    return {name: value for name, value in fields.items() if value}


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


def _event_time(event: dict, where: str):
    return parse_timestamp(event.get("datetime"), field=f"{where}.datetime") or parse_timestamp(
        event.get("timestamp"), field=f"{where}.timestamp"
    )


def _sentry_event(payload: dict, event: dict, *, rule: str, where: str) -> ParsedAlert:
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
    for key, value in _present(
        project=project,
        level=text(event.get("level")),
        platform=text(event.get("platform")),
        environment=text(event.get("environment")),
    ).items():
        labels.setdefault(key, value)  # the event's own tags win
    culprit = text(event.get("culprit")).strip()
    annotations = _present(triggered_rule=rule, culprit=culprit)
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
        starts_at=_event_time(event, where),
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
    labels = _present(
        project=slug,
        level=text(issue.get("level")),
        platform=text(issue.get("platform")),
        short_id=text(issue.get("shortId")),
        status=text(issue.get("status")),
        substatus=text(issue.get("substatus")),
    )
    culprit = text(issue.get("culprit")).strip()
    annotations = _present(culprit=culprit)
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
        values=float_map({"count": issue.get("count"), "userCount": issue.get("userCount")}),
        starts_at=parse_timestamp(issue.get("firstSeen"), field="data.issue.firstSeen"),
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
        for p in _list(incident.get("projects")) or _list(rule.get("projects"))
        if isinstance(p, str | int)
    ]
    labels = _present(
        alert_rule=text(rule.get("name")),
        aggregate=text(rule.get("aggregate")),
        dataset=text(rule.get("dataset")),
        query=text(rule.get("query")),
        environment=text(rule.get("environment")),
        projects=",".join(projects),
    )
    values = {}
    if (number := to_float(data.get("metric_value"))) is not None:
        values[text(rule.get("aggregate")) or "metric_value"] = number
    started_field = "date_started" if incident.get("date_started") else "date_detected"
    started = incident.get(started_field)
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
        annotations=_present(
            description_title=text(data.get("description_title")),
            incident_title=text(incident.get("title")),
        ),
        values=values,
        starts_at=parse_timestamp(started, field=f"data.metric_alert.{started_field}"),
        ends_at=parse_timestamp(incident.get("date_closed"), field="data.metric_alert.date_closed"),
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
        labels=_present(
            project=project,
            level=text(payload.get("level")),
            logger=text(payload.get("logger")),
        ),
        annotations=_present(triggering_rules=rules_text),
        starts_at=_event_time(event, "event"),
        url=clean_url(payload.get("url")),
        occurrence_key=occurrence_key(fingerprint, "firing", event_id or content_digest(payload)),
        raw=payload,
    )


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
