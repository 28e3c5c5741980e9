"""Prometheus Alertmanager and Grafana (unified and legacy alerting) webhooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..types import (
    Batch,
    ParsedAlert,
    PayloadError,
    check_text,
    clean_fingerprint,
    clean_url,
    derive_fingerprint,
    load_json,
    make_title,
    occurrence_key,
    parse_timestamp,
    receipt_key,
    str_map,
    text,
    to_float,
)
from .common import (
    SERVICE_LABELS,
    SEVERITY_LABELS,
    each_alert,
    first,
    float_map,
    one_alert,
    require_object,
)

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
# Read one "[ … ]" at a time: a single pattern spanning var= … value= re-scanned
# the rest of the text from every "var='", quadratic in a hostile body.
_VALUE_VAR = re.compile(r"var='(?P<var>[^']*)'")
_VALUE_NUMBER = re.compile(r"\bvalue=(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


def parse_alertmanager(payload: Any) -> list[ParsedAlert]:
    """Prometheus Alertmanager ``webhook_configs`` payload (``version`` "4").

    Also accepted: a JSON array of alerts as posted to Alertmanager's own
    ``/api/v2/alerts`` (no fingerprint: one is derived from the labels; no
    status: resolved once ``endsAt`` has passed) and Grafana's payload, which
    is a superset of this one. ``PayloadError`` for the first refused alert;
    ``alertmanager_batch`` keeps the others.
    """
    return alertmanager_batch(payload).strict()


def alertmanager_batch(payload: Any) -> Batch:
    return _am_like_batch(load_json(payload), grafana=False)


def parse_grafana(payload: Any) -> list[ParsedAlert]:
    """Grafana unified alerting webhook contact point (``version`` "1").

    Per alert as in Alertmanager, plus ``values`` (refID -> number; may be
    absent or ``null``, then read from ``valueString``) and the dashboard/panel
    links. The group's ``title``/``message`` are rendered templates, used only
    when an alert has no name or description of its own. Legacy Grafana
    alerting (``ruleName``/``state``/``evalMatches``, Grafana <= 8) is accepted.
    """
    return grafana_batch(payload).strict()


def grafana_batch(payload: Any) -> Batch:
    payload = load_json(payload)
    if (
        isinstance(payload, dict)
        and "alerts" not in payload
        and ("ruleName" in payload or "evalMatches" in payload or "ruleId" in payload)
    ):
        check_text(payload, path="")
        return Batch(one_alert(_parse_grafana_legacy(payload)))
    return _am_like_batch(payload, grafana=True)


def _am_like_batch(payload: Any, *, grafana: bool) -> Batch:
    """Each alert of the group on its own (see ``each_alert``); a problem in
    the group's own fields refuses the body."""
    if isinstance(payload, list):  # Alertmanager API v2 body: an array of alerts
        group: dict = {}
        items, prefix = payload, ""
    else:
        group = require_object(payload)
        items, prefix = group.get("alerts"), "alerts"
        if items is None:
            raise PayloadError("alerts is required (the list of alerts)", field="alerts")
        if not isinstance(items, list):
            raise PayloadError("alerts must be a list", field="alerts")
        check_text({k: v for k, v in group.items() if k != "alerts"}, path="")
    alone = len(items) == 1
    return each_alert(
        items,
        prefix,
        lambda item, where: _am_alert(item, where, group=group, grafana=grafana, alone=alone),
    )


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
    starts_at = parse_timestamp(item.get("startsAt"), field=f"{where}.startsAt")
    ends_at = parse_timestamp(item.get("endsAt"), field=f"{where}.endsAt")
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

    values = float_map(item.get("values"))
    if grafana and not values and isinstance(item.get("valueString"), str):
        values = _value_string(item["valueString"])

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
        source_severity=first(labels, SEVERITY_LABELS).lower(),
        service=first(labels, SERVICE_LABELS),
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
        source_severity=first(labels, SEVERITY_LABELS).lower(),
        service=first(labels, SERVICE_LABELS),
        labels=labels,
        values=values,
        url=clean_url(payload.get("ruleUrl")),
        # Legacy payloads carry no time: each notification is its own occurrence.
        occurrence_key=receipt_key(fingerprint, status),
        raw=payload,
    )


def _value_string(value_string: str) -> dict[str, float]:
    """refID -> number from Grafana's ``valueString``, in linear time."""
    values = {}
    for piece in value_string.split("]"):
        var = _VALUE_VAR.search(piece)
        found = var and _VALUE_NUMBER.search(piece, var.end())
        if found and (number := to_float(found["value"])) is not None:
            values[var["var"]] = number
    return values
