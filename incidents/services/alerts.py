"""Alert ingestion: store every alert, then open, join, acknowledge or resolve
incidents by fingerprint (the parsing of each tool's payload is in ingest/)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.db import DataError, IntegrityError, transaction
from django.db.models import F

from .. import clock
from ..errors import DomainError
from ..ingest.severity import suggest_severity
from ..ingest.types import ParsedAlert
from ..models import (
    Alert,
    AlertAction,
    AlertGroupKey,
    AlertStatus,
    EventKind,
    Incident,
    Integration,
    Source,
    TimelineEvent,
)
from ..timebounds import typed_time_problem
from .incidents import incident_acknowledge, incident_declare, incident_resolve

log = logging.getLogger(__name__)

# Sender clocks drift; a start time further ahead than this is replaced by "now".
_MAX_FUTURE_SECONDS = 300
# Outcome of an alert the database would not hold (see ingest()).
NOT_STORED = "not_stored"


@dataclass
class AlertOutcome:
    fingerprint: str
    status: str
    action: str
    incident: str | None
    duplicate: bool
    severity: str = ""

    def as_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "action": self.action,
            "incident": self.incident,
            "duplicate": self.duplicate,
            "severity": self.severity,
        }


def _clip(value: str, length: int) -> str:
    return (value or "")[:length]


def ensure_keys(parsed: ParsedAlert) -> ParsedAlert:
    """A PagerDuty trigger without dedup_key gets a fresh one (as PagerDuty does)."""
    if not parsed.fingerprint:
        parsed.fingerprint = uuid.uuid4().hex
    if not parsed.occurrence_key:
        parsed.occurrence_key = hashlib.sha256(
            f"{parsed.fingerprint}|{parsed.status}|{parsed.starts_at}|{parsed.ends_at}".encode()
        ).hexdigest()
    return parsed


def _store(integration: Integration, kind: str, parsed: ParsedAlert) -> tuple[Alert, bool]:
    """Step 1, committed on its own: the alert as received. Returns (row, created)."""
    severity, reasons = suggest_severity(parsed, integration.severity_mapping)
    alert = Alert(
        integration=integration,
        kind=kind,
        fingerprint=_clip(parsed.fingerprint, 128),
        occurrence_key=_clip(parsed.occurrence_key, 64),
        status=parsed.status,
        title=_clip(parsed.title, 200) or "Untitled alert",
        description=parsed.description or "",
        source_severity=_clip(parsed.source_severity, 40),
        severity=severity,
        severity_reasons=reasons,
        service=_clip(parsed.service, 100),
        labels=parsed.labels or {},
        annotations=parsed.annotations or {},
        values=parsed.values or {},
        url=_clip(parsed.url, 1000),
        starts_at=parsed.starts_at,
        ends_at=parsed.ends_at,
        received_at=clock.now(),
        raw=parsed.raw or {},
    )
    try:
        with transaction.atomic():
            alert.save(force_insert=True)
        return alert, True
    except IntegrityError:
        existing = Alert.objects.get(integration=integration, occurrence_key=alert.occurrence_key)
        return existing, False


def _lock_group(integration: Integration, fingerprint: str) -> AlertGroupKey:
    """Upsert the fingerprint's group row and lock it until commit."""
    AlertGroupKey.objects.bulk_create(
        [AlertGroupKey(integration=integration, fingerprint=fingerprint)],
        ignore_conflicts=True,
    )
    return (
        AlertGroupKey.objects.select_for_update(of=("self",))
        .select_related("incident")
        .get(integration=integration, fingerprint=fingerprint)
    )


def _note(incident: Incident, alert: Alert, message: str) -> None:
    TimelineEvent.record(
        incident,
        EventKind.ALERT_RECEIVED,
        None,
        at=alert.received_at,
        message=message,
        detail={
            "alert_id": alert.pk,
            "kind": alert.kind,
            "fingerprint": alert.fingerprint,
            "status": alert.status,
            "source_severity": alert.source_severity,
            "severity_reasons": alert.severity_reasons,
            "url": alert.url,
        },
    )


def _detected_at(alert: Alert):
    # A sender's start time that no person could type (Grafana's zero time
    # 0001-01-01, a year-9999 typo) is replaced by "now" rather than refused:
    # one odd timestamp must not lose the alert.
    now = clock.now()
    start = alert.starts_at
    if start is None or (start - now).total_seconds() > _MAX_FUTURE_SECONDS:
        return now
    if typed_time_problem(start, allow_future=False, now=now):
        return now
    return min(start, now)


@transaction.atomic
def _route(integration: Integration, alert: Alert) -> Alert:
    """Step 2: act on the alert.

    1. Lock the fingerprint's group row (serialises alerts of one fingerprint).
    2. Firing: join the open incident of the group (count it) or declare a
       new one with the suggested severity and its reasons.
    3. Resolved / acknowledged: note it on the open incident and, where the
       integration says so, resolve or acknowledge it.
    4. Record what was done on the alert row.
    """
    group = _lock_group(integration, alert.fingerprint)
    incident = group.incident if group.incident and group.incident.is_open else None
    label = integration.get_kind_display()
    if alert.status == AlertStatus.FIRING:
        if incident is not None:
            Incident.objects.filter(pk=incident.pk).update(alert_count=F("alert_count") + 1)
            alert.action = AlertAction.JOINED
        else:
            service = alert.service or (
                integration.default_service.name if integration.default_service else ""
            )
            incident = incident_declare(
                actor=None,
                title=alert.title,
                severity=alert.severity,
                summary=alert.description,
                services=[service] if service else [],
                source=Source.MONITORING,
                detected_at=_detected_at(alert),
                severity_reasons=alert.severity_reasons,
            )
            Incident.objects.filter(pk=incident.pk).update(alert_count=1)
            group.incident = incident
            group.save(update_fields=["incident"])
            _note(incident, alert, f"{label} alert firing: {alert.title}")
            alert.action = AlertAction.OPENED
    elif incident is None:
        alert.action = AlertAction.IGNORED
    elif alert.status == AlertStatus.RESOLVED:
        _note(incident, alert, f"{label} says the alert cleared: {alert.title}")
        alert.action = AlertAction.NOTED
        if integration.auto_resolve:
            incident_resolve(
                incident=incident,
                actor=None,
                root_cause=f"Resolved automatically: the alert cleared in {label}.",
                resolution=f"{alert.title} returned to normal.",
            )
            alert.action = AlertAction.RESOLVED
    else:  # acknowledged at the source
        _note(incident, alert, f"{label} acknowledged: {alert.title}")
        alert.action = AlertAction.NOTED
        if integration.auto_acknowledge and incident.acknowledged_at is None:
            incident_acknowledge(incident=incident, actor=None)
            alert.action = AlertAction.ACKNOWLEDGED
    alert.incident = incident
    alert.save(update_fields=["action", "incident"])
    return alert


def ingest(*, integration: Integration, kind: str, alerts: list[ParsedAlert]) -> list[AlertOutcome]:
    """Store and route parsed alerts; replaying the same payload changes nothing.

    An alert stored earlier but never routed (the process died in between)
    is routed when its notification is delivered again.

    The parsers fit every field to its column (``ingest.types.check_alert``);
    should the database still refuse one alert's values, that alert alone is
    answered ``not_stored`` and logged, never the batch: a 5xx makes the
    sender re-send the whole batch, for ever.
    """
    outcomes = []
    for parsed in alerts:
        ensure_keys(parsed)
        try:
            alert, created = _store(integration, kind, parsed)
        except (DataError, UnicodeEncodeError):
            log.exception("integration %s: an alert could not be stored", integration.pk)
            outcomes.append(
                AlertOutcome(parsed.fingerprint[:128], parsed.status, NOT_STORED, None, False)
            )
            continue
        duplicate = not created and alert.action != AlertAction.PENDING
        if not duplicate:
            try:
                alert = _route(integration, alert)
            except (DomainError, DataError) as exc:
                # The incident moved on meanwhile (e.g. someone resolved it by
                # hand), or a value could not be stored on it: the alert stays
                # stored, marked as not acted upon.
                if isinstance(exc, DataError):
                    log.exception("integration %s: an alert could not be routed", integration.pk)
                Alert.objects.filter(pk=alert.pk).update(action=AlertAction.IGNORED)
                alert.action = AlertAction.IGNORED
        # Routed alerts carry their incident already; only replays load it.
        ref = alert.incident.ref if alert.incident_id else None
        outcomes.append(
            AlertOutcome(
                alert.fingerprint, alert.status, alert.action, ref, duplicate, alert.severity
            )
        )
    if alerts:
        Integration.objects.filter(pk=integration.pk).update(last_alert_at=clock.now())
    return outcomes
