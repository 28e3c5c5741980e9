"""Grafana alerting webhooks: unified alerting (Grafana 9+, an Alertmanager
payload with values and dashboard links) and legacy alerting (Grafana <= 8)."""

from __future__ import annotations

import re
from typing import Any

from .alertmanager import Flavour, group_batch
from .common import SERVICE_LABELS, SEVERITY_LABELS, first, one_alert
from .types import (
    Batch,
    ParsedAlert,
    PayloadError,
    check_text,
    clean_url,
    derive_fingerprint,
    load_json,
    make_title,
    receipt_key,
    str_map,
    text,
    to_float,
)

# Grafana's "valueString": [ var='A' labels={...} value=2.47e+09 ], [ var='B' ... ]
# Read one "[ … ]" at a time: a single pattern spanning var= … value= re-scanned
# the rest of the text from every "var='", quadratic in a hostile body.
_VALUE_VAR = re.compile(r"var='(?P<var>[^']*)'")
_VALUE_NUMBER = re.compile(r"\bvalue=(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


def parse_grafana(payload: Any) -> list[ParsedAlert]:
    """Grafana unified alerting webhook contact point (``version`` "1").

    Per alert as in Alertmanager, plus ``values`` (refID -> number; may be
    absent or ``null``, then read from ``valueString``) and the dashboard/panel
    links. The group's ``title``/``message`` are rendered templates, used only
    when an alert has no name or description of its own. Legacy Grafana
    alerting (``ruleName``/``state``/``evalMatches``, Grafana <= 8) is accepted.
    """
    return batch(payload).strict()


def batch(payload: Any, *, headers=None) -> Batch:
    payload = load_json(payload)
    if (
        isinstance(payload, dict)
        and "alerts" not in payload
        and ("ruleName" in payload or "evalMatches" in payload or "ruleId" in payload)
    ):
        check_text(payload, path="")
        return Batch(one_alert(_parse_grafana_legacy(payload)))
    return group_batch(payload, GRAFANA)


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


def value_string(value_string: str) -> dict[str, float]:
    """refID -> number from Grafana's ``valueString``, in linear time."""
    values = {}
    for piece in value_string.split("]"):
        var = _VALUE_VAR.search(piece)
        found = var and _VALUE_NUMBER.search(piece, var.end())
        if found and (number := to_float(found["value"])) is not None:
            values[var["var"]] = number
    return values


GRAFANA = Flavour(
    link_fields=("dashboardURL", "panelURL", "generatorURL"),
    group_text=True,
    values_from_text=("valueString", value_string),
)
