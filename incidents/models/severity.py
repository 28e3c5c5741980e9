"""The guide's severities as data: P0..P3 and the policy of each (targets, channels)."""

from __future__ import annotations

from django.db import models


class Severity(models.TextChoices):
    P0 = "P0", "P0 Critical"
    P1 = "P1", "P1 High"
    P2 = "P2", "P2 Medium"
    P3 = "P3", "P3 Low"


class OncallInvolvement(models.TextChoices):
    PAGED = "paged", "Paged (required)"
    NOTIFIED = "notified", "Notified"
    INFORMED = "informed", "Informed"
    NOT_REQUIRED = "not_required", "Not required"


class NotifyChannel(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty"
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"
    EMAIL_DIGEST = "email_digest", "Email digest"


class SeverityPolicy(models.Model):
    """One row per guide severity; managers edit the targets in the admin.

    Durations are seconds. ``ack_next_business_day`` replaces a fixed
    acknowledge target for P3 ("next business day").
    """

    severity = models.CharField(max_length=2, choices=Severity.choices, unique=True)
    name = models.CharField(max_length=40)
    response_time = models.CharField(
        max_length=80, help_text="The guide's wording, e.g. 'Immediate (< 5 minutes)'."
    )
    ack_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    ack_next_business_day = models.BooleanField(default=False)
    resolve_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    update_cadence_seconds = models.PositiveIntegerField(null=True, blank=True)
    notify_channels = models.JSONField(default=list, blank=True)
    oncall = models.CharField(max_length=20, choices=OncallInvolvement.choices)
    oncall_required = models.BooleanField(default=False)
    criteria = models.TextField(blank=True)
    examples = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["severity"]
        verbose_name = "severity policy"
        verbose_name_plural = "severity policies"

    def __str__(self) -> str:
        return f"{self.severity} {self.name}"
