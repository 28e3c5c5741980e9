"""Notification channels, the outbox of deliveries and recorded SLA breaches."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from .deadlines import Deadline
from .incident import Incident, TimelineEvent


def _webhook_secret() -> str:
    return secrets.token_hex(32)


class ChannelKind(models.TextChoices):
    SLACK = "slack", "Slack incoming webhook"
    EMAIL = "email", "Email"
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
    WEBHOOK = "webhook", "Webhook (HMAC-SHA256 signed)"


class Channel(models.Model):
    """Where notifications go. ``target`` is the Slack webhook URL, the email
    address, the PagerDuty routing key or the webhook URL; ``severities`` is
    the list of severities it receives (P3 on an email channel arrives as
    the daily digest)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=ChannelKind.choices)
    target = models.CharField(max_length=1000)
    severities = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # HMAC key for webhook channels; shown to managers so receivers can verify.
    secret = models.CharField(max_length=64, default=_webhook_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a delivery failed permanently (dead webhook, bad routing key).
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class MessageKind(models.TextChoices):
    INITIAL = "initial", "Initial alert"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    UPDATE = "update", "Status update"
    RESOLVED = "resolved", "Resolution notice"
    REOPENED = "reopened", "Reopened"
    ESCALATION = "escalation", "Escalation page"
    SLA_BREACH = "sla_breach", "SLA breach"
    UPDATE_DUE = "update_due", "Status update reminder"
    DIGEST = "digest", "Daily digest"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (permanent)"
    DIGEST = "digest", "Waiting for the daily digest"
    DIGESTED = "digested", "Sent in a digest"
    SUPPRESSED = "suppressed", "Suppressed (cap reached)"


UNDELIVERED = (NotificationStatus.PENDING, NotificationStatus.SENDING)


class Notification(models.Model):
    """One message to one destination: an outbox row.

    Written in the transaction of the change that causes it and delivered by
    a task after commit. ``idempotency_key`` makes "one message per event and
    destination" a database rule; it also travels with the message
    (PagerDuty's ``dedup_key`` is the incident reference; the webhook's
    delivery id) so a receiver can drop the rare repeat after a crash.
    """

    idempotency_key = models.CharField(max_length=200, unique=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    # Set when a person is paged directly through one of their contact methods.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    transport = models.CharField(max_length=12, choices=ChannelKind.choices)
    target = models.CharField(max_length=1000)
    message_kind = models.CharField(max_length=16, choices=MessageKind.choices)
    # A snapshot of what the message says, taken when it was written.
    context = models.JSONField(default=dict)
    status = models.CharField(
        max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    # While SENDING: when the claim lapses and the relay may try again (the
    # worker may have died mid-delivery).
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The relay and the watchdog: undelivered rows by next attempt.
            models.Index(
                fields=["next_attempt_at"],
                name="notification_undelivered",
                condition=Q(status__in=["pending", "sending"]),
            ),
            # Incident page: its deliveries, newest first.
            models.Index(fields=["incident", "-created_at"], name="notification_incident"),
            # The digest: rows waiting for it.
            models.Index(
                fields=["created_at"], name="notification_digest", condition=Q(status="digest")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_kind} via {self.transport} ({self.status})"


class SlaBreach(models.Model):
    """A promise of the guide that was missed: which SLA and by how long."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sla_breaches")
    deadline = models.OneToOneField(Deadline, on_delete=models.CASCADE, related_name="breach")
    kind = models.CharField(max_length=16)
    severity = models.CharField(max_length=2)
    target_seconds = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField(help_text="When the engine noticed the breach.")
    # When the promise was finally kept (acknowledged, resolved, update posted).
    met_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name = "SLA breach"

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} breached (due {self.due_at:%Y-%m-%d %H:%M})"

    @property
    def late_by_seconds(self) -> int | None:
        """How late the promise was kept; None while it still is not."""
        if self.met_at is None:
            return None
        return int((self.met_at - self.due_at).total_seconds())
