"""The public status page's data: components, public incidents and their
updates, scheduled maintenance, subscribers, and the page's version.

Nothing here holds anything internal: a public incident is a copy of what
the communications lead chose to say, never a view of the internal incident.
The public pages and JSON read only these tables (statuspage/render.py).

Public objects are addressed by ``code``, a 12-character id like
Statuspage's ("b13yz5g2cw10"), in the v1 management API and the v2 JSON alike.
"""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.models import Incident

ALPHABET = string.ascii_lowercase + string.digits


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


def new_secret() -> str:
    return secrets.token_hex(32)


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class PublicStatus(models.TextChoices):
    """A public incident's status (Statuspage's, the guide's stages)."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"


UNRESOLVED = (PublicStatus.INVESTIGATING, PublicStatus.IDENTIFIED, PublicStatus.MONITORING)


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


class ComponentGroup(models.Model):
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    status = models.CharField(
        max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    position = models.PositiveIntegerField(default=0)
    showcase = models.BooleanField(default=True)
    only_show_if_degraded = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ComponentStatusChange(models.Model):
    """Every change of a component's status, kept for the uptime bars."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="changes")
    old_status = models.CharField(max_length=24, choices=ComponentStatus.choices, blank=True)
    new_status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    at = models.DateTimeField()
    # What moved it: a public incident's update, a maintenance, or by hand.
    incident = models.ForeignKey(
        "PublicIncident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    maintenance = models.ForeignKey(
        "Maintenance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # Uptime: a component's changes in a window, in order.
            models.Index(fields=["component", "at"], name="component_change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.component_id}: {self.old_status} → {self.new_status}"


class PublicIncident(models.Model):
    """What the public sees of an incident, from the moment it is published."""

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="public_incident"
    )
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=PublicStatus.choices, default=PublicStatus.INVESTIGATING
    )
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.MINOR)
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    started_at = models.DateTimeField()
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The page: unresolved incidents first, then history by date.
            models.Index(fields=["status", "-started_at"], name="public_incident_status"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in UNRESOLVED


class Maintenance(models.Model):
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=MaintenanceStatus.choices, default=MaintenanceStatus.SCHEDULED
    )
    impact = models.CharField(max_length=12, default="maintenance")
    scheduled_for = models.DateTimeField()
    scheduled_until = models.DateTimeField()
    components = models.ManyToManyField(Component, blank=True, related_name="maintenances")
    # Moved on by the engine at its times (in progress at the start,
    # completed at the end); otherwise by hand.
    auto_transition = models.BooleanField(default=True)
    # Whether its minutes count against the components' uptime.
    counts_as_downtime = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["scheduled_for", "id"]
        indexes = [models.Index(fields=["status", "scheduled_for"], name="maintenance_status")]

    def __str__(self) -> str:
        return self.name


class PublicUpdate(models.Model):
    """One public update of an incident or a maintenance (Statuspage's
    ``incident_updates``). ``affected_components`` is the snapshot Statuspage
    shows: [{"code", "name", "old_status", "new_status"}]."""

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    incident = models.ForeignKey(
        PublicIncident, null=True, blank=True, on_delete=models.CASCADE, related_name="updates"
    )
    maintenance = models.ForeignKey(
        Maintenance, null=True, blank=True, on_delete=models.CASCADE, related_name="updates"
    )
    status = models.CharField(max_length=16)
    body = models.TextField()
    affected_components = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    display_at = models.DateTimeField()
    # The internal update it came from, if any (never shown publicly).
    source_update_id = models.BigIntegerField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-display_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False) ^ Q(maintenance__isnull=False),
                name="public_update_of_one",
            )
        ]

    def __str__(self) -> str:
        return f"{self.status}: {self.body[:40]}"


class SubscriberKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class Subscriber(models.Model):
    """Someone told of public changes: by email (after confirming the address)
    or by a signed webhook. No components and no groups means everything."""

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    kind = models.CharField(max_length=8, choices=SubscriberKind.choices)
    address = models.EmailField(max_length=254, blank=True)
    endpoint = models.URLField(max_length=1000, blank=True)
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    groups = models.ManyToManyField(ComponentGroup, blank=True, related_name="subscribers")
    # HMAC key of webhook deliveries; also keys the email links' tokens.
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["address"], condition=~Q(address=""), name="subscriber_one_address"
            ),
            models.UniqueConstraint(
                fields=["endpoint"], condition=~Q(endpoint=""), name="subscriber_one_endpoint"
            ),
        ]

    def __str__(self) -> str:
        return self.address or self.endpoint

    @property
    def destination(self) -> str:
        return self.address or self.endpoint


class SubscriberDelivery(models.Model):
    """Which outbox row told which subscriber: the delivery log managers read
    (its status, attempts and last error are the outbox row's)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    notification = models.OneToOneField(
        "incidents.Notification", on_delete=models.CASCADE, related_name="+"
    )
    event = models.CharField(max_length=40)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscriber}"


class PageState(models.Model):
    """One row: the version of everything public. Every public change bumps
    it in its own transaction; the pre-rendered copies are keyed by it."""

    version = models.BigIntegerField(default=1)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"status page v{self.version}"
