"""Alert ingestion: integrations (the tools that send alerts) and the alerts they sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .incident import Incident, Service
from .severity import Severity


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana alerting"
    DATADOG = "datadog", "Datadog"
    SENTRY = "sentry", "Sentry"
    GENERIC = "generic", "Generic JSON"
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"


class Integration(models.Model):
    """A monitoring tool that sends alerts to a secret URL (or routing key)."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=IntegrationKind.choices)
    token_prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    default_service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Tool severity label → P0..P3, e.g. {"critical": "P0", "page": "P1"}.',
    )
    auto_acknowledge = models.BooleanField(
        default=True, help_text="Acknowledge the incident when the tool sends an acknowledgement."
    )
    auto_resolve = models.BooleanField(
        default=True, help_text="Resolve the incident when the tool says the alert cleared."
    )
    enabled = models.BooleanField(default=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=1200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_alert_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


class AlertAction(models.TextChoices):
    OPENED = "opened", "Opened an incident"
    JOINED = "joined", "Joined an open incident"
    RESOLVED = "resolved", "Resolved the incident"
    ACKNOWLEDGED = "acknowledged", "Acknowledged the incident"
    NOTED = "noted", "Noted on the incident"
    IGNORED = "ignored", "No open incident"
    PENDING = "pending", "Not processed yet"


class Alert(models.Model):
    """One alert event as received, raw and parsed. Never deleted by the app."""

    # No index of their own: ``alert_occurrence_once`` starts with the
    # integration and ``alert_incident`` with the incident, and every index
    # is written again by each of a storm's inserts.
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    kind = models.CharField(max_length=16, choices=IntegrationKind.choices)
    fingerprint = models.CharField(max_length=128)
    occurrence_key = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source_severity = models.CharField(max_length=40, blank=True)
    severity = models.CharField(max_length=2, choices=Severity.choices, blank=True)
    severity_reasons = models.JSONField(default=list, blank=True)
    service = models.CharField(max_length=100, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    values = models.JSONField(default=dict, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    raw = models.JSONField(default=dict)
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        db_index=False,
    )
    action = models.CharField(
        max_length=16, choices=AlertAction.choices, default=AlertAction.PENDING
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Replaying the same notification is recognised and changes nothing.
            models.UniqueConstraint(
                fields=["integration", "occurrence_key"], name="alert_occurrence_once"
            ),
        ]
        indexes = [
            # Incident page: its alerts, newest first.
            models.Index(fields=["incident", "-received_at"], name="alert_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}: {self.title}"


class AlertGroupKey(models.Model):
    """Where alerts with one fingerprint go: the open incident they join.

    Alerts that may open, resolve or acknowledge an incident lock this row
    (upsert, then SELECT … FOR UPDATE, ``alert_sql.lock_groups``) so two
    concurrent alerts with one fingerprint can never open two incidents. A
    firing alert joining an open incident locks only that incident
    (``alert_sql.join_open``), which is enough: it opens nothing.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=128)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "fingerprint"], name="alert_group_key"),
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint} → {self.incident_id or 'no open incident'}"
