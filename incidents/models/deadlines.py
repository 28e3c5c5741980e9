"""The guide's promises as rows with a due time (DESIGN.md "Time-driven rules")."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .. import clock
from .incident import Incident
from .severity import Severity


class DeadlineKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    UPDATE = "update", "Status update"
    RESOLVE = "resolve", "Resolve"
    ESCALATION = "escalation", "Escalation step"
    POSTMORTEM = "postmortem", "Post-mortem"
    ACTION_ITEM = "action_item", "Action item"

    @property
    def clock_label(self) -> str:
        """Its name on a ticking clock, where room is short ("Ack due in 3m")."""
        return CLOCK_LABELS.get(self, self.label)


CLOCK_LABELS = {
    DeadlineKind.ACKNOWLEDGE: "Ack",
    DeadlineKind.UPDATE: "Update",
    DeadlineKind.ESCALATION: "Escalation",
}


class DeadlineQuerySet(models.QuerySet):
    def pending(self) -> DeadlineQuerySet:
        """Neither met nor cancelled: the promise still stands (it may have fired)."""
        return self.filter(met_at__isnull=True, cancelled_at__isnull=True)

    def running(self) -> DeadlineQuerySet:
        """The clocks a page shows: pending, except a fired escalation step
        (it is done) and a fired update reminder (its successor is pending)."""
        return (
            self.pending()
            # Other apps' promises about their own rows (a post-mortem's) are
            # shown on their pages, not among the incident's clocks.
            .filter(subject="")
            .exclude(
                fired_at__isnull=False, kind__in=[DeadlineKind.ESCALATION, DeadlineKind.UPDATE]
            )
        )

    def due(self, now) -> DeadlineQuerySet:
        """Pending, not fired yet and due by ``now``: what the sweep claims,
        exactly the partial index ``deadline_pending_due``."""
        return self.pending().filter(fired_at__isnull=True, due_at__lte=now)


class Deadline(models.Model):
    """A promise of the guide with a due time (DESIGN.md "Time-driven rules").

    Created in the transaction of the change that causes it, closed by the
    change that satisfies it (``met_at``) or makes it moot (``cancelled_at``).
    ``severity`` and ``target_seconds`` record the policy in force when it was
    set, so metrics judge an incident by the rules of its time.
    """

    # Null for a promise about something other than an incident (another
    # app's row, named by ``subject``: "maintenance:4"); its handler is
    # registered by that app (engine/sla.py ``register``).
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    subject = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=DeadlineKind.choices)
    severity = models.CharField(max_length=2, choices=Severity.choices, blank=True)
    target_seconds = models.PositiveIntegerField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    # For escalation steps: which path ("technical" or "business").
    path = models.CharField(max_length=12, blank=True)
    starts_at = models.DateTimeField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep: pending deadlines by due time.
            models.Index(
                fields=["due_at"],
                name="deadline_pending_due",
                condition=Q(met_at__isnull=True, cancelled_at__isnull=True, fired_at__isnull=True),
            ),
            # Another app's promises about one of its rows (a maintenance's start).
            models.Index(fields=["subject"], name="deadline_subject", condition=~Q(subject="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    @property
    def breached(self) -> bool:
        if self.met_at is not None:
            return self.met_at > self.due_at
        if self.cancelled_at is not None:
            return False
        return clock.now() > self.due_at
