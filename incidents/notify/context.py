"""What a message says, captured when it is written.

The outbox stores this snapshot with each notification, so a delivery
retried an hour later still says what was true when the event happened.
Transports render the guide's templates from it (``messages.py``).
"""

from __future__ import annotations

from django.conf import settings

from ..models import Incident, SeverityPolicy
from ..people import display_name


def _name(user) -> str | None:
    if user is None:
        return None
    return display_name(user)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def incident_url(incident: Incident) -> str:
    return settings.SITE_URL + incident.get_absolute_url()


def incident_snapshot(incident: Incident, *, policy: SeverityPolicy | None = None) -> dict:
    """The incident's fields a message may show (JSON-safe)."""
    if policy is None:
        policy = SeverityPolicy.objects.filter(severity=incident.severity).first()
    cadence = policy.update_cadence_seconds if policy else None
    return {
        "ref": incident.ref,
        "title": incident.title,
        "severity": incident.severity,
        "severity_name": policy.name if policy else incident.severity,
        "status": incident.status,
        "status_display": incident.get_status_display(),
        "summary": incident.summary,
        "impact": incident.impact,
        "services": sorted(s.name for s in incident.services.all()),
        "source": incident.source,
        "is_drill": incident.is_drill,
        "customer_impacting": incident.customer_impacting,
        "escalation_level": incident.escalation_level,
        "business_escalation_level": incident.business_escalation_level,
        "detected_at": _iso(incident.detected_at),
        "declared_at": _iso(incident.declared_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "identified_at": _iso(incident.identified_at),
        "mitigated_at": _iso(incident.mitigated_at),
        "resolved_at": _iso(incident.resolved_at),
        "root_cause": incident.root_cause,
        "resolution": incident.resolution,
        "commander": _name(incident.commander),
        "communications_lead": _name(incident.communications_lead),
        "responders": [_name(u) for u in incident.responders],
        "update_cadence_minutes": cadence // 60 if cadence else None,
        "url": incident_url(incident),
    }
