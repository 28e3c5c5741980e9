"""Alerts from monitoring tools: ``alert_record`` stores every alert of a
batch, then opens, joins, acknowledges or resolves incidents by fingerprint
(the parsing of each tool's payload is in ingest/).

Ingestion runs at the speed of the database. Alerts that join an open
incident (the storm case) are decided before they are written, the whole
batch is one INSERT and the incidents' alert counts move by one UPDATE: a
batch over fingerprints whose incidents are open costs three queries,
whatever its size. Those three statements (``alert_sql``) are written in
SQL: on this path the ORM's query building cost more than the database.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DataError, transaction

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
    IntegrationKind,
    Source,
    TimelineEvent,
)
from ..timebounds import typed_time_problem
from . import alert_sql
from .alert_sql import Group, IncidentMoved
from .incidents import incident_acknowledge, incident_declare, incident_resolve

log = logging.getLogger(__name__)

# Sender clocks drift; a start time further ahead than this is replaced by "now".
MAX_FUTURE_SECONDS = 300
# Outcome of an alert the database would not hold (see alert_record()).
NOT_STORED = "not_stored"
# ``Integration.last_alert_at`` says whether a tool still sends; to the
# minute is precise enough, and writing it on every request would make every
# request of a storm update the same row.
LAST_ALERT_PRECISION = timedelta(minutes=1)


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


def alert_record(
    *, integration: Integration, kind: str, alerts: Sequence[ParsedAlert]
) -> list[AlertOutcome]:
    """Store the alerts a tool sent and act on them; one outcome per alert,
    in order. Replaying the same payload changes nothing.

    1. Build the rows: a key for each alert and its suggested severity.
    2. In one transaction, lock the groups of the batch's fingerprints (one
       ``SELECT … FOR UPDATE``, in fingerprint order, so two batches never
       deadlock and two alerts of one fingerprint never open two incidents).
    3. Decide what can be decided before writing: a firing alert whose group
       has an open incident joins it; an alert that clears or acknowledges
       nothing is ignored.
    4. Write the batch in one ``INSERT … ON CONFLICT DO NOTHING``, which says
       which alerts are new: a replayed one is not written again.
    5. Route the rest one by one, in order: open an incident, note the alert
       on the timeline, resolve or acknowledge where the integration says so.
    6. Count the alerts of each incident in one UPDATE; note when the
       integration last sent.

    The parsers fit every field to its column (``ingest.types.check_alert``);
    should the database still refuse one alert's values, the batch is written
    again one alert at a time, and that alert alone is answered
    ``not_stored`` and logged, never the batch: a 5xx makes the sender
    re-send the whole batch, for ever.
    """
    if kind not in IntegrationKind.values:
        raise DomainError(f"Unknown alert kind {kind!r}.", field="kind")
    if not alerts:
        return []
    now = clock.now()
    alerts = [_ensure_keys(parsed) for parsed in alerts]
    try:
        outcomes = _record(integration, kind, alerts, now)
    except (DataError, UnicodeEncodeError):
        # Rolled back whole: written again one by one.
        outcomes = [_record_alone(integration, kind, alert, now) for alert in alerts]
    if any(o.action != NOT_STORED for o in outcomes):
        _note_last_alert(integration, now)
    return outcomes


# --- the rows ----------------------------------------------------------------


def _clip(value: str, length: int) -> str:
    return (value or "")[:length]


def _ensure_keys(parsed: ParsedAlert) -> ParsedAlert:
    """A PagerDuty trigger without dedup_key gets a fresh one (as PagerDuty does)."""
    if not parsed.fingerprint:
        parsed.fingerprint = uuid.uuid4().hex
    if not parsed.occurrence_key:
        parsed.occurrence_key = hashlib.sha256(
            f"{parsed.fingerprint}|{parsed.status}|{parsed.starts_at}|{parsed.ends_at}".encode()
        ).hexdigest()
    return parsed


def _row(integration: Integration, kind: str, parsed: ParsedAlert, now: datetime) -> Alert:
    severity, reasons = suggest_severity(parsed, integration.severity_mapping)
    return Alert(
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
        received_at=now,
        raw=parsed.raw or {},
    )


def _record_alone(
    integration: Integration, kind: str, alert: ParsedAlert, now: datetime
) -> AlertOutcome:
    try:
        return _record(integration, kind, [alert], now)[0]
    except (DataError, UnicodeEncodeError):
        log.exception("integration %s: an alert could not be stored", integration.pk)
        return AlertOutcome(alert.fingerprint[:128], alert.status, NOT_STORED, None, False)


# --- the batch ----------------------------------------------------------------


def _record(
    integration: Integration, kind: str, alerts: list[ParsedAlert], now: datetime
) -> list[AlertOutcome]:
    """Steps 2 to 6, on rows built afresh for each try (a try that rolled
    back leaves its marks on the rows it wrote)."""
    try:
        rows = [_row(integration, kind, alert, now) for alert in alerts]
        return _locked(integration, rows, careful=False)
    except IncidentMoved:
        rows = [_row(integration, kind, alert, now) for alert in alerts]
        return _locked(integration, rows, careful=True)


def _locked(integration: Integration, rows: list[Alert], *, careful: bool) -> list[AlertOutcome]:
    fingerprints = sorted({row.fingerprint for row in rows})
    firing = {row.fingerprint for row in rows if row.status == AlertStatus.FIRING}
    with transaction.atomic():
        groups = alert_sql.lock_groups(integration.pk, fingerprints, careful=careful)
        missing = sorted(firing - groups.keys())
        if not missing:
            return _Batch(integration, groups, careful=careful).write(rows)
    # A fingerprint seen for the first time: its group row is created first,
    # committed on its own (an empty group is harmless), and the locks are then
    # taken again in one ordered statement. Taking a new row's lock while
    # holding others could deadlock with a batch that holds it.
    AlertGroupKey.objects.bulk_create(
        [AlertGroupKey(integration=integration, fingerprint=f) for f in missing],
        ignore_conflicts=True,
    )
    with transaction.atomic():
        groups = alert_sql.lock_groups(integration.pk, fingerprints, careful=careful)
        return _Batch(integration, groups, careful=careful).write(rows)


def _decided(alert: Alert, group: Group | None) -> tuple[str, int | None] | None:
    """(action, incident id) for an alert that needs no other write than its
    own row, or None."""
    incident_id = group.open_incident_id if group is not None else None
    if alert.status == AlertStatus.FIRING and incident_id is not None:
        return AlertAction.JOINED, incident_id
    if alert.status != AlertStatus.FIRING and incident_id is None:
        return AlertAction.IGNORED, None
    return None


@dataclass
class _Batch:
    """Steps 3 to 6 of ``alert_record`` for one batch, under its groups' locks."""

    integration: Integration
    groups: dict[str, Group]
    careful: bool
    counts: Counter = field(default_factory=Counter)  # incident id -> its new alerts
    joined: dict[int, list[int]] = field(default_factory=dict)  # incident id -> alert ids
    ignored: list[int] = field(default_factory=list)  # alert ids
    acted: set[int] = field(default_factory=set)  # incidents this batch opened or changed
    refs: dict[int, str] = field(default_factory=dict)  # incident id -> reference

    def __post_init__(self) -> None:
        self.refs = {g.incident_id: g.ref for g in self.groups.values() if g.ref is not None}

    def write(self, rows: list[Alert]) -> list[AlertOutcome]:
        first = self._decide(rows)
        new = alert_sql.insert_new(list(first.values()))
        stored = self._replayed([key for key in first if key not in new])
        routed = set(new)  # the keys this call wrote or acted upon
        for key, row in first.items():
            if key in new:
                row.pk = new[key]
                stored[key] = row
            elif stored[key].action == AlertAction.PENDING:
                # Stored by an older release, which routed in a second
                # transaction and could die in between: routed now, once.
                routed.add(key)
            else:
                continue
            alert = stored[key]
            if alert.action == AlertAction.PENDING:
                self._route(alert)
            if alert.action in (AlertAction.JOINED, AlertAction.OPENED):
                self.counts[alert.incident_id] += 1
        self._write_later()
        outcomes, seen = [], set()
        for row in rows:
            key = row.occurrence_key
            outcomes.append(self._outcome(stored[key], key in seen or key not in routed))
            seen.add(key)
        return outcomes

    def _decide(self, rows: list[Alert]) -> dict[str, Alert]:
        """Step 3; the batch's first alert of each occurrence key."""
        first: dict[str, Alert] = {}
        waiting: set[str] = set()  # fingerprints with an alert to route one by one
        for row in rows:
            if row.occurrence_key in first:
                continue
            first[row.occurrence_key] = row
            # Once one alert of a fingerprint waits, the later ones wait too:
            # the waiting one may open or close the incident they would join.
            group = self.groups.get(row.fingerprint)
            decided = None if row.fingerprint in waiting else _decided(row, group)
            if decided is None:
                waiting.add(row.fingerprint)
            else:
                row.action, row.incident_id = decided
        return first

    def _replayed(self, keys: list[str]) -> dict[str, Alert]:
        if not keys:
            return {}
        stored = Alert.objects.select_related("incident").filter(
            integration=self.integration, occurrence_key__in=keys
        )
        self.refs.update((a.incident_id, a.incident.ref) for a in stored if a.incident_id)
        return {alert.occurrence_key: alert for alert in stored}

    def _write_later(self) -> None:
        """What the routed alerts still ask of the database, together."""
        for incident_id, ids in self.joined.items():
            Alert.objects.filter(pk__in=ids).update(action=AlertAction.JOINED, incident=incident_id)
        if self.ignored:
            Alert.objects.filter(pk__in=self.ignored).update(action=AlertAction.IGNORED)
        # Read before this transaction held their groups, the incidents the
        # alerts joined may have been resolved since; the careful way locked
        # them and needs no check.
        open_as_read = set() if self.careful else set(self.counts) - self.acted
        alert_sql.count_alerts(self.counts, open_as_read=open_as_read)

    def _outcome(self, alert: Alert, duplicate: bool) -> AlertOutcome:
        ref = self.refs[alert.incident_id] if alert.incident_id is not None else None
        return AlertOutcome(
            alert.fingerprint, alert.status, alert.action, ref, duplicate, alert.severity
        )

    # --- routing one alert (step 5) ------------------------------------------

    def _route(self, alert: Alert) -> None:
        """What needs only the alert's own row is left for ``_write_later``;
        the rest runs in a savepoint. Should the incident have moved on
        meanwhile (someone resolved it by hand) or a value not fit on it, the
        alert stays stored, marked as not acted upon."""
        group = self.groups.get(alert.fingerprint)
        decided = _decided(alert, group)
        if decided is not None:
            alert.action, alert.incident_id = decided
            if alert.action == AlertAction.JOINED:
                self.joined.setdefault(alert.incident_id, []).append(alert.pk)
            else:
                self.ignored.append(alert.pk)
            return
        try:
            with transaction.atomic():
                action, incident = _act(self.integration, alert, group)
                Alert.objects.filter(pk=alert.pk).update(action=action, incident=incident)
                if action == AlertAction.OPENED and group is not None:
                    AlertGroupKey.objects.filter(pk=group.pk).update(incident=incident)
        except (DomainError, DataError) as exc:
            if isinstance(exc, DataError):
                log.exception("integration %s: an alert could not be routed", self.integration.pk)
            action, incident = AlertAction.IGNORED, None
            self.ignored.append(alert.pk)
            if group is not None and group.incident_id is not None:
                group.point_at(Incident.objects.get(pk=group.incident_id))
        alert.action, alert.incident = action, incident
        if incident is not None:
            self.refs[incident.pk] = incident.ref
        if action in (AlertAction.OPENED, AlertAction.RESOLVED, AlertAction.ACKNOWLEDGED):
            self.acted.add(incident.pk)  # locked by this transaction since
        if group is not None and incident is not None:
            group.point_at(incident)  # its state now, for the batch's later alerts


def _act(integration: Integration, alert: Alert, group: Group | None) -> tuple[str, Incident]:
    """Open an incident for a firing alert; note a cleared or acknowledged one
    on its open incident, and resolve or acknowledge it where the integration
    says so. Returns (action, incident)."""
    label = integration.get_kind_display()
    if alert.status == AlertStatus.FIRING:
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
        _note(incident, alert, f"{label} alert firing: {alert.title}")
        return AlertAction.OPENED, incident
    incident = Incident.objects.get(pk=group.open_incident_id)
    if alert.status == AlertStatus.RESOLVED:
        _note(incident, alert, f"{label} says the alert cleared: {alert.title}")
        if integration.auto_resolve:
            resolved = incident_resolve(
                incident=incident,
                actor=None,
                root_cause=f"Resolved automatically: the alert cleared in {label}.",
                resolution=f"{alert.title} returned to normal.",
            )
            return AlertAction.RESOLVED, resolved
        return AlertAction.NOTED, incident
    _note(incident, alert, f"{label} acknowledged: {alert.title}")
    if integration.auto_acknowledge and incident.acknowledged_at is None:
        return AlertAction.ACKNOWLEDGED, incident_acknowledge(incident=incident, actor=None)
    return AlertAction.NOTED, incident


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


def _detected_at(alert: Alert) -> datetime:
    # A sender's start time that no person could type (Grafana's zero time
    # 0001-01-01, a year-9999 typo) is replaced by "now" rather than refused:
    # one odd timestamp must not lose the alert.
    now = clock.now()
    start = alert.starts_at
    if start is None or (start - now).total_seconds() > MAX_FUTURE_SECONDS:
        return now
    if typed_time_problem(start, allow_future=False, now=now):
        return now
    return min(start, now)


def _note_last_alert(integration: Integration, now: datetime) -> None:
    """``last_alert_at``, written at most once a ``LAST_ALERT_PRECISION``
    (the integration was just read, so knowing costs no query)."""
    last = integration.last_alert_at
    if last is not None and now - LAST_ALERT_PRECISION < last <= now:
        return
    Integration.objects.filter(pk=integration.pk).update(last_alert_at=now)
    integration.last_alert_at = now
