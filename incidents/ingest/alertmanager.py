"""Prometheus Alertmanager webhooks (and Alertmanager's own alert API bodies).

Grafana's unified alerting sends a superset of this payload: ``grafana.py``
reads it with ``group_batch`` and a ``Flavour`` of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import clock
from .common import (
    SERVICE_LABELS,
    SEVERITY_LABELS,
    each_alert,
    first,
    float_map,
    require_object,
)
from .types import (
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
    str_map,
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


@dataclass(frozen=True)
class Flavour:
    """What one tool adds to the Alertmanager payload it sends."""

    # Where an alert's link is, first found wins; the group's externalURL last.
    link_fields: tuple[str, ...] = ("generatorURL",)
    # A lone alert without a name or description takes the group's rendered
    # ``title`` / ``message`` (Grafana's templates).
    group_text: bool = False
    # Values read from a text field when ``values`` is absent (Grafana's valueString).
    values_from_text: tuple[str, Callable[[str], dict[str, float]]] | None = None


ALERTMANAGER = Flavour()


def parse_alertmanager(payload: Any) -> list[ParsedAlert]:
    """Prometheus Alertmanager ``webhook_configs`` payload (``version`` "4").

    Also accepted: a JSON array of alerts as posted to Alertmanager's own
    ``/api/v2/alerts`` (no fingerprint: one is derived from the labels; no
    status: resolved once ``endsAt`` has passed) and Grafana's payload, which
    is a superset of this one. ``PayloadError`` for the first refused alert;
    ``batch`` keeps the others.
    """
    return batch(payload).strict()


def batch(payload: Any, *, headers=None) -> Batch:
    return group_batch(load_json(payload), ALERTMANAGER)


def group_batch(payload: Any, flavour: Flavour) -> Batch:
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
        lambda item, where: _am_alert(item, where, group=group, flavour=flavour, alone=alone),
    )


def _am_status(item: dict, where: str, ends_at: datetime | None) -> str:
    raw = item.get("status")
    if isinstance(raw, dict):  # GET /api/v2/alerts: {"state": "active", ...}
        raw = raw.get("state")
    if raw is None or raw == "":
        # Posted to Alertmanager's API: resolved once endsAt has passed.
        return "resolved" if ends_at and ends_at <= clock.now() else "firing"
    if not isinstance(raw, str):
        raise PayloadError(f"{where}.status must be a string", field=f"{where}.status")
    status = _AM_STATUS.get(raw.strip().lower())
    if status is None:
        raise PayloadError(
            f"{where}.status must be 'firing' or 'resolved', not {raw!r}", field=f"{where}.status"
        )
    return status


def _am_alert(item: dict, where: str, *, group: dict, flavour: Flavour, alone: bool) -> ParsedAlert:
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
    if flavour.group_text and not description and alone and isinstance(group.get("message"), str):
        description = group["message"].strip()

    values = float_map(item.get("values"))
    if flavour.values_from_text and not values:
        field, read = flavour.values_from_text
        if isinstance(item.get(field), str):
            values = read(item[field])

    url = next(
        (u for u in map(clean_url, map(item.get, flavour.link_fields)) if u), ""
    ) or clean_url(group.get("externalURL"))

    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(
            headline,
            group.get("title") if flavour.group_text and alone else None,
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
