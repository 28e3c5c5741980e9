"""On-call: schedules, rotations, overrides, contact methods and escalation
policies (the guide's "Escalation Paths" as data).

Data only: the rules for changing them (time zones, windows, who pages whom)
are the services' (``incidents.services.schedules`` and ``policies``), which
every entry point calls."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from .incident import Incident


def _feed_token() -> str:
    return secrets.token_urlsafe(24)


class Schedule(models.Model):
    """Who is on call for a role ("On-call engineer", "Support lead") over time.

    Rotations are layers: where several have someone on call, the one with the
    highest ``priority`` wins; an override beats every rotation.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # Secret part of the subscribable iCalendar URL (calendar apps cannot
    # send an Authorization header).
    feed_token = models.CharField(max_length=64, unique=True, default=_feed_token, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RotationInterval(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    CUSTOM = "custom", "Custom (hours)"


class Rotation(models.Model):
    """Participants take turns; a hand-off happens every interval from ``starts_at``.

    Daily and weekly hand-offs keep the wall-clock time in the schedule's
    time zone across daylight-saving changes; custom intervals are fixed hours.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(
        default=0, help_text="Where rotations overlap, the highest priority wins."
    )
    starts_at = models.DateTimeField(help_text="The first hand-off.")
    ends_at = models.DateTimeField(null=True, blank=True)
    interval = models.CharField(
        max_length=10, choices=RotationInterval.choices, default=RotationInterval.WEEKLY
    )
    shift_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Length of a shift for custom rotations."
    )

    class Meta:
        ordering = ["schedule", "-priority", "id"]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rotation", "position", "id"]

    def __str__(self) -> str:
        return f"{self.rotation} #{self.position}: {self.user}"


# Far enough inside datetime's range that every time zone can show the time:
# psycopg cannot even load a row past year 9999 in UTC, and a time a day off
# either end overflows when shown east or west of UTC.
SHOWABLE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))


class ShowableOverrides(models.Manager):
    """Leaves out rows no page could read or show (written around the
    validation, e.g. before migration 0005 or by raw SQL), so one such row
    cannot turn every on-call page into a 500. The historical model in
    migrations uses a plain manager and still sees them, to clean them."""

    def get_queryset(self):
        low, high = SHOWABLE
        return super().get_queryset().filter(starts_at__gte=low, ends_at__lte=high)


class Override(models.Model):
    """Someone covers a window of a schedule (swap, holiday cover)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ShowableOverrides()

    class Meta:
        ordering = ["schedule", "starts_at"]
        indexes = [
            # who_is_on_call: overrides of a schedule covering a moment.
            models.Index(fields=["schedule", "starts_at", "ends_at"], name="override_window"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} covers {self.schedule} {self.starts_at:%Y-%m-%d %H:%M}"


class ContactKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack member ID or handle"
    PAGERDUTY = "pagerduty", "PagerDuty routing key"


class ContactMethod(models.Model):
    """How to reach a person when they are paged."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=12, choices=ContactKind.choices)
    value = models.CharField(max_length=254)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "value"], name="contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {self.value}"


class EscalationPath(models.TextChoices):
    TECHNICAL = "technical", "Technical"
    BUSINESS = "business", "Business"


class EscalationPolicy(models.Model):
    """An ordered chain of levels. ``auto_severities`` escalate by the clock;
    the others can still be escalated by hand."""

    name = models.CharField(max_length=100, unique=True)
    path = models.CharField(max_length=12, choices=EscalationPath.choices, unique=True)
    auto_severities = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name


class PagingLevel(models.Model):
    """What a level of an escalation path is: its number and name, the
    minute after detection it starts, and who it pages (a schedule's on-call
    person, a user or a group). A policy's levels and the copies an incident
    keeps of them (``IncidentEscalationStep``) are both this."""

    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    starts_after_minutes = models.PositiveIntegerField(default=0)
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class EscalationLevel(PagingLevel):
    """One level of an escalation policy (``PagingLevel``)."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    critical_only = models.BooleanField(
        default=False, help_text="Only P0 incidents reach this level (the guide's L4)."
    )

    class Meta:
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="escalation_level_once"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} L{self.level} {self.name}"


class IncidentEscalationStep(PagingLevel):
    """A level of a policy as copied onto an incident when it was declared,
    so editing a policy never changes an escalation already running."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="escalation_steps"
    )
    path = models.CharField(max_length=12, choices=EscalationPath.choices)
    critical_only = models.BooleanField(default=False)
    # The policy's severities that escalate by the clock, as they were at
    # declaration: a severity change re-plans by these, not by the policy.
    auto_severities = models.JSONField(default=list, blank=True)
    reached_at = models.DateTimeField(null=True, blank=True)
    # Usernames paged when the level was reached.
    notified = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["incident", "path", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "path", "level"], name="incident_escalation_step_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.path} L{self.level} {self.name}"
