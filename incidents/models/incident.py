"""Incidents, the services they affect, roles, the timeline and status updates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .. import clock
from ..people import display_name, person_of
from .severity import Severity


class Status(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
OPEN_STATUS_CHOICES = [(s.value, s.label) for s in OPEN_STATUSES]


class Source(models.TextChoices):
    MONITORING = "monitoring", "Monitoring alert"
    HEALTH_CHECK = "health_check", "Health check"
    ANOMALY = "anomaly", "Anomaly detection"
    USER_REPORT = "user_report", "User report"
    SUPPORT_TICKET = "support_ticket", "Support ticket"
    TEAM_MEMBER = "team_member", "Team member"
    DRILL = "drill", "Drill"


class Service(models.Model):
    """A service an incident can affect ("api", "database", "web")."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferenceCounter(models.Model):
    """Per-day counter behind ``INC-YYYYMMDD-NNN``; bumped with an upsert."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}: {self.last} incident(s)"


class IncidentQuerySet(models.QuerySet):
    def with_people(self) -> IncidentQuerySet:
        """Who holds each role now, in one query for all the incidents:
        ``commander``, ``communications_lead`` and ``responders`` read it."""
        return self.prefetch_related(
            models.Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(relieved_at__isnull=True).select_related(
                    "user"
                ),
                to_attr="active_assignments",
            )
        )


class Incident(models.Model):
    ref = models.CharField("reference", max_length=32, unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="incidents")
    severity = models.CharField(max_length=2, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.TEAM_MEMBER)
    is_drill = models.BooleanField(default=False)
    customer_impacting = models.BooleanField(default=False)
    escalation_level = models.PositiveSmallIntegerField(default=1)
    # 0 = business escalation not started (it starts when the incident is
    # customer-impacting, or by hand).
    business_escalation_level = models.PositiveSmallIntegerField(default=0)

    detected_at = models.DateTimeField()
    declared_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    identified_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    root_cause = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    false_positive = models.BooleanField(default=False)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    alert_count = models.PositiveIntegerField(default=0)

    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-detected_at"]
        permissions = [("respond_incident", "Can act on incidents (responder)")]
        indexes = [
            # The board: open incidents by severity, oldest first.
            models.Index(
                fields=["severity", "detected_at"],
                name="incident_open_board",
                condition=~Q(status="resolved"),
            ),
            # API filters and metrics by detection time.
            models.Index(fields=["detected_at"], name="incident_detected"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", kwargs={"ref": self.ref})

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def _active(self, role: str) -> list[RoleAssignment]:
        # Works from the prefetch of ``with_people()`` or falls back to a query.
        assignments = getattr(self, "active_assignments", None)
        if assignments is None:
            assignments = list(self.role_assignments.filter(relieved_at__isnull=True))
        return [a for a in assignments if a.role == role]

    @property
    def commander(self):
        found = self._active(Role.COMMANDER)
        return found[0].user if found else None

    @property
    def communications_lead(self):
        found = self._active(Role.COMMUNICATIONS_LEAD)
        return found[0].user if found else None

    @property
    def responders(self) -> list:
        return [a.user for a in self._active(Role.RESPONDER)]

    @property
    def duration(self):
        end = self.resolved_at or clock.now()
        return end - self.detected_at


class Role(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    COMMUNICATIONS_LEAD = "communications_lead", "Communications lead"
    RESPONDER = "responder", "Technical responder"


SINGLE_ROLES = (Role.COMMANDER, Role.COMMUNICATIONS_LEAD)


class RoleAssignment(models.Model):
    """Who held which role when. A hand-over relieves one row and adds another."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    relieved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            # One commander and one communications lead at a time.
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=Q(
                    relieved_at__isnull=True, role__in=["commander", "communications_lead"]
                ),
                name="one_active_single_role",
            ),
            # A person is a responder once, not twice.
            models.UniqueConstraint(
                fields=["incident", "role", "user"],
                condition=Q(relieved_at__isnull=True),
                name="one_active_assignment_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"


class EventKind(models.TextChoices):
    DECLARED = "declared", "Declared"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    STATUS_CHANGED = "status_changed", "Status changed"
    SEVERITY_CHANGED = "severity_changed", "Severity changed"
    ROLE_ASSIGNED = "role_assigned", "Role assigned"
    ROLE_RELIEVED = "role_relieved", "Role relieved"
    UPDATE_POSTED = "update_posted", "Update posted"
    FIELDS_CHANGED = "fields_changed", "Details edited"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    ESCALATED = "escalated", "Escalated"
    ALERT_RECEIVED = "alert_received", "Alert received"
    NOTIFICATION = "notification", "Notification"
    SLA_BREACHED = "sla_breached", "SLA breached"
    PUBLISHED = "published", "Published on the status page"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} is append-only: rows are never updated.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} is append-only: rows are never deleted.")


class TimelineEvent(models.Model):
    """The single, append-only record of what happened to an incident."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    # PROTECT: deleting a person must not rewrite history into "the system
    # did it"; deactivate people instead.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    message = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # Incident page: newest events of one incident first.
            models.Index(fields=["incident", "-at"], name="timeline_incident_at"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The timeline is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The timeline is append-only: events are never deleted.")

    @classmethod
    def record(
        cls,
        incident: Incident,
        kind: str,
        actor,
        *,
        at,
        message: str = "",
        before: dict | None = None,
        after: dict | None = None,
        detail: dict | None = None,
    ) -> TimelineEvent:
        """Append one event; an anonymous or missing actor reads as TreeBeard."""
        return cls.objects.create(
            incident=incident,
            kind=kind,
            actor=person_of(actor),
            at=at,
            message=message,
            before=before,
            after=after,
            detail=detail or {},
        )

    @property
    def actor_name(self) -> str:
        if self.actor is None:
            return "TreeBeard"
        return display_name(self.actor)


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal"
    PUBLIC = "public", "Public"


class StatusUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    message = models.TextField()
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [
            # Status page: latest public update per incident.
            models.Index(fields=["incident", "visibility", "-posted_at"], name="update_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status} update"
