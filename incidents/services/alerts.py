"""Alerts from monitoring tools: ``alert_record`` stores every alert of a
batch, then opens, joins, acknowledges or resolves incidents by fingerprint
(the parsing of each tool's payload is in ingest/).

Ingestion runs at the speed of the database. In a storm, firing alerts of
fingerprints whose incident is open are written, joined and counted by one
statement (``alert_sql.join_open``): a batch of them, or a single repeat,
costs one query whatever its size. The rest (an alert that opens an
incident, clears or acknowledges one) is written in one INSERT and routed
under its groups' locks. Those statements are SQL (``alert_sql``): on this
path the ORM's query building cost more than the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import DataError, connection, transaction

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
from .alert_sql import (
    Group,
    count_alerts,
    insert_new,
    join_open,
    lock_groups,
)
from .incidents import incident_acknowledge, incident_declare, incident_resolve
from .integrations import integration_by_token_hash

log = logging.getLogger(__name__)

# Sender clocks drift; a start time further ahead than this is replaced by "now".
MAX_FUTURE_SECONDS = 300
# Outcome of an alert the database would not hold (see alert_record()).
NOT_STORED = "not_stored"
# ``Integration.last_alert_at`` says whether a tool still sends; to the
# minute is precise enough, and writing it on every request would make every
# request of a storm update the same row.
LAST_ALERT_PRECISION = timedelta(minutes=1)
KINDS = frozenset(IntegrationKind.values)


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

    ``integration`` may be one the process read a few seconds ago
    (``integrations.integration_sender``): step 2 checks its token and
    ``enabled`` in its own statement, and step 3 reads it again first,
    raising ``SenderGone`` when it is disabled or its token has changed.

    1. Build the rows: a key for each alert and its suggested severity.
    2. Firing alerts whose fingerprint's incident is open join it: one
       statement writes them, counts them on it and skips replays.
    3. The rest, in one transaction: lock the groups of their fingerprints
       and the groups' incidents (in order, so two batches never deadlock
       and two alerts of one fingerprint never open two incidents); decide
       what needs only the alert's own row (join, ignore); write them in one
       ``INSERT … ON CONFLICT DO NOTHING``, which says which are new; route
       the others one by one, in order: open an incident, note the alert on
       the timeline, resolve or acknowledge where the integration says so;
       count the incidents' new alerts in one UPDATE.
    4. Note when the integration last sent.

    The parsers fit every field to its column (``ingest.types.check_alert``);
    should the database still refuse one alert's values, what step 2 did not
    store is written again one alert at a time, and that alert alone is
    answered ``not_stored`` and logged, never the batch: a 5xx makes the
    sender re-send the whole batch, for ever.
    """
    if kind not in KINDS:
        raise DomainError(f"Unknown alert kind {kind!r}.", field="kind")
    if not alerts:
        return []
    now = clock.now()
    outcomes = _record(integration, kind, [_ensure_keys(parsed) for parsed in alerts], now)
    if any(o.action != NOT_STORED for o in outcomes):
        _note_last_alert(integration, now)
    return outcomes


class SenderGone(DomainError):
    """The integration a webhook kept was disabled, or its token changed,
    since it was read: the request is answered as for an unknown token."""


def _gone():
    raise SenderGone("No enabled integration has this token.", field="token")


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


def _outcome(alert: Alert, ref: str | None, *, duplicate: bool) -> AlertOutcome:
    return AlertOutcome(
        alert.fingerprint, alert.status, alert.action, ref, duplicate, alert.severity
    )


def _record(
    integration: Integration, kind: str, alerts: list[ParsedAlert], now: datetime
) -> list[AlertOutcome]:
    rows = [_row(integration, kind, alert, now) for alert in alerts]
    sent: dict[str, ParsedAlert] = {}  # occurrence key -> the batch's first alert with it
    for row, alert in zip(rows, alerts, strict=True):
        sent.setdefault(row.occurrence_key, alert)
    done: dict[str, AlertOutcome] = {}
    try:
        _store(integration, kind, rows, sent, now, done)
    except (DataError, UnicodeEncodeError):
        # Written by none of the statements that failed (each is atomic); what
        # is not done yet, again, one alert at a time.
        for key, alert in sent.items():
            if key not in done:
                done[key] = _alone(integration, kind, alert, now)
    outcomes, seen = [], set()
    for row in rows:
        outcome = done[row.occurrence_key]
        if row.occurrence_key in seen:
            outcome = replace(outcome, duplicate=True)
        seen.add(row.occurrence_key)
        outcomes.append(outcome)
    return outcomes


def _store(
    integration: Integration,
    kind: str,
    rows: list[Alert],
    sent: dict[str, ParsedAlert],
    now: datetime,
    done: dict[str, AlertOutcome],
) -> None:
    """Steps 2 and 3 for the first alert of each occurrence key, each
    outcome into ``done`` as soon as its statement has committed."""
    first: dict[str, Alert] = {}
    for row in rows:
        first.setdefault(row.occurrence_key, row)
    done.update(_join_open(integration, list(first.values())))
    rest = [key for key in first if key not in done]
    if rest:
        # Everything below acts on the integration as it is now.
        integration = integration_by_token_hash(integration.token_hash) or _gone()
        done.update(_locked(integration, [_row(integration, kind, sent[k], now) for k in rest]))


def _alone(integration: Integration, kind: str, alert: ParsedAlert, now: datetime) -> AlertOutcome:
    row = _row(integration, kind, alert, now)
    done: dict[str, AlertOutcome] = {}
    try:
        _store(integration, kind, [row], {row.occurrence_key: alert}, now, done)
    except (DataError, UnicodeEncodeError):
        log.exception("integration %s: an alert could not be stored", integration.pk)
        return AlertOutcome(alert.fingerprint[:128], alert.status, NOT_STORED, None, False)
    return done[row.occurrence_key]


def _join_open(integration: Integration, rows: list[Alert]) -> dict[str, AlertOutcome]:
    """Step 2: outcomes by occurrence key of the alerts that joined an open
    incident, and of replays of alerts already stored. A fingerprint with an
    alert that is not firing in this batch is left whole to step 3, which
    keeps the batch's order."""
    if connection.vendor != "postgresql":
        return {}
    mixed = {row.fingerprint for row in rows if row.status != AlertStatus.FIRING}
    firing = [row for row in rows if row.fingerprint not in mixed]
    if not firing:
        return {}
    # A statement that fails must leave an enclosing transaction usable;
    # in autocommit the statement is a transaction of its own.
    with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
        known = join_open(integration, firing)
    done: dict[str, AlertOutcome] = {}
    for row in firing:
        found = known.get(row.occurrence_key)
        if found is None or found.action == AlertAction.PENDING:
            # No open incident; or stored by an older release and never
            # routed: both are routed in step 3.
            continue
        if found.new:
            outcome = AlertOutcome(
                row.fingerprint, row.status, found.action, found.ref, False, row.severity
            )
        else:
            outcome = AlertOutcome(
                found.fingerprint, found.status, found.action, found.ref, True, found.severity
            )
        done[row.occurrence_key] = outcome
    return done


def _locked(integration: Integration, rows: list[Alert]) -> dict[str, AlertOutcome]:
    """Step 3, for alerts of distinct occurrence keys."""
    fingerprints = sorted({row.fingerprint for row in rows})
    firing = {row.fingerprint for row in rows if row.status == AlertStatus.FIRING}
    with transaction.atomic():
        groups = lock_groups(integration.pk, fingerprints)
        missing = sorted(firing - groups.keys())
        if not missing:
            return _Batch(integration, groups).write(rows)
    # A fingerprint seen for the first time: its group row is created first,
    # committed on its own (an empty group is harmless), and the locks are then
    # taken again in one ordered statement. Taking a new row's lock while
    # holding others could deadlock with a batch that holds it.
    AlertGroupKey.objects.bulk_create(
        [AlertGroupKey(integration=integration, fingerprint=f) for f in missing],
        ignore_conflicts=True,
    )
    with transaction.atomic():
        groups = lock_groups(integration.pk, fingerprints)
        return _Batch(integration, groups).write(rows)


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
    """Step 3 of ``alert_record`` for alerts of distinct occurrence keys,
    under their groups' locks."""

    integration: Integration
    groups: dict[str, Group]
    counts: Counter = field(default_factory=Counter)  # incident id -> its new alerts
    joined: dict[int, list[int]] = field(default_factory=dict)  # incident id -> alert ids
    ignored: list[int] = field(default_factory=list)  # alert ids
    refs: dict[int, str] = field(default_factory=dict)  # incident id -> reference

    def __post_init__(self) -> None:
        self.refs = {g.incident_id: g.ref for g in self.groups.values() if g.ref is not None}

    def write(self, rows: list[Alert]) -> dict[str, AlertOutcome]:
        waiting: set[str] = set()  # fingerprints with an alert to route one by one
        for row in rows:
            # Once one alert of a fingerprint waits, the later ones wait too:
            # the waiting one may open or close the incident they would join.
            group = self.groups.get(row.fingerprint)
            decided = None if row.fingerprint in waiting else _decided(row, group)
            if decided is None:
                waiting.add(row.fingerprint)
            else:
                row.action, row.incident_id = decided
        new = insert_new(rows)
        stored = self._replayed(
            [row.occurrence_key for row in rows if row.occurrence_key not in new]
        )
        routed = set(new)  # the keys this call wrote or acted upon
        for row in rows:
            key = row.occurrence_key
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
        return {
            key: _outcome(alert, self.refs.get(alert.incident_id), duplicate=key not in routed)
            for key, alert in stored.items()
        }

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
        count_alerts(self.counts)

    # --- routing one alert (step 5) ------------------------------------------

    def _route(self, alert: Alert) -> None:
        """What needs only the alert's own row is left for ``_write_later``;
        the rest runs in a savepoint: should a rule refuse it (a severity
        without its policy) or a value not fit on the incident, the alert
        stays stored, marked as not acted upon."""
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
        alert.action, alert.incident = action, incident
        if incident is not None:
            self.refs[incident.pk] = incident.ref
            if group is not None:
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
